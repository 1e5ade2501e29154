"""Tests for the run manifest, lockfile detection and canonical JSON."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vatio.provenance import manifest, system
from vatio.provenance.canonical import canonical_json, sha256_hex
from vatio.provenance.lockfiles import LockfileRef, find_lockfile
from vatio.provenance.manifest import (
    collect_manifest,
    git_info,
    manifest_digest,
    select_env_vars,
)
from vatio.provenance.system import cpu_info, detect_environment, installed_packages

EXPECTED_KEYS = {
    "schema_version",
    "python",
    "os",
    "cpu",
    "memory_gb",
    "gpus",
    "packages",
    "lockfile",
    "git",
    "environment",
    "env_vars",
    "command",
    "profile",
    "hostname",
    "collected_at",
    "collection_errors",
}
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


@pytest.fixture(autouse=True)
def _fresh_caches() -> Any:
    system.clear_caches()
    yield
    system.clear_caches()


@pytest.fixture
def no_spawn(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"spawned a process: {args!r}")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.setattr(subprocess, "run", forbidden)


@pytest.fixture
def outside_repo(tmp_path: Path) -> Path:
    if manifest.find_git_root(tmp_path) is not None:
        pytest.skip("the temporary directory lies inside a git repository")
    return tmp_path


# --- the manifest as a whole ----------------------------------------------------------------


def test_manifest_has_every_key_and_is_json(outside_repo: Path) -> None:
    gpus = [{"index": 0, "name": "Fake GPU", "memory_total_mb": 1024}]
    m = collect_manifest(
        command=["python", "train.py", "--epochs", "1"],
        profile={"zone": "FR", "pue": 1.2},
        cwd=outside_repo,
        gpus=gpus,
        env={"OMP_NUM_THREADS": "4", "HOME": "/root"},
    )
    assert set(m) == EXPECTED_KEYS
    assert m["collection_errors"] == []
    json.dumps(m, allow_nan=False)  # serialisable as is
    assert set(m["python"]) == {"version", "implementation", "executable"}
    assert {"system", "release", "platform"} <= set(m["os"])
    assert set(m["cpu"]) == {"model", "logical_cores", "physical_cores", "hypervisor"}
    assert m["memory_gb"] > 0
    assert m["gpus"] == gpus and m["gpus"] is not gpus  # a copy, not the caller's list
    assert m["git"] is None and m["lockfile"] is None
    assert m["env_vars"] == {"OMP_NUM_THREADS": "4"}
    assert m["command"] == ["python", "train.py", "--epochs", "1"]
    assert m["profile"] == {"zone": "FR", "pue": 1.2}
    assert m["collected_at"].endswith("Z")
    datetime.fromisoformat(m["collected_at"].replace("Z", "+00:00"))
    assert manifest_digest(m) == hashlib.sha256(canonical_json(m)).hexdigest()


def test_defaults_give_no_command_profile_or_gpus(outside_repo: Path) -> None:
    m = collect_manifest(cwd=outside_repo, env={})
    assert m["command"] is None and m["profile"] is None and m["gpus"] == []
    assert m["env_vars"] == {}


def test_failing_part_is_recorded_and_the_rest_kept(
    monkeypatch: pytest.MonkeyPatch, outside_repo: Path
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no cpuinfo today")

    monkeypatch.setattr(system, "cpu_info", boom)
    monkeypatch.setattr(psutil, "virtual_memory", boom)
    m = collect_manifest(cwd=outside_repo, env={})
    assert set(m) == EXPECTED_KEYS
    assert m["cpu"] is None and m["memory_gb"] is None
    assert m["collection_errors"] == [
        "cpu: RuntimeError: no cpuinfo today",
        "memory_gb: RuntimeError: no cpuinfo today",
    ]
    assert m["python"]["version"] and m["packages"] and m["hostname"]
    json.dumps(m, allow_nan=False)


def test_profile_values_that_are_not_json_are_converted_and_noted(outside_repo: Path) -> None:
    m = collect_manifest(cwd=outside_repo, env={}, profile={"dir": Path("/data"), "x": math.nan})
    assert m["profile"] == {"dir": "/data", "x": None}
    assert any(e.startswith("profile:") for e in m["collection_errors"])
    json.dumps(m, allow_nan=False)


def test_passwords_in_urls_are_redacted(outside_repo: Path) -> None:
    url = "postgresql://alice:s3cret@db.example/runs"
    m = collect_manifest(
        cwd=outside_repo, env={"VATIO_STORE": url}, command=["vatio", f"--store={url}"]
    )
    assert m["env_vars"] == {"VATIO_STORE": "postgresql://alice:***@db.example/runs"}
    assert m["command"] == ["vatio", "--store=postgresql://alice:***@db.example/runs"]
    assert "s3cret" not in json.dumps(m)


# --- host facts -----------------------------------------------------------------------------


def test_packages_sorted_normalised_unique() -> None:
    packages = installed_packages()
    names = [p["name"] for p in packages]
    assert names == sorted(set(names))
    assert all(n == n.lower() and "_" not in n and "." not in n for n in names)
    assert {"name": "psutil", "version": psutil.__version__} in packages


def test_cpu_info_reads_model_and_hypervisor_and_is_cached(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Fake CPU @ 2.0GHz\nflags\t\t: fpu sse hypervisor\n\n"
        "processor\t: 1\nmodel name\t: Other\nflags\t\t: fpu\n"
    )
    info = cpu_info(str(cpuinfo))
    assert info["model"] == "Fake CPU @ 2.0GHz" and info["hypervisor"] is True
    assert info["logical_cores"] == psutil.cpu_count()
    cpuinfo.write_text("model name\t: Changed\nflags\t\t: fpu\n")
    assert cpu_info(str(cpuinfo))["model"] == "Fake CPU @ 2.0GHz"  # cached
    system.clear_caches()
    assert cpu_info(str(cpuinfo)) | {"logical_cores": 0} == info | {
        "model": "Changed",
        "hypervisor": False,
        "logical_cores": 0,
    }


def test_cpu_info_without_cpuinfo_falls_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import platform

    monkeypatch.setattr(platform, "processor", lambda: "fallback-cpu")
    info = cpu_info(str(tmp_path / "missing"))
    assert info["model"] == "fallback-cpu" and info["hypervisor"] is None


# --- lockfiles ------------------------------------------------------------------------------


def test_lockfile_search_order(tmp_path: Path) -> None:
    names = [
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "requirements.lock",
        "requirements.txt",
        "requirements-dev.txt",
    ]
    for name in [*names, "requirements-gpu.txt"]:
        (tmp_path / name).write_text(f"# {name}\n")
    kinds = ["uv", "poetry", "pipenv", "requirements-lock", "requirements", "requirements"]
    for name, kind in zip(names, kinds, strict=True):
        ref = find_lockfile(tmp_path)
        assert ref is not None and (ref.path, ref.kind) == (name, kind)
        (tmp_path / name).unlink()
    ref = find_lockfile(tmp_path)
    assert ref is not None and ref.path == "requirements-gpu.txt"
    (tmp_path / "requirements-gpu.txt").unlink()
    assert find_lockfile(tmp_path) is None


def test_lockfile_sha256_matches_hashlib(tmp_path: Path) -> None:
    data = b"version = 1\n" * 10_000
    (tmp_path / "uv.lock").write_bytes(data)
    (tmp_path / "requirements").mkdir()  # directories are not lockfiles
    ref = find_lockfile(tmp_path)
    assert ref == LockfileRef(path="uv.lock", kind="uv", sha256=hashlib.sha256(data).hexdigest())
    m = collect_manifest(cwd=tmp_path, env={})
    assert m["lockfile"] == {"path": "uv.lock", "kind": "uv", "sha256": ref.sha256}


# --- git --------------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return out.stdout.strip()


@needs_git
def test_git_info_clean_then_dirty(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    _git(tmp_path, "-c", "init.defaultBranch=trunk", "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=t", "commit", "-q", "-m", "init")
    sub = tmp_path / "sub"
    sub.mkdir()
    info = git_info(sub)  # found by walking up
    assert info == {
        "commit": _git(tmp_path, "rev-parse", "HEAD"),
        "branch": "trunk",
        "dirty": False,
    }
    (tmp_path / "a.txt").write_text("two\n")
    errors: list[str] = []
    assert git_info(tmp_path, errors) == {**info, "dirty": True}
    assert errors == []
    assert collect_manifest(cwd=tmp_path, env={})["git"] == {**info, "dirty": True}


def test_not_a_repo_gives_none_without_spawning(outside_repo: Path, no_spawn: None) -> None:
    assert git_info(outside_repo) is None
    assert collect_manifest(cwd=outside_repo, env={})["git"] is None


def test_git_missing_gives_none_and_a_note(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()

    def no_git(*args: Any, **kwargs: Any) -> Any:
        raise FileNotFoundError("git")

    monkeypatch.setattr(manifest, "MeteredPopen", no_git)
    errors: list[str] = []
    assert git_info(tmp_path, errors) is None
    assert errors and "not found" in errors[0]


def test_git_timeout_leaves_field_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    replies = {
        "status --porcelain": "",
        "rev-parse HEAD": "abc123\n",
        "rev-parse --abbrev-ref HEAD": "main\n",
    }

    class FakeProc:
        def __init__(self, argv: list[str], **kwargs: Any) -> None:
            assert kwargs["cwd"] == tmp_path and kwargs["stdin"] == subprocess.DEVNULL
            self.key = " ".join(argv[1:])
            self.returncode = 0
            self.killed = False
            self.cpu_s = 0.0

        def communicate(self, timeout: float | None = None) -> tuple[str, str]:
            if self.key.startswith("status") and not self.killed:
                raise subprocess.TimeoutExpired("git status", timeout or 0)
            return replies[self.key], ""

        def kill(self) -> None:
            self.killed = True

    monkeypatch.setattr(manifest, "MeteredPopen", FakeProc)
    errors: list[str] = []
    assert git_info(tmp_path, errors) == {"commit": "abc123", "branch": "main", "dirty": None}
    assert errors == ["git: `git status --porcelain` timed out after 2 s"]


# --- environment and env vars -------------------------------------------------------------


def test_env_var_selection_excludes_secrets() -> None:
    env = {
        "OMP_NUM_THREADS": "8",
        "CUDA_VISIBLE_DEVICES": "0,1",
        "PYTHONHASHSEED": "0",
        "SLURM_JOB_ID": "42",
        "VATIO_ZONE": "FR",
        "VATIO_CUSTOM": "x",
        "VATIO_API_KEY": "k",
        "VATIO_ELECTRICITYMAPS_TOKEN": "t",
        "VATIO_SECRET": "s",
        "VATIO_DB_PASSWORD": "p",
        "VATIO_Credentials_File": "c",
        "AWS_SECRET_ACCESS_KEY": "a",
        "HOME": "/root",
        "PATH": "/usr/bin",
    }
    assert select_env_vars(env) == {
        "CUDA_VISIBLE_DEVICES": "0,1",
        "OMP_NUM_THREADS": "8",
        "PYTHONHASHSEED": "0",
        "SLURM_JOB_ID": "42",
        "VATIO_CUSTOM": "x",
        "VATIO_ZONE": "FR",
    }


def test_environment_bare_venv_conda(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    base, venv = str(tmp_path / "base"), str(tmp_path / "venv")
    bare = detect_environment(env={}, prefix=base, base_prefix=base, root=root)
    assert bare == {"kinds": [], "prefix": base, "base_prefix": base}
    assert detect_environment(env={}, prefix=venv, base_prefix=base, root=root)["kinds"] == ["venv"]
    conda_env = {"CONDA_PREFIX": base}
    assert detect_environment(env=conda_env, prefix=base, base_prefix=base, root=root)["kinds"] == [
        "conda"
    ]
    (tmp_path / "base" / "conda-meta").mkdir(parents=True)  # venv made from a conda python
    assert detect_environment(env={}, prefix=venv, base_prefix=base, root=root)["kinds"] == [
        "venv",
        "conda",
    ]


@pytest.mark.parametrize(
    ("path", "content", "expected"),
    [
        (".dockerenv", "", True),
        ("run/.containerenv", "", True),
        ("proc/1/cgroup", "12:pids:/kubepods/burstable/pod1\n", True),
        ("proc/1/cgroup", "0::/system.slice/containerd.service\n", True),
        ("proc/1/cgroup", "0::/init.scope\n", False),
    ],
)
def test_environment_container(tmp_path: Path, path: str, content: str, expected: bool) -> None:
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(content)
    kinds = detect_environment(env={}, prefix="/p", base_prefix="/p", root=tmp_path)["kinds"]
    assert kinds == (["container"] if expected else [])


# --- canonical JSON -------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
flat_dicts = st.dictionaries(st.text(), scalars, max_size=20)


@given(data=st.data(), obj=flat_dicts)
def test_canonical_json_ignores_key_order(data: st.DataObject, obj: dict[str, Any]) -> None:
    order = data.draw(st.permutations(list(obj)))
    shuffled = {k: obj[k] for k in order}
    assert canonical_json(shuffled) == canonical_json(obj)
    assert sha256_hex({"m": shuffled}) == sha256_hex({"m": obj})
    assert json.loads(canonical_json(obj)) == obj


def test_canonical_json_form() -> None:
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": math.nan})
