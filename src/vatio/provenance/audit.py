"""Known vulnerabilities of installed packages, from OSV (online) or a local OSV export.

Offline use: download the PyPI export of the OSV database (`PyPI/all.zip` from
the OSV bucket) on a connected machine, then `vatio env audit --offline all.zip`
(a folder of OSV JSON files works too).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from vatio.errors import InputError

OSV_BATCH_URL = "https://api.osv.dev/v1/querybatch"


@dataclass
class Vulnerability:
    package: str
    version: str
    id: str
    summary: str
    fixed: list[str]


def _records(source: Path) -> Iterator[dict]:
    if source.is_dir():
        for path in sorted(source.rglob("*.json")):
            yield json.loads(path.read_text(encoding="utf-8"))
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for name in archive.namelist():
                if name.endswith(".json"):
                    yield json.loads(archive.read(name))
    else:
        raise InputError(
            f"{source} is neither a folder of OSV JSON files nor a zip of them.",
            "Download the OSV PyPI export (PyPI/all.zip) and pass its path.",
        )


def _in_ranges(version: Version, ranges: list[dict]) -> bool:
    for entry in ranges:
        if entry.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        affected = False
        for event in entry.get("events", []):
            try:
                if "introduced" in event:
                    start = event["introduced"]
                    affected = start == "0" or version >= Version(start)
                elif ("fixed" in event and affected and version >= Version(event["fixed"])) or (
                    "last_affected" in event
                    and affected
                    and version > Version(event["last_affected"])
                ):
                    affected = False
            except InvalidVersion:
                continue
        if affected:
            return True
    return False


def _fixed_versions(affected: dict) -> list[str]:
    return [
        e["fixed"] for r in affected.get("ranges", []) for e in r.get("events", []) if "fixed" in e
    ]


def audit_offline(installed: dict[str, str], source: Path) -> list[Vulnerability]:
    found = []
    for record in _records(source):
        for affected in record.get("affected", []):
            package = affected.get("package", {})
            if package.get("ecosystem") != "PyPI":
                continue
            name = canonicalize_name(package.get("name", ""))
            have = installed.get(name)
            if have is None:
                continue
            try:
                version = Version(have)
            except InvalidVersion:
                continue
            if have in affected.get("versions", []) or _in_ranges(
                version, affected.get("ranges", [])
            ):
                found.append(
                    Vulnerability(
                        name,
                        have,
                        record.get("id", "?"),
                        record.get("summary", ""),
                        _fixed_versions(affected),
                    )
                )
    return sorted(found, key=lambda v: (v.package, v.id))


def audit_online(installed: dict[str, str], timeout: float = 15.0) -> list[Vulnerability]:
    names = sorted(installed)
    body = {
        "queries": [
            {"package": {"name": n, "ecosystem": "PyPI"}, "version": installed[n]} for n in names
        ]
    }
    request = urllib.request.Request(
        OSV_BATCH_URL,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            results = json.loads(response.read())["results"]
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise InputError(
            f"Cannot reach the OSV vulnerability database ({reason}).",
            "Without network, pass a local copy: vatio env audit --offline PATH "
            "(the OSV PyPI export all.zip, or a folder of OSV JSON files).",
        ) from None
    except (KeyError, ValueError):
        raise InputError(
            "The OSV service answered with something that is not a batch result."
        ) from None
    found = []
    for name, result in zip(names, results, strict=True):
        for vuln in result.get("vulns", []) or []:
            found.append(Vulnerability(name, installed[name], vuln.get("id", "?"), "", []))
    return found
