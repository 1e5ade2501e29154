"""Verify a store against its signed log: what an auditor can trust, and what not.

Every logged record must still hash to its leaf; the leaves must hash to the root
of the latest checkpoint, signed by a trusted key; every earlier checkpoint
handed out (a file given with --checkpoint, the witness kept beside the key)
must be a prefix of today's tree; the summary columns that `runs list` shows
must agree with the signed record; a finished record outside the log, or a
leaf whose record is gone, is named. Reports verify the runs they print with
`verify_runs`, which reads only those records and the leaf hashes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vatio.errors import InputError
from vatio.ledger.verify import Problem, VerifyReport
from vatio.record.rowcheck import check_all, check_record, orjson_loads
from vatio.record.signedlog import (
    SignedLog,
    check_checkpoint,
    check_saved,
    cosigners_seen,
    read_log,
    signed_head,
)

if TYPE_CHECKING:  # the config's models cost ~0.1 s to import; `runs show` needs none of them
    from vatio.config import Profile


@dataclass
class RunProof:
    """One run's standing: verified as leaf `index` of a checkpoint of `size`, or why not."""

    run_id: str
    ok: bool
    index: int | None = None
    size: int | None = None
    proof_hashes: int | None = None
    reason: str | None = None

    def line(self) -> str:
        if self.ok:
            return f"verified: leaf {self.index} of checkpoint {self.size}"
        return f"NOT verified: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "verified": self.ok,
            "leaf": self.index,
            "checkpoint_size": self.size,
            "proof_hashes": self.proof_hashes,
            "reason": self.reason,
        }


@dataclass
class StoreAudit:
    report: VerifyReport
    runs: list[RunProof] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict() | {"runs": [r.to_dict() for r in self.runs]}


# -- trust ------------------------------------------------------------------------------
def trusted_verifiers(profile: Profile, extra: Iterable[str] = ()) -> list[Any]:
    """This machine's key (if it has one) plus the profile's and the caller's trusted keys."""
    from vatio.ledger.keyfile import default_key_path, load_or_create_key
    from vatio.ledger.keys import Verifier

    verifiers = []
    key_path = Path(profile.ledger.key).expanduser() if profile.ledger.key else default_key_path()
    if key_path.is_file():
        with contextlib.suppress(Exception):  # an unreadable own key only cannot vouch
            verifiers.append(load_or_create_key(key_path).verifier())
    for item in [*profile.ledger.trusted_keys, *extra]:
        verifiers.extend(_load_vkeys(item, Verifier))
    return verifiers


def _load_vkeys(item: str, verifier_cls: Any) -> list[Any]:
    texts = [item]
    path = Path(item).expanduser()
    if "+" not in item or path.is_file():
        from vatio.userfiles import read_user_text

        texts = [
            line.strip()
            for line in read_user_text(path, "trusted key file", 1024 * 1024).splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
    out = []
    for text in texts:
        try:
            out.append(verifier_cls.from_vkey(text))
        except Exception as error:
            raise InputError(
                f"{text[:60]!r} is not a verifier key ({error}).",
                "Give the text `vatio ledger key` prints (name+hash+base64), or a file of them.",
            ) from None
    return out


# -- entry points -------------------------------------------------------------------------
def verify_store(
    store: Any,
    verifiers: list[Any],
    *,
    saved_checkpoints: list[tuple[str, str]] = (),  # type: ignore[assignment]
    run_ids: list[str] | None = None,
    cosigners: list[Any] | None = None,
    require_cosigners: int = 0,
    progress: Callable[[int], None] | None = None,
) -> StoreAudit:
    """Check every record, the log and the checkpoints (see the module docstring)."""
    from vatio.record.signing import origin_of

    origin = origin_of(store.store_id)
    log = read_log(store)
    problems = list(log.problems)
    checkpoint, signers = check_checkpoint(log, origin, verifiers, problems)
    for where, note in saved_checkpoints:
        check_saved(log, note, where, origin, verifiers, problems)
    checked, seen = check_all(store, log.index_of, log.leaves, problems, progress)
    for run_id, index in log.index_of.items():
        if run_id not in seen:
            problems.append(
                Problem(
                    "missing-entry",
                    f"run {run_id}",
                    f"leaf {index} of the log names a run that is no longer in the store",
                )
            )
    seen_cosigners = cosigners_seen(log, cosigners or [], verifiers, require_cosigners, problems)
    report = VerifyReport.from_problems(
        problems,
        size=len(log.leaves),
        root_hex=log.tree.root().hex(),
        verified_signers=signers,
        cosigners=seen_cosigners,
        checked_entries=checked,
        checkpoint_size=checkpoint.size if checkpoint else None,
        checkpoints_checked=len(saved_checkpoints) + (1 if checkpoint else 0),
        quorum=require_cosigners,
    )
    proofs = [_proof(store, run_id, log, checkpoint, problems) for run_id in run_ids or []]
    return StoreAudit(report, proofs)


def _proof(
    store: Any, run_id: str, log: SignedLog, checkpoint: Any, problems: list[Problem]
) -> RunProof:
    """Inclusion proof of one run's leaf against the signed root."""
    from vatio.ledger.merkle import verify_inclusion

    try:
        full_id = store.resolve_id(run_id)
    except Exception as error:
        return RunProof(run_id, False, reason=str(error))
    row = store.row(full_id)
    own: list[Problem] = []
    check_record(row, log.index_of, log.leaves, own)
    if own:
        return RunProof(full_id, False, reason=own[0].detail)
    index = log.index_of.get(full_id)
    if index is None:
        return RunProof(full_id, False, reason="the run is not in the signed log")
    if checkpoint is None or problems:
        why = problems[0].detail if problems else "the log has no signed checkpoint"
        return RunProof(full_id, False, index=index, reason=f"the log does not verify: {why}")
    proof = log.tree.inclusion_proof(index, checkpoint.size)
    if not verify_inclusion(index, checkpoint.size, log.leaves[index], proof, checkpoint.root):
        return RunProof(full_id, False, index=index, reason="the inclusion proof does not hold")
    return RunProof(full_id, True, index=index, size=checkpoint.size, proof_hashes=len(proof))


def verify_runs(store: Any, run_ids: list[str], verifiers: list[Any]) -> list[RunProof]:
    """The runs a report prints: their records, the signed root, and inclusion proofs
    (reads the leaf hashes and those records only, not the whole store)."""
    from vatio.record.signing import load_witness, origin_of

    origin = origin_of(store.store_id)
    quick = _verify_runs_from_kept_tree(store, run_ids, verifiers, origin)
    if quick is not None:
        return quick
    log = read_log(store)
    problems = list(log.problems)
    checkpoint, _ = check_checkpoint(log, origin, verifiers, problems)
    witness = load_witness(store.store_id)
    if witness:
        check_saved(log, witness, "the witness checkpoint kept beside the key", origin,
                     verifiers, problems)  # fmt: skip
    if checkpoint is not None and not problems:  # a tree the signed root vouches for
        from vatio.record import treecache

        treecache.save(store.store_id, log.tree)
    return [_proof(store, run_id, log, checkpoint, problems) for run_id in run_ids]


def _verify_runs_from_kept_tree(
    store: Any, run_ids: list[str], verifiers: list[Any], origin: str
) -> list[RunProof] | None:
    """The runs' proofs without reading the whole log: the tree kept from an earlier call,
    extended with the leaves appended since, used only when its root is the signed root and
    the store holds exactly the leaves the checkpoint counts. Each run's record must hash to
    the leaf the signed tree holds at its index. None in every other case: the caller reads
    and hashes the whole log, and names what is wrong."""
    from vatio.record import treecache
    from vatio.record.signing import load_witness

    if not hasattr(store, "leaf_index"):
        return None
    state = store.ledger_state()
    if state is None or state.checkpoint is None:
        return None
    problems: list[Problem] = []
    checkpoint, _ = signed_head(state.checkpoint, origin, verifiers, problems)
    if checkpoint is None or problems or store.leaf_count() != checkpoint.size:
        return None
    tree = treecache.signed_tree(store, checkpoint.size, checkpoint.root)
    if tree is None:
        return None
    index_of: dict[str, int] = {}
    for run_id in run_ids:
        with contextlib.suppress(Exception):  # an unknown id: _proof names it
            full_id = store.resolve_id(run_id)
            index = store.leaf_index(full_id)
            if index is not None:
                if not 0 <= index < tree.size:
                    return None
                index_of[full_id] = index
    log = SignedLog(tree.levels()[0], index_of, state.checkpoint, [])
    log.tree = tree  # type: ignore[misc]  (the signed tree itself, not rebuilt)
    witness = load_witness(store.store_id)
    if witness:
        check_saved(log, witness, "the witness checkpoint kept beside the key", origin,
                     verifiers, problems)  # fmt: skip
        if problems:
            return None
    return [_proof(store, run_id, log, checkpoint, problems) for run_id in run_ids]


def verify_many(
    store: Any,
    run_ids: list[str],
    verifiers: list[Any],
    progress: Callable[[int], None] | None = None,
) -> dict[str, RunProof]:
    """Thousands of runs in one pass (the fleet view): the log's leaves are hashed to the
    signed root once; then each record must hash to its leaf and its summary columns must
    match it. A leaf of a tree whose root is signed is included in it, so no per-run
    inclusion proof is needed. Returns run id -> proof."""
    from vatio.record.signing import load_witness, origin_of

    origin = origin_of(store.store_id)
    log = read_log(store)
    problems = list(log.problems)
    checkpoint, _ = check_checkpoint(log, origin, verifiers, problems)
    witness = load_witness(store.store_id)
    if witness:
        check_saved(log, witness, "the witness checkpoint kept beside the key", origin,
                     verifiers, problems)  # fmt: skip
    broken = problems[0].detail if problems else None
    if checkpoint is None and broken is None:
        broken = "the log has no signed checkpoint"
    proofs: dict[str, RunProof] = {}
    for row in store.rows_by_id(run_ids):
        run_id = row["id"]
        own: list[Problem] = []
        check_record(row, log.index_of, log.leaves, own, orjson_loads)
        index = log.index_of.get(run_id)
        if own:
            proofs[run_id] = RunProof(run_id, False, index=index, reason=own[0].detail)
        elif index is None:
            proofs[run_id] = RunProof(run_id, False, reason="the run is not in the signed log")
        elif broken is not None:
            proofs[run_id] = RunProof(
                run_id, False, index=index, reason=f"the log does not verify: {broken}"
            )
        else:
            proofs[run_id] = RunProof(run_id, True, index=index, size=checkpoint.size)
        if progress is not None:
            progress(1)
    for run_id in run_ids:
        proofs.setdefault(run_id, RunProof(run_id, False, reason="no such run in the store"))
    return proofs
