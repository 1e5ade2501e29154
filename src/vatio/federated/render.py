"""Console tables and the plot of `vatio fl` (rich and matplotlib load here, on demand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vatio.quantities import energy as _j


def _rng(d: dict[str, Any], key: str = "central") -> str:
    return f"{_j(d.get(key))} ({_j(d.get('low'))}–{_j(d.get('high'))})"


def advice(console: Any, advice: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    colour = {"recommended": "green", "not recommended": "red"}.get(advice.verdict, "yellow")
    console.print(f"[bold {colour}]Federated learning: {advice.verdict}[/]")
    table = Table(show_lines=False, title="§4.1 criteria", title_justify="left")
    for column in ("side", "criterion", "met", "why"):
        table.add_column(column, overflow="fold")
    for c in advice.criteria:
        mark = "[green]yes[/]" if c.met else "no"
        table.add_row(c.side, c.name, mark, escape(c.reason))
    console.print(table)
    e = advice.energy
    energy = Table(title="Energy (estimated)", title_justify="left")
    for column in ("", "communication", "compute", "total", "bytes"):
        energy.add_column(column)
    from vatio.federated.sizes import human_bytes

    left_out = e["compute_note"].startswith("compute left out")
    for side, name, n in (
        ("fl", "federated", e["fl_bytes"]),
        ("central", "centralised", e["central_bytes"]),
    ):
        compute = "not included" if left_out else _rng(e[side]["compute_j"])
        energy.add_row(
            name,
            _rng(e[side]["communication_j"]),
            compute,
            _rng(e[side]["total_j"]),
            human_bytes(n),
        )
    console.print(energy)
    link = advice.link
    console.print(
        f"link {link['link']}: {link['kwh_per_gb']['central']:g} kWh/GB "
        f"({link['kwh_per_gb']['low']:g}–{link['kwh_per_gb']['high']:g}; "
        f"{', '.join(link['sources'])}); {e['compute_note']}; comparison: {e['comparison']}"
    )
    for change in advice.changes:
        console.print(f"  • {change}")


def run_summary(console: Any, summary: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    rounds = Table(title=f"Federated run {summary['run_id']}", title_justify="left")
    for column in (
        "round",
        "accuracy",
        "loss",
        "energy (range)",
        "wall",
        "slowest client",
        "failed/rejected",
        "cosigned",
    ):
        rounds.add_column(column, overflow="fold")
    for r in summary["rounds"]:
        m = r["metrics"]
        slow = r.get("slowest") or {}
        bad = ", ".join(f"{k} {v}" for k, v in r["clients"].items() if v != "ok") or "—"
        rounds.add_row(
            str(r["round"]),
            "—" if m.get("accuracy") is None else f"{m['accuracy'] * 100:.1f}%",
            "—" if m.get("loss") is None else f"{m['loss']:.3f}",
            f"{_j(r['energy_j'])} ({_j(r['low_j'])}–{_j(r['high_j'])})",
            "—" if r.get("wall_s") is None else f"{r['wall_s']:.1f} s",
            f"{slow.get('client', '—')} ({(slow.get('wall_s') or 0) * 1e3:.0f} ms)",
            escape(bad),
            str(len(r.get("cosigners", []))),
        )
    console.print(rounds)
    clients = Table(title="Clients (whole process trees, measured by vatio)", title_justify="left")
    for column in (
        "client",
        "zone",
        "energy (range)",
        "training",
        "CPU",
        "bytes ↓/↑",
        "samples",
        "carbon",
        "note",
    ):
        clients.add_column(column, overflow="fold")
    for c in summary["clients"]:
        rec = c.get("record", {})
        notes = []
        if c.get("task_failures"):
            notes.append(f"crashed ({', '.join(str(f['exit_code']) for f in c['task_failures'])})")
        if c.get("unlisted"):
            notes.append("unlisted key")
        if c.get("tamper"):
            notes.append("tampered updates")
        clients.add_row(
            c["client"],
            c.get("zone") or "—",
            f"{_j(rec.get('energy_j'))} ({_j(rec.get('low_j'))}–{_j(rec.get('high_j'))})",
            _j(c["train_energy_j"]),
            f"{c['train_cpu_s'] * 1e3:.0f} ms",
            f"{c['bytes_down']:,}/{c['bytes_up']:,}",
            f"{c['samples']:,}",
            "—" if rec.get("co2e_g") is None else f"{rec['co2e_g']:.3g} g",
            ", ".join(notes) or "—",
        )
    console.print(clients)
    ledger = summary["ledger"]
    cost = ledger["cost"]
    ok = "[green]verified[/]" if ledger["verified"] else "[red]NOT verified[/]"
    console.print(f"ledger {ok}: {escape(ledger['summary'])}")
    pct, pct_c = cost.get("ledger_pct_of_rounds"), cost.get("ledger_pct_of_compute")
    pow_ = cost["proof_of_work"]
    console.print(
        f"ledger cost {_j(cost['ledger_j'])} (estimated): "
        f"{'—' if pct is None else f'{pct:.2f}%'} of the rounds' energy, "
        f"{'—' if pct_c is None else f'{pct_c:.1f}%'} of their training compute; proof of work "
        f"for {pow_['entries']} entries: {_j(pow_['low_j'])}–{_j(pow_['high_j'])} (cited)"
    )
    method = next((r.get("method") for r in summary["rounds"] if r.get("method")), "—")
    console.print(
        f"wall {summary['wall_s']:.1f} s; round energy = ClientApp + ServerApp processes "
        f"({escape(method)}); folder {escape(summary['folder'])}"
    )


def comparison(console: Any, result: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="Federated vs centralised", title_justify="left")
    for column in ("", "federated", "centralised"):
        table.add_column(column, overflow="fold")
    fl, cen = result["federated"], result["centralised"]

    def acc(v: float | None) -> str:
        return "—" if v is None else f"{v * 100:.1f}%"

    def proc(side: dict) -> str:
        p = side["process_energy_j"]
        return f"{_j(p['energy_j'])} ({_j(p['low_j'])}–{_j(p['high_j'])})"

    from vatio.federated.sizes import human_bytes

    table.add_row("accuracy", acc(fl["accuracy"]), acc(cen["accuracy"]))
    table.add_row(
        "training energy (measured)",
        _j(fl["train_energy_j"]["energy_j"]),
        _j(cen["train_energy_j"]["energy_j"]),
    )
    table.add_row("process energy (measured)", proc(fl), proc(cen))
    table.add_row(
        "communication (estimated)", _rng(fl["communication_j"]), _rng(cen["communication_j"])
    )
    table.add_row("bytes moved", human_bytes(fl["bytes_moved"]), human_bytes(cen["bytes_moved"]))
    table.add_row(
        "carbon",
        "—" if fl["co2e_g"] is None else f"{fl['co2e_g']:.3g} g",
        "—" if cen["co2e_g"] is None else f"{cen['co2e_g']:.3g} g",
    )
    table.add_row("wall", f"{fl['wall_s']:.1f} s", f"{cen['wall_s']:.1f} s")
    console.print(table)
    adv = result["advisor"]
    predicted = (
        human_bytes(adv["predicted_fl_bytes"]),
        human_bytes(adv["predicted_central_bytes"]),
    )
    measured = (human_bytes(adv["measured_fl_bytes"]), human_bytes(adv["measured_central_bytes"]))
    console.print(
        f"accuracy gap: {result['gap_note']}\nadvisor: {adv['verdict']}; predicted bytes "
        f"{predicted[0]} (FL) vs {predicted[1]} (raw data), measured {measured[0]} vs "
        f"{measured[1]} ({adv['bytes_note']})\n{result['overhead_note']}"
    )


def plot(summary: dict[str, Any], path: Path) -> None:
    from vatio.plotting import pyplot, save_png

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    names = [c["client"] for c in summary["clients"]]
    values = [c.get("record", {}).get("energy_j") or 0.0 for c in summary["clients"]]
    lows = [c.get("record", {}).get("low_j") or 0.0 for c in summary["clients"]]
    highs = [c.get("record", {}).get("high_j") or 0.0 for c in summary["clients"]]
    err = [
        [max(v - lo, 0) for v, lo in zip(values, lows, strict=True)],
        [max(h - v, 0) for v, h in zip(values, highs, strict=True)],
    ]
    left.bar(names, values, yerr=err, capsize=4, color="#4c8c4a")
    left.set_ylabel("energy (J, process tree)")
    left.set_title("Energy per client")
    rounds = [r["round"] for r in summary["rounds"]]
    whole = [r.get("processes_j") for r in summary["rounds"]]
    use_whole = all(v is not None for v in whole)
    twin = right.twinx()
    twin.bar(rounds, whole if use_whole else [r["energy_j"] for r in summary["rounds"]],
             alpha=0.35, color="#c07a2c")  # fmt: skip
    twin.set_ylabel(
        "energy per round (J, all processes)" if use_whole else "energy per round (J, apps)"
    )
    right.plot(rounds, [r["metrics"].get("accuracy") for r in summary["rounds"]], "o-",
               color="#1f5fa0", label="accuracy")  # fmt: skip
    right.set_zorder(twin.get_zorder() + 1)
    right.patch.set_visible(False)
    right.set_xticks(rounds)
    right.set_xlabel("round")
    right.set_ylabel("accuracy (test split)")
    right.set_title("Accuracy and energy per round")
    fig.tight_layout()
    save_png(fig, path)
