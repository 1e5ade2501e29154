"""`vatio env check`: is this environment pinned, hashed, installed as locked, isolated?"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from vatio.provenance.drift import compute_drift
from vatio.provenance.lockfiles import find_lockfile
from vatio.provenance.lockparse import Lockfile, parse_lockfile

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
LOCK_FIX = (
    "Lock the environment with hashes: `uv lock`, `poetry lock`, `pipenv lock`, or "
    "`pip-compile --generate-hashes -o requirements.txt`."
)


@dataclass
class Finding:
    item: str
    status: str
    evidence: str
    fix: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def installed_versions() -> dict[str, str]:
    from vatio.provenance.system import installed_packages

    return {p["name"]: p["version"] for p in installed_packages()}


def _names(items: list, limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def check_lock(lock: Lockfile, installed: dict[str, str]) -> list[Finding]:
    relevant = [p for p in lock.packages if p.source not in ("editable", "virtual", "directory")]
    loose = [p.name for p in relevant if not p.exact]
    unhashed = [p.name for p in relevant if p.exact and not p.hashes and p.source is None]
    findings = [
        Finding(
            "every pin exact",
            FAIL if loose else PASS,
            f"not pinned with ==: {_names(loose)}" if loose else f"{len(relevant)} exact pins",
            "Pin exact versions (name==1.2.3) so the run can be repeated." if loose else None,
        ),
        Finding(
            "every pin hashed",
            WARN if unhashed else PASS,
            f"no hash: {_names(unhashed)}" if unhashed else "all pins carry hashes",
            "Regenerate the lock with hashes (pip-compile --generate-hashes)."
            if unhashed
            else None,
        ),
    ]
    drift = compute_drift(lock, installed)
    if drift.clean:
        findings.append(Finding("installed == locked", PASS, "no drift"))
    else:
        parts = [f"{n} {a} locked, {b} installed" for n, a, b in drift.changed]
        parts += [f"{n} {a} locked, not installed" for n, a in drift.missing]
        findings.append(
            Finding(
                "installed == locked",
                FAIL,
                _names(parts),
                f"Reinstall from the lock (e.g. `pip install --require-hashes -r {lock.path.name}`"
                ", `uv sync`, `poetry install --sync`).",
            )
        )
    if drift.unlocked:
        findings.append(
            Finding(
                "nothing installed outside the lock",
                WARN,
                f"{len(drift.unlocked)} not in the lock: "
                + _names([f"{n} {v}" for n, v in drift.unlocked]),
                "Add them to the lock, or remove them from the environment.",
            )
        )
    return findings


def check_environment(
    cwd: Path,
    *,
    lockfile: Path | None = None,
    approved: Path | None = None,
    installed: dict[str, str] | None = None,
) -> list[Finding]:
    installed = installed if installed is not None else installed_versions()
    findings: list[Finding] = []
    path = lockfile
    if path is None:
        found = find_lockfile(cwd)
        path = cwd / found.path if found else None
    if path is None:
        findings.append(Finding("lockfile", FAIL, f"no lockfile in {cwd}", LOCK_FIX))
    else:
        lock = parse_lockfile(path)
        findings.append(
            Finding("lockfile", PASS, f"{path.name} ({lock.kind}, {len(lock.packages)} packages)")
        )
        findings += check_lock(lock, installed)
    findings.append(_isolation())
    if approved is not None:
        findings += _approved(approved, installed)
    return findings


def _isolation() -> Finding:
    from vatio.provenance.system import detect_environment

    env = detect_environment()
    kinds = env.get("kinds") or []
    if kinds:
        return Finding("isolated environment", PASS, f"{', '.join(kinds)} at {env.get('prefix')}")
    return Finding(
        "isolated environment",
        WARN,
        "the system interpreter, shared with other software",
        "Use a virtual environment (python -m venv), conda, or a container.",
    )


def _approved(path: Path, installed: dict[str, str]) -> list[Finding]:
    from vatio.provenance.approved import load_registry, violations

    outside, unapproved = violations(load_registry(path), installed)
    findings = [
        Finding(
            "versions approved",
            FAIL if outside else PASS,
            _names([f"{n} {v} (approved {s})" for n, v, s in outside])
            if outside
            else f"every approved package within {path.name}",
            "Install the approved version, or approve this one (`vatio env approve`)."
            if outside
            else None,
        )
    ]
    if unapproved:
        findings.append(
            Finding(
                "no unapproved packages",
                WARN,
                f"{len(unapproved)} never approved: " + _names([f"{n} {v}" for n, v in unapproved]),
                "Review them and approve (`vatio env approve`) or remove them.",
            )
        )
    return findings
