"""Is federated learning worth its energy here? The guide's §4.1 criteria, each with its reason.

For FL: sensitive or regulated data; large distributed data that is costly to
move; a compact model or partial updates; no real-time need.
Against: heterogeneous devices (stragglers); a large model; unstable or costly
links; a need for strict traceability or reproducibility.

The energy model compares FL communication plus client compute with moving
the raw data to a centre plus central compute (see transfer.py and links.py).
Compute uses joules per sample: measured (e.g. from a vatio run) or given;
when none is given, compute is left out of both sides and the comparison is
about bytes only, and the output says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from vatio.errors import InputError
from vatio.federated import links, transfer
from vatio.federated.sizes import human_bytes
from vatio.federated.transfer import Range

#: an update up to this size is "compact" (10 MB: 2.5M float32 parameters)
COMPACT_BYTES = 10e6
#: an update above this is "large" (100 MB: 25M float32 parameters)
LARGE_BYTES = 100e6
VERDICTS = ("recommended", "not recommended", "depends")


@dataclass(frozen=True)
class AdviceInputs:
    model_params: float
    clients: int
    data_per_client_bytes: float
    rounds: int
    link: str = "wired"
    sensitive: bool = False
    heterogeneous: bool = False
    realtime: bool = False
    traceability: bool = False
    unstable_link: bool = False
    bytes_per_param: float = 4.0
    compression: float = 1.0  # fraction of the update's bytes actually sent (8-bit: 0.25)
    participation: float = 1.0  # fraction of clients taking part in each round
    samples_per_client: float | None = None
    local_epochs: int = 1
    client_j_per_sample: float | None = None
    central_j_per_sample: float | None = None
    j_per_sample_source: str = "given"  # given | measured:<run id> | estimated

    def check(self) -> None:
        if self.clients < 1:
            raise InputError("--clients must be at least 1.")
        if self.rounds < 1:
            raise InputError("--rounds must be at least 1.")
        if not 0 < self.compression <= 1:
            raise InputError("--compression must be in (0, 1], e.g. 0.25 for 8-bit updates.")
        if not 0 < self.participation <= 1:
            raise InputError("--participation must be in (0, 1], e.g. 0.1 for 10 % per round.")
        if self.local_epochs < 1:
            raise InputError("--local-epochs must be at least 1.")
        for name in ("client_j_per_sample", "central_j_per_sample", "samples_per_client"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InputError(f"--{name.replace('_', '-')} must not be negative.")
        links.link(self.link)

    @property
    def update_bytes(self) -> float:
        return self.model_params * self.bytes_per_param * self.compression


@dataclass
class Criterion:
    name: str
    side: str  # "for" or "against" federated learning
    met: bool
    reason: str


@dataclass
class Advice:
    verdict: str
    summary: str
    criteria: list[Criterion]
    energy: dict[str, Any]
    changes: list[str]
    inputs: dict[str, Any]
    link: dict[str, Any]
    references: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "summary": self.summary,
            "criteria": [asdict(c) for c in self.criteria],
            "energy": self.energy,
            "changes": self.changes,
            "inputs": self.inputs,
            "link": self.link,
            "references": self.references,
        }


def _criteria(inp: AdviceInputs, fl_b: float, central_b: float) -> list[Criterion]:
    figure = links.link(inp.link)
    size = inp.update_bytes
    ratio = central_b / fl_b if fl_b else float("inf")
    out = [
        Criterion(
            "sensitive or regulated data",
            "for",
            inp.sensitive,
            "the data must stay where it is (e.g. health, GDPR special categories)"
            if inp.sensitive
            else "not stated as sensitive (--sensitive): it could be pooled",
        ),
        Criterion(
            "large distributed data, costly to move",
            "for",
            ratio > 1,
            f"moving the raw data ({human_bytes(central_b)}) is {ratio:.3g}x the FL traffic "
            f"({human_bytes(fl_b)})"
            if ratio > 1
            else f"the FL traffic ({human_bytes(fl_b)}) exceeds the raw data "
            f"({human_bytes(central_b)}) by {1 / ratio:.3g}x",
        ),
        Criterion(
            "compact model or partial updates",
            "for",
            size <= COMPACT_BYTES,
            f"each update is {human_bytes(size)} (compact: up to {human_bytes(COMPACT_BYTES)})",
        ),
        Criterion(
            "no real-time need",
            "for",
            not inp.realtime,
            "rounds can take minutes to hours"
            if not inp.realtime
            else "real-time answers needed (--realtime): rounds and stragglers add latency",
        ),
        Criterion(
            "device heterogeneity, stragglers",
            "against",
            inp.heterogeneous,
            "clients differ in speed or availability: the slowest sets each round's pace"
            if inp.heterogeneous
            else "clients similar (no --heterogeneous)",
        ),
        Criterion(
            "large model",
            "against",
            size > LARGE_BYTES,
            f"each update is {human_bytes(size)} (large: above {human_bytes(LARGE_BYTES)})",
        ),
        Criterion(
            "unstable or costly links",
            "against",
            inp.unstable_link or figure.costly,
            f"{figure.name}: {figure.central_kwh_per_gb:g} kWh/GB"
            + (" (metered mobile radio)" if figure.costly else "")
            + (", unstable (--unstable-link)" if inp.unstable_link else ""),
        ),
        Criterion(
            "strict traceability or reproducibility",
            "against",
            inp.traceability,
            "client sampling, dropouts and non-deterministic updates make runs hard to replay "
            "(a signed ledger such as vatio's records what happened, but does not replay it)"
            if inp.traceability
            else "not required (no --traceability)",
        ),
    ]
    return out


def _energy(inp: AdviceInputs) -> dict[str, Any]:
    figure = links.link(inp.link)
    fl_b = transfer.fl_bytes(
        inp.rounds,
        inp.clients,
        inp.model_params * inp.bytes_per_param,
        inp.compression,
        inp.participation,
    )
    central_b = transfer.central_bytes(inp.clients, inp.data_per_client_bytes)
    fl_comm = transfer.transfer_energy(fl_b, figure)
    central_comm = transfer.transfer_energy(central_b, figure)
    zero = Range(0.0, 0.0, 0.0)
    fl_compute = central_compute = zero
    compute_note = "compute left out (give --j-per-sample and --samples-per-client)"
    if inp.samples_per_client is not None and inp.client_j_per_sample is not None:
        per_round = transfer.participants(inp.clients, inp.participation)
        samples = inp.rounds * per_round * inp.samples_per_client * inp.local_epochs
        spread = 0.0 if inp.j_per_sample_source.startswith("measured") else 0.3
        fl_compute = transfer.compute_energy(samples, inp.client_j_per_sample, spread)
        central_j = inp.central_j_per_sample or inp.client_j_per_sample
        central_compute = transfer.compute_energy(samples, central_j, spread)
        compute_note = (
            f"same sample budget on both sides ({samples:.3g} samples); "
            f"J/sample {inp.j_per_sample_source}"
        )
    fl_total, central_total = fl_comm + fl_compute, central_comm + central_compute
    # Both sides use the same link and device figures, so their uncertainty moves together:
    # compare scenario by scenario (low with low, central with central, high with high).
    lower = [getattr(fl_total, s) < getattr(central_total, s) for s in ("low", "central", "high")]
    if all(lower):
        comparison = "federated lower"
    elif not any(lower):
        comparison = "federated higher"
    else:
        comparison = "depends on the figures"
    return {
        "fl_bytes": fl_b,
        "central_bytes": central_b,
        "bytes_ratio_central_over_fl": central_b / fl_b if fl_b else None,
        "fl": {
            "communication_j": fl_comm.to_dict(),
            "compute_j": fl_compute.to_dict(),
            "total_j": fl_total.to_dict(),
        },
        "central": {
            "communication_j": central_comm.to_dict(),
            "compute_j": central_compute.to_dict(),
            "total_j": central_total.to_dict(),
        },
        "comparison": comparison,
        "compute_note": compute_note,
        "method": "estimated: bytes x published kWh/GB of the link; compute from J/sample",
    }


def _verdict(inp: AdviceInputs, criteria: list[Criterion], energy: dict[str, Any]) -> str:
    against = [c for c in criteria if c.side == "against" and c.met]
    comparison = energy["comparison"]
    blockers = inp.realtime or any(c.name == "large model" for c in against)
    if inp.sensitive and not blockers and comparison != "federated higher":
        return "recommended"
    if comparison == "federated lower" and not blockers and len(against) <= 1:
        return "recommended"
    if (comparison == "federated higher" and not inp.sensitive) or (blockers and not inp.sensitive):
        return "not recommended"
    if len(against) >= 3 and not inp.sensitive:
        return "not recommended"
    return "depends"


def _changes(inp: AdviceInputs, energy: dict[str, Any], verdict: str) -> list[str]:
    """Plausible changes, each with what it does to the bytes and (if so) the verdict."""
    variants: list[tuple[str, AdviceInputs]] = []
    if inp.compression > 0.25:
        variants.append(("with 8-bit updates", replace(inp, compression=0.25)))
    if inp.participation > 0.1 and inp.clients >= 20:
        variants.append(("with 10 % of clients per round", replace(inp, participation=0.1)))
    if inp.rounds > 10:
        variants.append((f"with {inp.rounds // 2} rounds", replace(inp, rounds=inp.rounds // 2)))
    if inp.link != "wired":
        variants.append(("over wired links", replace(inp, link="wired")))
    out = []
    for label, variant in variants:
        e = _energy(variant)
        ratio = e["central_bytes"] / e["fl_bytes"]
        moves = (
            f"FL moves {ratio:.3g}x fewer bytes than the raw data"
            if ratio >= 1
            else f"FL moves {1 / ratio:.3g}x more bytes than the raw data"
        )
        flipped = _verdict(variant, _criteria(variant, e["fl_bytes"], e["central_bytes"]), e)
        tail = f" and the verdict becomes {flipped!r}" if flipped != verdict else ""
        out.append(f"{label} {moves}{tail}")
    return out


def advise(inputs: AdviceInputs | None = None, **kwargs: Any) -> Advice:
    """The §4.1 verdict with every criterion and the energy comparison behind it."""
    inp = inputs or AdviceInputs(**kwargs)
    inp.check()
    energy = _energy(inp)
    criteria = _criteria(inp, energy["fl_bytes"], energy["central_bytes"])
    verdict = _verdict(inp, criteria, energy)
    met_for = [c.name for c in criteria if c.side == "for" and c.met]
    met_against = [c.name for c in criteria if c.side == "against" and c.met]
    summary = (
        f"Federated learning is {verdict}: {len(met_for)} of 4 criteria for "
        f"({'; '.join(met_for) or 'none'}), {len(met_against)} of 4 against "
        f"({'; '.join(met_against) or 'none'}); energy: {energy['comparison']}."
    )
    figure = links.link(inp.link)
    return Advice(
        verdict=verdict,
        summary=summary,
        criteria=criteria,
        energy=energy,
        changes=_changes(inp, energy, verdict),
        inputs=asdict(inp),
        link=figure.to_dict(),
        references={k: links.REFERENCES[k] for k in figure.sources},
    )
