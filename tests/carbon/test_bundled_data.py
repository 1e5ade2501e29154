"""The shipped data is exactly what tools/build_data.py makes from ../shared/data."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
PACKAGE_DATA = ROOT / "src" / "vatio" / "data"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside this checkout")
def test_rebuild_gives_the_bundled_files_byte_for_byte(tmp_path):
    out = tmp_path / "data"
    subprocess.run(
        [sys.executable, "tools/build_data.py", str(SHARED), "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    built = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert Path("intensity/ES_2023.csv.gz") in built
    assert Path("intensity/US-CAL-CISO_2021.csv.gz") in built
    different = [str(p) for p in built if not filecmp.cmp(out / p, PACKAGE_DATA / p, False)]
    assert different == [], "run `python tools/build_data.py` and commit the result"
    shipped = {p.relative_to(PACKAGE_DATA) for p in (PACKAGE_DATA / "intensity").iterdir()}
    assert shipped == {p for p in built if p.parts[0] == "intensity"}


def test_zone_lookup_loads_no_numpy():
    probe = (
        "from vatio.carbon.zones import resolve_zone, known_zone_codes\n"
        "resolve_zone('gcp:us-west2'); resolve_zone('USA'); known_zone_codes()\n"
        "import sys\nprint('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
