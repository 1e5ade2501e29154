"""`vatio env`: reproducible, traceable, secure environments."""

from __future__ import annotations

from pathlib import Path

import typer

env_app = typer.Typer(
    help="Check the environment: lockfile, drift, approved versions, compatibility, SBOM, audit.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print JSON.")


def register(app: typer.Typer) -> None:
    app.add_typer(env_app, name="env")


def _print_findings(findings: list, json_output: bool, title: str) -> None:
    """Table or JSON; exit 1 when an item failed (a gate for CI)."""
    if json_output:
        from vatio.cli.output import print_json

        print_json([f.to_dict() for f in findings])
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        colours = {"PASS": "green", "WARN": "yellow", "FAIL": "red"}
        table = Table(title=title, title_justify="left", show_lines=False)
        for column in ("item", "status", "evidence", "fix"):
            table.add_column(column, overflow="fold")
        for f in findings:
            colour = colours.get(f.status, "dim")
            table.add_row(
                f.item, f"[{colour}]{f.status}[/]", escape(f.evidence), escape(f.fix or "")
            )
        Console().print(table)
    if any(f.status == "FAIL" for f in findings):
        raise typer.Exit(1)


@env_app.command("check")
def check(
    approved: Path = typer.Option(None, "--approved", help="Approved-versions file to enforce."),
    lockfile: Path = typer.Option(None, "--lockfile", help="Lockfile (default: found in cwd)."),
    wheels: Path = typer.Option(
        None, "--wheels", help="Folder of downloaded wheels/sdists to verify against the lock."
    ),
    json_output: bool = JSON,
) -> None:
    """Lockfile found? Every pin exact and hashed? Installed == locked? Isolated?"""
    from vatio.errors import InputError
    from vatio.provenance.envcheck import FAIL, PASS, Finding, check_environment

    findings = check_environment(Path.cwd(), lockfile=lockfile, approved=approved)
    if wheels is not None:
        from vatio.provenance.lockfiles import find_lockfile
        from vatio.provenance.lockparse import parse_lockfile
        from vatio.provenance.verify import verify_artifacts

        if not wheels.is_dir():
            raise InputError(f"--wheels {wheels} is not a folder.")
        ref = lockfile or (
            Path.cwd() / found.path if (found := find_lockfile(Path.cwd())) else None
        )
        if ref is None:
            raise InputError("--wheels needs a lockfile to check against.", "Pass --lockfile.")
        checks = verify_artifacts(parse_lockfile(ref), wheels)
        bad = [c for c in checks if c.status != "ok"]
        findings.append(
            Finding(
                "downloaded files match the lock hashes",
                FAIL if any(c.status == "mismatch" for c in bad) else PASS,
                ", ".join(f"{c.file}: {c.status}" for c in bad) or f"{len(checks)} files verified",
                "Do not install a file whose hash differs from the lock." if bad else None,
            )
        )
    _print_findings(findings, json_output, "Environment check")


@env_app.command("compat")
def compat(json_output: bool = JSON) -> None:
    """torch/CUDA build vs driver, onnxruntime providers, Python version support."""
    from vatio.provenance.compat import check_compat

    _print_findings(check_compat(), json_output, "Compatibility")


@env_app.command("sbom")
def sbom(
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default stdout)."),
    run: str = typer.Option(None, "--run", help="Describe a recorded run's environment instead."),
    store: str = typer.Option(None, "--store", help="Run store (with --run)."),
) -> None:
    """CycloneDX SBOM of this environment, or of a recorded run (linked by its id)."""
    from vatio.provenance.sbom import build_sbom
    from vatio.userfiles import check_output_path

    check_output_path(output, "SBOM file", protect=[store])

    if run:
        from vatio.cli.runs import _open

        record = _open(store).get(run)
        manifest = record.get("manifest") or {}
        text = build_sbom(
            manifest.get("packages") or [], run_id=record["id"], lockfile=manifest.get("lockfile")
        )
    else:
        from vatio.provenance.lockfiles import find_lockfile
        from vatio.provenance.system import installed_packages

        found = find_lockfile(Path.cwd())
        text = build_sbom(
            installed_packages(), run_id=None, lockfile=found.to_dict() if found else None
        )
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
    else:
        typer.echo(text)


@env_app.command("audit")
def audit(
    offline: Path = typer.Option(
        None, "--offline", help="Local OSV database: the PyPI all.zip export or a JSON folder."
    ),
    json_output: bool = JSON,
) -> None:
    """Known vulnerabilities of the installed packages (OSV); exit 1 when any is found."""
    from vatio.provenance.audit import audit_offline, audit_online
    from vatio.provenance.envcheck import installed_versions

    installed = installed_versions()
    found = audit_offline(installed, offline) if offline else audit_online(installed)
    if json_output:
        from dataclasses import asdict

        from vatio.cli.output import print_json

        print_json([asdict(v) for v in found])
    elif not found:
        typer.echo(f"No known vulnerabilities in {len(installed)} packages.")
    else:
        for v in found:
            fixed = f" (fixed in {', '.join(v.fixed)})" if v.fixed else ""
            typer.echo(f"{v.package} {v.version}: {v.id} {v.summary}{fixed}")
    if found:
        raise typer.Exit(1)


@env_app.command("approve")
def approve(
    file: Path = typer.Option(Path("approved.toml"), "--file", help="The approved-versions file."),
    run: str = typer.Option(None, "--run", help="Approve the versions a recorded run used."),
    note: str = typer.Option(None, "--note", help="Why (kept in the history)."),
    store: str = typer.Option(None, "--store", help="Run store (with --run)."),
) -> None:
    """Append the current (or a run's) package versions to the approved registry."""
    from vatio.provenance.approved import append_approval
    from vatio.userfiles import check_output_path

    check_output_path(file, "approved-versions file", protect=[store])

    if run:
        from vatio.cli.runs import _open

        record = _open(store).get(run)
        packages = {
            p["name"]: p["version"] for p in (record.get("manifest") or {}).get("packages", [])
        }
        run = record["id"]
    else:
        from vatio.provenance.envcheck import installed_versions

        packages = installed_versions()
    approval = append_approval(file, packages, run=run, note=note)
    typer.echo(f"approved {len(packages)} package versions in {file} at {approval.date}")


@env_app.command("history")
def history(
    file: Path = typer.Option(Path("approved.toml"), "--file", help="The approved-versions file."),
    revert: int = typer.Option(
        None, "--revert", help="Print the pip command that restores approval number N."
    ),
) -> None:
    """Approved snapshots and what changed between them; --revert N to go back."""
    from vatio.errors import InputError
    from vatio.provenance.approved import diff_sets, load_registry

    registry = load_registry(file)
    if not registry.approvals:
        raise InputError(f"{file} has no [[approval]] snapshots.", "Create one: vatio env approve.")
    if revert is not None:
        if not 1 <= revert <= len(registry.approvals):
            raise InputError(f"There is no approval number {revert} in {file}.")
        pins = registry.approvals[revert - 1].packages
        typer.echo("pip install " + " ".join(f"'{n}=={v}'" for n, v in sorted(pins.items())))
        return
    previous: dict[str, str] = {}
    for number, approval in enumerate(registry.approvals, start=1):
        change = diff_sets(previous, approval.packages)
        summary = ", ".join(f"{old}->{new} {n}" for n, old, new in change["changed"][:6])
        typer.echo(
            f"{number}. {approval.date} run={approval.run or '-'} {approval.note or ''}".rstrip()
            + f"\n   +{len(change['added'])} -{len(change['removed'])} "
            f"~{len(change['changed'])} {summary}"
        )
        previous = approval.packages
