"""`vatio provenance FILE`: which recorded run produced this artefact."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("provenance")(provenance)


def provenance(
    file: Path = typer.Argument(..., help="A model or other file a run recorded."),
    store: str = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
    allow_unverified: bool = typer.Option(
        False, "--allow-unverified", help="Show runs the signed log does not vouch for."
    ),
    trust: list[str] = typer.Option(None, "--trust", help="Another verifier key to trust."),
) -> None:
    """Look the file's SHA-256 up among recorded artefacts; show the run and its manifest.

    The producing runs are verified against the signed log first.
    """
    from vatio.cli.runs import _open
    from vatio.errors import InputError
    from vatio.provenance.lockfiles import file_sha256

    if not file.is_file():
        raise InputError(f"{file} is not a file.")
    digest = file_sha256(file)
    run_store = _open(store)
    matches = run_store.find_artifact(digest)
    federated = _federated_trace(file)
    if federated is not None:
        _print_federated(federated, json_output)
        if not matches:
            return
    if not matches:
        raise InputError(
            f"No recorded run produced a file with sha256 {digest[:16]}… ({file.name}).",
            "Record artefacts with `vatio run --artifact PATH` or tracker.add_artifact(path).",
        )
    records = [run_store.get(m["run_id"]) for m in matches]
    from vatio.cli.report import _verify

    proofs = _verify(run_store, records, trust or [], allow_unverified)
    for record, proof in zip(records, proofs, strict=True):
        record["verification"] = proof
    if json_output:
        from vatio.cli.output import print_json

        print_json({"file": str(file), "sha256": digest, "produced_by": matches, "runs": records})
        return
    typer.echo(f"{file} sha256:{digest}")
    for match, record in zip(matches, records, strict=True):
        manifest = record.get("manifest") or {}
        git = manifest.get("git") or {}
        lock = manifest.get("lockfile") or {}
        typer.echo(
            f"  produced by run {match['run_id']} ({record.get('status')}, "
            f"{record.get('started_at')}) as {match.get('role')} at {match['path']}"
        )
        proof = record["verification"]
        line = (
            f"verified: leaf {proof['leaf']} of checkpoint {proof['checkpoint_size']}"
            if proof["verified"]
            else f"NOT VERIFIED: {proof['reason']}"
        )
        typer.echo(f"    signed log: {line}")
        typer.echo(f"    command: {' '.join(record.get('command') or []) or record.get('name')}")
        typer.echo(
            f"    git: {git.get('commit') or '—'} {git.get('branch') or ''}"
            f"{' (dirty)' if git.get('dirty') else ''}"
        )
        typer.echo(f"    lockfile: {lock.get('path') or '—'} {lock.get('sha256') or ''}")
        typer.echo(
            f"    python {(manifest.get('python') or {}).get('version')}, "
            f"{len(manifest.get('packages') or [])} packages; "
            f"`vatio runs show {match['run_id']}` for the full manifest"
        )


def _federated_trace(file: Path):
    """A model a federated run produced: its rounds, pseudonymous clients and energy."""
    try:
        from vatio.federated.provenance import trace_model
    except ImportError:
        return None
    return trace_model(file)


def _print_federated(trace: dict, json_output: bool) -> None:
    if json_output:
        from vatio.cli.output import print_json

        print_json({"federated": trace})
        return
    import json

    typer.echo("produced by a federated-learning run (its signed ledger):")
    typer.echo(json.dumps(trace, indent=2, default=str))
