"""TDP matches are remembered between runs, and never trusted past a change of the table."""

from __future__ import annotations

import json

from vatio.devices import catalog
from vatio.userdirs import state_dir

XEON = "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"


def test_a_remembered_match_is_the_computed_one_and_bad_files_are_ignored():
    computed = catalog._match_cpu(catalog.normalise(XEON))
    assert computed is not None and computed.model == "Xeon Gold 6248"
    assert catalog.match_cpu(XEON) == computed  # computed, then written
    files = list((state_dir() / "tdp").glob("*.json"))
    assert len(files) == 1
    assert catalog.match_cpu(XEON) == computed  # read back
    files[0].write_bytes(b"\xff{not json")
    assert catalog.match_cpu(XEON) == computed  # a damaged file: matched again
    assert catalog.match_cpu("Intel Xeon Gold 9999 imaginary") is None
    assert catalog.match_cpu("Intel Xeon Gold 9999 imaginary") is None  # a remembered miss


def test_another_table_is_another_key(monkeypatch, tmp_path):
    assert catalog.match_cpu(XEON) is not None
    table = tmp_path / "cpu_tdp.csv"
    table.write_text("model,tdp_w,cores,source\nXeon Gold 6248,1.0,20,Test\n", encoding="utf-8")
    monkeypatch.setattr(catalog, "data_file", lambda name: table)
    catalog._cpu_table.cache_clear()
    try:
        assert catalog.match_cpu(XEON).tdp_w == 1.0  # not the figure remembered for the old table
    finally:
        catalog._cpu_table.cache_clear()


def test_a_remembered_match_out_of_range_is_matched_again():
    right = catalog.match_cpu(XEON)
    (path,) = (state_dir() / "tdp").glob("*.json")
    saved = json.loads(path.read_text())
    for hostile in ({"tdp_w": -150.0}, {"tdp_w": "150"}, {"cores": 0}, {"score": 7}):
        match = {**saved["value"]["match"], **hostile}  # the file: {"key": ..., "value": ...}
        path.write_text(json.dumps({**saved, "value": {"match": match}}))
        assert catalog.match_cpu(XEON) == right
