"""Machine facts read at every run start: the package-list cache key, the platform text."""

from __future__ import annotations

import sys

from vatio.provenance import system


def test_files_written_in_the_script_folder_keep_the_key_packages_change_it(tmp_path, monkeypatch):
    script_dir, site = tmp_path / "job", tmp_path / "site"
    script_dir.mkdir()
    site.mkdir()
    monkeypatch.setattr(sys, "path", [str(script_dir), str(site)])
    key = system._paths_key()
    (script_dir / "checkpoint.pt").write_bytes(b"x")  # what a job writes next to its script
    assert system._paths_key() == key
    (script_dir / "mypkg-1.0.dist-info").mkdir()  # a package installed in the script folder
    moved = system._paths_key()
    assert moved != key
    (site / "other-2.0.dist-info").mkdir()  # a package installed in site-packages
    assert system._paths_key() != moved


def test_the_platform_text_is_platform_platform_remembered(monkeypatch):
    import platform
    import socket

    from vatio.hostname import hostname

    assert system._platform_text() == platform.platform()  # asked, then remembered
    monkeypatch.setattr(platform, "platform", lambda: "not asked again")
    assert system._platform_text() != "not asked again"
    assert hostname() == socket.gethostname()


def test_python_and_os_facts_are_what_the_platform_module_says():
    import platform

    system.clear_caches()
    python, os_facts = dict(system._python_static()), dict(system._os_static())
    assert python["version"] == platform.python_version()
    assert python["implementation"] == platform.python_implementation()
    assert os_facts == {"system": platform.system(), "release": platform.release(),
                        "machine": platform.machine(), "platform": platform.platform()}  # fmt: skip
