"""RAPL sensor against a fake powercap tree with kernel-like counters."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes.powercap import FakePowercap
from vatio.devices import rapl
from vatio.devices.common import MEASURED_RAPL
from vatio.devices.rapl import RaplSensor, discover_rapl
from vatio.errors import SensorReadError


@pytest.fixture
def fake(tmp_path: Path) -> FakePowercap:
    return FakePowercap(tmp_path)


def _only_sensor(fake: FakePowercap) -> RaplSensor:
    found = discover_rapl(fake.root)
    assert len(found.sensors) == 1, found.statuses
    return found.sensors[0]


def test_wrap_in_the_middle_of_a_run_gives_the_hand_computed_total(fake):
    pkg = fake.add_package(0, energy_uj=900_000, max_range_uj=1_000_000)
    sensor = _only_sensor(fake)
    sensor.start(0.0)
    fake.advance(pkg, 50_000)  # 950_000
    assert sensor.read(1.0).energy_j == pytest.approx(0.05)
    assert fake.advance(pkg, 150_000) == 100_000  # wrapped
    # 1_000_000 - 950_000 + 100_000 = 150_000 µJ more: 0.2 J in all
    assert sensor.read(2.0).energy_j == pytest.approx(0.2)
    fake.advance(pkg, 300_000)
    reading = sensor.read(3.0)
    assert reading.energy_j == pytest.approx(0.5)
    assert reading.low_j == reading.high_j == reading.energy_j
    assert sensor.wraps == 1
    assert sensor.describe()["wraps"] == 1


def test_two_sockets_and_dram_found_core_uncore_and_psys_ignored(fake):
    for socket in (0, 1):
        fake.add_package(socket, max_power_uw=205_000_000)
        fake.add_subdomain(socket, 0, "core")
        fake.add_subdomain(socket, 1, "uncore")
        fake.add_subdomain(socket, 2, "dram")
    fake.add_domain("intel-rapl:2", "psys")
    found = discover_rapl(fake.root)
    names = [s.name for s in found.sensors]
    assert names == ["cpu:package-0", "dram:0", "cpu:package-1", "dram:1"]
    assert [s.device for s in found.sensors] == ["cpu", "dram", "cpu", "dram"]
    assert all(s.method == MEASURED_RAPL for s in found.sensors)
    ignored = " ".join(s.detail for s in found.statuses if not s.available)
    assert ignored.count("already included in its package") == 4
    assert "psys" in ignored and "double count" in ignored
    assert sum(s.available for s in found.statuses) == 4


def test_amd_rapl_and_mmio_duplicate(fake):
    fake.add_package(0, ctype="amd-rapl")
    fake.add_subdomain(0, 0, "core", ctype="amd-rapl")
    fake.add_package(0, ctype="intel-rapl-mmio")  # same package-0 through MMIO
    found = discover_rapl(fake.root)
    assert [s.name for s in found.sensors] == ["cpu:package-0"]
    assert found.sensors[0].path.name == "amd-rapl:0"
    assert any("duplicates amd-rapl:0" in s.detail for s in found.statuses)


def test_two_packages_with_one_label_are_both_kept(fake):
    fake.add_domain("intel-rapl:0", "package-0")
    fake.add_domain("intel-rapl:1", "package-0")  # odd firmware: never drop a socket
    names = [s.name for s in discover_rapl(fake.root).sensors]
    assert names == ["cpu:package-0", "cpu:intel-rapl:1"]


def test_permission_denied_gives_the_documented_fix(fake, monkeypatch):
    fake.install(monkeypatch)
    pkg = fake.add_package(0)
    fake.add_package(1)
    fake.deny(pkg)
    found = discover_rapl(fake.root)
    assert [s.name for s in found.sensors] == ["cpu:package-1"]
    status = next(s for s in found.statuses if s.name == "cpu:package-0")
    assert not status.available
    assert str(fake.path(pkg)) in status.detail
    assert "permission denied" in status.detail
    assert "CVE-2020-8694" in status.hint and "Platypus" in status.hint
    chmod = (
        f"sudo chmod a+r {fake.root}/intel-rapl:*/energy_uj {fake.root}/intel-rapl:*:*/energy_uj"
    )
    assert chmod in status.hint
    assert "until reboot" in status.hint and "udev" in status.hint and "estimate" in status.hint


def test_permission_hint_names_the_real_sysfs_paths():
    hint = rapl._permission_hint(Path("/sys/class/powercap"), "intel-rapl")
    assert (
        "sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj "
        "/sys/class/powercap/intel-rapl:*:*/energy_uj"
    ) in hint


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-000 files")
def test_permission_denied_by_file_mode(fake):
    pkg = fake.add_package(0)
    fake.deny(pkg)
    found = discover_rapl(fake.root)
    assert not found.sensors
    assert "CVE-2020-8694" in found.statuses[0].hint


def test_root_absent(tmp_path):
    root = tmp_path / "nothing"
    found = discover_rapl(root)
    assert not found.sensors
    (status,) = found.statuses
    assert not status.available and status.method == MEASURED_RAPL
    assert status.detail == (
        f"RAPL: {root} absent — virtual machine, container without /sys, or a non-Linux OS"
    )
    assert "estimate" in status.hint


def test_no_rapl_domains(fake):
    (fake.root / "dtpm").mkdir()  # another powercap control type
    found = discover_rapl(fake.root)
    assert not found.sensors
    assert "no *-rapl domains" in found.statuses[0].detail


@pytest.mark.parametrize("missing", ["energy_uj", "max_energy_range_uj"])
def test_domain_missing_a_file_is_skipped(fake, missing):
    bad = fake.add_package(0)
    fake.add_package(1)
    fake.remove_file(bad, missing)
    found = discover_rapl(fake.root)
    assert [s.name for s in found.sensors] == ["cpu:package-1"]
    assert any(missing in s.detail and "skipped" in s.detail for s in found.statuses)


def test_removed_domain_is_not_found(fake):
    fake.add_package(0)
    fake.remove_domain(fake.add_package(1))
    assert [s.name for s in discover_rapl(fake.root).sensors] == ["cpu:package-0"]


def test_read_error_mid_run_then_recovery_keeps_every_joule(fake):
    pkg = fake.add_package(0, energy_uj=0, max_range_uj=10_000_000)
    sensor = _only_sensor(fake)
    sensor.start(0.0)
    fake.advance(pkg, 2_000_000)
    assert sensor.read(1.0).energy_j == pytest.approx(2.0)
    fake.remove_file(pkg)
    fake.advance(pkg, 5_000_000)
    with pytest.raises(SensorReadError):
        sensor.read(2.0)
    assert sensor.errors == 1 and "FileNotFoundError" in sensor.last_error
    fake.advance(pkg, 4_000_000)  # wraps while unreadable: 11_000_000 -> 1_000_000
    fake.restore_file(pkg)
    assert sensor.read(3.0).energy_j == pytest.approx(11.0)
    assert sensor.wraps == 1
    assert sensor.describe()["errors"] == 1


def test_max_interval_allows_at_most_one_wrap(fake):
    fake.add_package(0, max_range_uj=262_143_328_850, max_power_uw=125_000_000)
    fake.add_package(1, max_range_uj=262_143_328_850)  # no constraint: 500 W assumed
    a, b = discover_rapl(fake.root).sensors
    assert a.max_interval_s == pytest.approx(262_143.328_850 / 125 / rapl.SAFETY_FACTOR)
    assert b.max_interval_s == pytest.approx(262_143.328_850 / 500 / rapl.SAFETY_FACTOR)
    described = a.describe()
    assert described["path"].endswith("intel-rapl:0")
    assert described["max_energy_range_uj"] == 262_143_328_850


def test_failed_start_records_unmeasured_time(fake):
    pkg = fake.add_package(0)
    sensor = _only_sensor(fake)
    fake.remove_file(pkg)
    with pytest.raises(SensorReadError):
        sensor.start(10.0)
    fake.restore_file(pkg)
    assert sensor.read(12.5).energy_j == 0.0
    assert sensor.unmeasured_s == pytest.approx(2.5)


@settings(max_examples=60, deadline=None)
@given(
    max_range=st.integers(min_value=2, max_value=2**40),
    start_frac=st.floats(min_value=0, max_value=1, exclude_max=True),
    fracs=st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), max_size=30),
)
def test_total_equals_sum_of_increments(max_range, start_frac, fracs):
    increments = [int(f * max_range) for f in fracs]  # each in [0, max_range)
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakePowercap(Path(tmp))
        pkg = fake.add_package(0, energy_uj=int(start_frac * max_range), max_range_uj=max_range)
        sensor = _only_sensor(fake)
        sensor.start(0.0)
        for tick, inc in enumerate(increments, start=1):
            fake.advance(pkg, inc)
            total = sensor.read(float(tick))
        if increments:
            assert total.energy_j == sum(increments) / 1e6
