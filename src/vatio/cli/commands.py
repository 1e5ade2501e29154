"""The commands of `vatio`, their modules and help lines: readable without typer, so that
`vatio --help` and `vatio --version` answer at once."""

from __future__ import annotations

import importlib.util

#: command name -> (module under vatio.cli, one-line help), in help order
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "Run a command under the energy tracker and record it."),
    "runs": ("runs", "List, show, export, import and diff recorded runs."),
    "hardware": ("hardware", "Energy sensors found here, and how to enable the missing ones."),
    "zones": ("zones", "Grid zones with carbon-intensity data, and their sources."),
    "schedule": ("schedule", "The cleanest time (and zone) to run a job before a deadline."),
    "optimize": ("optimize", "Optimise a model for deployment and prove the trade-off."),
    "scale": ("scale", "Whether more workers, threads or a larger batch pay for the energy."),
    "report": ("report", "HTML, Markdown or JSON reports; the EU AI Act Annex XI section."),
    "check": ("check", "The guide's checklist: PASS, WARN, FAIL or N/A, with evidence."),
    "env": ("env", "Lockfiles, drift, approved versions, SBOM, vulnerabilities."),
    "compare": ("compare", "Fail CI on a significant energy regression, never on noise."),
    "provenance": ("provenance", "Which recorded run produced this file."),
    "ledger": ("ledger", "Verify the signed log of runs; checkpoints and cosignatures."),
    "store": ("store", "Create or upgrade the run store's schema."),
    "exporter": ("exporter", "Serve Prometheus metrics: power, energy, grid intensity, runs."),
    "power": ("power", "Power limits, clocks, threads and cores: show, sweep, apply, restore."),
    "rightsize": ("rightsize", "Under-used hardware from recorded runs; cloud vs on-premise."),
    "recorder": ("recorder", "The resident recorder that keeps `vatio run` fast."),
    "fl": ("fl", "Federated learning: advise, run on Flower measured and audited, compare."),
    "demo": ("demo", "Train the bundled example under the tracker (no download)."),
}

DESCRIPTION = "Measure, report and reduce the energy and carbon of AI workloads."


def available(module: str) -> bool:
    """A command whose module is not part of this install (a feature not landed) is hidden."""
    return importlib.util.find_spec(f"vatio.cli.{module}") is not None


def top_help() -> str:
    """`vatio --help`, as the typer app would print it."""
    names = [n for n, (module, _) in COMMANDS.items() if available(module)]
    width = max(len(n) for n in names)
    lines = [
        "Usage: vatio [OPTIONS] COMMAND [ARGS]...",
        "",
        f"  {DESCRIPTION}",
        "",
        "Options:",
        "  --version  Print the version and exit.",
        "  --help     Show this message and exit.",
        "",
        "Commands:",
    ]
    lines += [f"  {name:<{width}}  {COMMANDS[name][1]}" for name in names]
    return "\n".join(lines) + "\n"
