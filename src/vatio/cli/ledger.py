"""`vatio ledger verify|checkpoint|cosign|key`: the signed, tamper-evident log of runs."""

from __future__ import annotations

from pathlib import Path

import typer

ledger_app = typer.Typer(
    help="Verify the signed log of runs, hand out checkpoints, co-sign them.",
    no_args_is_help=True,
)
STORE = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path.")
TRUST = typer.Option(
    None, "--trust", help="A verifier key (text or file) to trust besides this machine's; repeat."
)


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")


def _profile(store: str | None):
    from vatio.profile_cache import cached_profile

    profile, _ = cached_profile({"store": store})
    return profile


@ledger_app.command("verify")
def verify(
    run_ids: list[str] = typer.Argument(None, help="Runs to prove (inclusion proofs); all else."),
    store: str = STORE,
    checkpoint: list[Path] = typer.Option(
        None, "--checkpoint", help="A checkpoint handed out earlier: the log must extend it."
    ),
    trust: list[str] = TRUST,
    require_cosigners: int = typer.Option(
        0, "--require-cosigners", min=0, max=1000, help="Trusted cosignatures required."
    ),
    log: Path = typer.Option(
        None, "--log", help="Verify a log folder instead (e.g. .vatio/fl/RUN_ID)."
    ),
    quorum: int = typer.Option(
        None, "--quorum", min=0, max=1000, help="With --log: member cosignatures required."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recompute every digest, the signed root and proofs; exit 1 naming what fails."""
    from vatio.userfiles import read_user_text

    if log is not None:
        _verify_folder(log, trust or [], quorum, checkpoint or [], json_output)
        return
    saved = [(f"checkpoint file {p}", read_user_text(p, "checkpoint", 1024 * 1024))
             for p in checkpoint or []]  # fmt: skip
    from vatio.record.audit import trusted_verifiers, verify_store
    from vatio.record.signing import load_witness
    from vatio.store.sqlite_reader import open_reader

    profile = _profile(store)
    run_store = open_reader(profile.store)  # sqlite3 for a current SQLite store
    witness = load_witness(run_store.store_id)
    if witness:
        saved.append(("the witness checkpoint kept beside this machine's key", witness))
    verifiers = trusted_verifiers(profile, trust or [])
    audit = _with_progress(
        lambda progress: verify_store(
            run_store,
            verifiers,
            saved_checkpoints=saved,
            run_ids=run_ids or None,
            cosigners=verifiers,
            require_cosigners=require_cosigners,
            progress=progress,
        )
    )
    _print(audit.report, audit.runs, json_output, audit.to_dict())


def _with_progress(work):
    import sys

    from rich.progress import Progress

    with Progress(transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("verifying records", total=None)
        return work(lambda n: bar.advance(task, n))


def _verify_folder(
    folder: Path, trust: list[str], quorum: int | None, saved: list[Path], json_output: bool
) -> None:
    from vatio.errors import InputError
    from vatio.ledger.filelog import verify_log
    from vatio.record.audit import trusted_verifiers

    if not folder.is_dir():
        raise InputError(f"The log folder {folder} does not exist or is not a folder.")
    if (folder / "ledger").is_dir() or folder.name == "ledger":  # a federated run's ledger
        from vatio.federated.ledger import verify_fl_log

        members = next((str(p) for p in trust if p.endswith(".json")), None)
        report = verify_fl_log(folder, quorum=quorum, members_file=members)
        _print(report, [], json_output, report.to_dict())
        return
    verifiers = trusted_verifiers(_profile(None), trust) if trust else None
    saved_note = None
    if saved:
        from vatio.userfiles import read_user_text

        saved_note = read_user_text(saved[0], "checkpoint", 1024 * 1024)
    report = verify_log(
        folder, verifiers=verifiers, quorum=quorum or 0, saved_checkpoint=saved_note
    )
    _print(report, [], json_output, report.to_dict())


def _print(report, runs, json_output: bool, data: dict) -> None:
    if json_output:
        from vatio.cli.output import print_json

        print_json(data)
    else:
        typer.echo(report.summary())
        for problem in report.problems[:50]:
            typer.echo(f"  {problem.kind}: {problem.where}: {problem.detail}")
        if len(report.problems) > 50:
            typer.echo(f"  ... {len(report.problems) - 50} more (use --json for all)")
        for run in runs:
            typer.echo(f"  run {run.run_id}: {run.line()}")
    if not report.ok or any(not run.ok for run in runs):
        raise typer.Exit(1)


@ledger_app.command("checkpoint")
def checkpoint(
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
    store: str = STORE,
) -> None:
    """The store's latest signed checkpoint (C2SP tlog-checkpoint), to hand to an auditor."""
    from vatio.errors import InputError
    from vatio.store.runstore import open_store
    from vatio.userfiles import check_output_path

    profile = _profile(store)
    check_output_path(output, "checkpoint file", protect=[profile.store])
    state = open_store(profile.store, readonly=True).ledger_state()
    if state is None or not state.checkpoint:
        raise InputError(
            "The store's log has no signed checkpoint yet.", "Record a run first (vatio run)."
        )
    if output is None or str(output) == "-":
        typer.echo(state.checkpoint, nl=False)
        return
    output.write_text(state.checkpoint, encoding="utf-8")
    typer.echo(f"wrote the checkpoint of {state.size} runs to {output}", err=True)


@ledger_app.command("cosign")
def cosign(
    checkpoint_file: Path = typer.Argument(..., help="A checkpoint file to co-sign."),
    key: Path = typer.Option(..., "--key", help="Your Ed25519 key file (created if absent)."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Where to write the co-signed checkpoint (default: in place)."
    ),
    store: str = typer.Option(
        None, "--store", help="Also attach the cosignature to this store's copy of the checkpoint."
    ),
    trust: list[str] = TRUST,
) -> None:
    """Add your cosignature (C2SP tlog-cosignature) to a checkpoint you have checked."""
    from vatio.errors import InputError
    from vatio.ledger.checkpoint import cosign_checkpoint, parse_checkpoint
    from vatio.ledger.keyfile import load_or_create_key
    from vatio.ledger.note import verify_note
    from vatio.record.audit import trusted_verifiers
    from vatio.userfiles import check_output_path, read_user_text

    note = read_user_text(checkpoint_file, "checkpoint", 1024 * 1024)
    target = check_output_path(output or checkpoint_file, "co-signed checkpoint")
    try:
        parsed, _ = parse_checkpoint(note)
    except Exception as error:
        raise InputError(f"{checkpoint_file} is not a signed checkpoint: {error}.") from None
    if trust:
        check = verify_note(note, trusted_verifiers(_profile(None), trust))
        if not check.verified or check.invalid:
            raise InputError(
                f"The log's signature on {checkpoint_file} does not verify with the keys given.",
                "Co-sign only a checkpoint whose log signature you checked (--trust KEY).",
            )
    signer = load_or_create_key(key.expanduser())
    cosigned = cosign_checkpoint(note, signer)
    assert target is not None
    target.write_text(cosigned, encoding="utf-8")
    if store:
        from vatio.store.runstore import open_store

        open_store(_profile(store).store).save_cosigned(parsed.size, cosigned)
    typer.echo(
        f"co-signed checkpoint of {parsed.size} entries as {signer.name}: {target}", err=True
    )


@ledger_app.command("key")
def show_key(
    key: Path = typer.Option(None, "--key", help="Key file (default: this machine's)."),
) -> None:
    """Print this machine's verifier key (public), for auditors' --trust."""
    from vatio.ledger.keyfile import load_or_create_key

    profile = _profile(None)
    path = key or (Path(profile.ledger.key).expanduser() if profile.ledger.key else None)
    signer = load_or_create_key(path)
    typer.echo(signer.vkey)
