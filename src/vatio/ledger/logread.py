"""Reading a file log's files for ``verify_log``: what is damaged is reported, never raised.

Every reader takes a ``ProblemSink`` so a broken file becomes one named
problem and the check goes on; only input the caller gave (the saved
checkpoint) raises LogError. Nothing here decides which keys to trust.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vatio.ledger import logformat as fmt
from vatio.ledger.checkpoint import Checkpoint, parse_checkpoint
from vatio.ledger.errors import LedgerError, LogError, NoteError
from vatio.ledger.keys import Verifier
from vatio.ledger.merkle import EMPTY_ROOT, Frontier, leaf_hash
from vatio.ledger.note import Note

#: problem(kind, where, detail): how readers report damage instead of raising
ProblemSink = Callable[[str, str, str], None]
#: (position, index, entry) of each system entry (genesis, members), in file order
SystemEntries = list[tuple[int, int, dict[str, Any]]]
#: tree size -> (raw bytes, checkpoint, note) of each file in checkpoints/
History = dict[int, tuple[bytes, Checkpoint, Note]]
#: the log's current checkpoint file, kept raw to compare with its copy in the history
Latest = tuple[Checkpoint, Note, bytes]

_SIZE_NAME = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Entries:
    """One pass over entries.jsonl: what the checks need, so the file is read only once."""

    frontier: Frontier
    torn: bool
    n_bytes: int
    system: SystemEntries
    roots: dict[int, bytes]  # tree size -> root, for each size a checkpoint signed


def read_saved(saved: str | bytes | os.PathLike[str] | None) -> tuple[Checkpoint, Note] | None:
    """The caller's saved checkpoint; unusable input is the caller's error, so it raises."""
    if saved is None:
        return None
    if isinstance(saved, os.PathLike):
        try:
            saved = Path(saved).read_bytes()
        except OSError as e:
            raise LogError(f"Cannot read the saved checkpoint {saved}: {e.strerror}.") from None
    try:
        return parse_checkpoint(saved)
    except NoteError as e:
        raise LogError(f"The saved checkpoint is not a checkpoint: {e.message}") from None


def read_checkpoints(path: Path, problem: ProblemSink) -> tuple[History, Latest | None]:
    """The checkpoint history by size, and the latest checkpoint (None if unreadable)."""
    history: History = {}
    cdir = path / fmt.CHECKPOINTS
    names = sorted(os.listdir(cdir)) if cdir.is_dir() else []
    if not cdir.is_dir():
        problem("malformed", fmt.CHECKPOINTS, "the checkpoint history is missing")
    for name in names:
        where = f"{fmt.CHECKPOINTS}/{name}"
        if name.startswith("."):
            continue  # a temporary file of an interrupted write
        if not _SIZE_NAME.fullmatch(name):
            problem("malformed", where, "not a checkpoint file (name is not a tree size)")
            continue
        raw, cp, note = _read_note(cdir / name, where, problem)
        if cp is None:
            continue
        if cp.size != int(name):
            problem("malformed", where, f"holds a checkpoint of size {cp.size}")
            continue
        history[cp.size] = (raw, cp, note)
    raw, cp, note = _read_note(path / fmt.CHECKPOINT, fmt.CHECKPOINT, problem)
    latest = (cp, note, raw) if cp is not None else None
    return history, latest


def _read_note(p: Path, where: str, problem: ProblemSink) -> tuple[bytes, Any, Any]:
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        problem("malformed", where, "missing")
        return b"", None, None
    except OSError as e:
        problem("malformed", where, f"unreadable: {e.strerror}")
        return b"", None, None
    try:
        cp, note = parse_checkpoint(raw)
    except NoteError as e:
        problem("malformed", where, e.message)
        return raw, None, None
    return raw, cp, note


def read_entries(path: Path, wanted: set[int], deep: bool, problem: ProblemSink) -> Entries:
    """Hash every line and check the indexes; roots are kept only for the ``wanted`` sizes.

    Only system entries are parsed in full unless ``deep``, which keeps a large log fast.
    """
    frontier = Frontier()
    roots: dict[int, bytes] = {0: EMPTY_ROOT}
    n_bytes = 0
    torn = False
    system: SystemEntries = []
    seen: set[int] = set()
    max_index = -1
    with open(path / fmt.ENTRIES, "rb") as f:
        for pos, raw in enumerate(f):
            where = f"{fmt.ENTRIES} line {pos + 1}"
            n_bytes += len(raw)
            if not raw.endswith(b"\n"):
                torn = True
                problem("malformed", where, "torn last line (an interrupted write?)")
                break
            line = raw[:-1]
            frontier.append(leaf_hash(line))
            if frontier.size in wanted:
                roots[frontier.size] = frontier.root()
            entry = None
            if deep or fmt.may_be_system(line):
                try:
                    index, entry = fmt.decode_line(line)
                except ValueError as e:
                    problem("malformed", where, str(e))
                    continue
            else:
                quick = fmt.quick_index(line)
                if quick is None:
                    problem("malformed", where, 'not a {"entry": …, "index": …} line')
                    continue
                index = quick
            if index in seen:
                problem("duplicate-entry", where, f"entry {index} appears again")
            elif index < max_index:
                problem("reordered", where, f"entry {index} comes after entry {max_index}")
            seen.add(index)
            max_index = max(max_index, index)
            kind = fmt.kind_of(entry) if entry is not None else None
            if kind is not None and kind.startswith(fmt.SYSTEM_PREFIX):
                system.append((pos, index, entry))
    for i in sorted(set(range(max_index + 1)) - seen):
        problem("missing-entry", f"{fmt.ENTRIES} entry {i}", f"entry {i} is missing")
    return Entries(frontier, torn, n_bytes, system, roots)


def read_genesis(system: SystemEntries, problem: ProblemSink) -> tuple[Verifier | None, str | None]:
    """The log's own key and origin, as its genesis entry states them (not yet trusted)."""
    where = f"{fmt.ENTRIES} line 1"
    if not system or system[0][0] != 0 or fmt.kind_of(system[0][2]) != fmt.GENESIS:
        problem("malformed", where, "the first entry is not the log's genesis entry")
        return None, None
    for pos, _, e in system[1:]:
        if fmt.kind_of(e) == fmt.GENESIS:
            problem("malformed", f"{fmt.ENTRIES} line {pos + 1}", "a second genesis")
    g = system[0][2]
    try:
        origin = g["origin"]
        if not isinstance(origin, str):
            raise TypeError
        return Verifier.from_vkey(g["log_vkey"]), origin
    except (KeyError, TypeError, AttributeError, LedgerError):
        problem("malformed", where, "the genesis entry has no valid origin and log key")
        return None, None
