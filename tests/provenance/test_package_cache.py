"""The installed-package list is cached under a key that changes when packages do."""

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
