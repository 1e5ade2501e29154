"""Bytes accounting, link figures, and the sizes people type."""

from __future__ import annotations

import pytest

from vatio.errors import InputError
from vatio.federated import links
from vatio.federated.sizes import human_bytes, parse_bytes, parse_count
from vatio.federated.transfer import central_bytes, fl_bytes, participants, transfer_energy


def test_fl_bytes_are_rounds_times_clients_times_two_transfers():
    assert fl_bytes(5, 4, 124) == 5 * 4 * 2 * 124
    assert fl_bytes(5, 4, 124, compression=0.25) == 5 * 4 * 2 * 31
    assert fl_bytes(10, 100, 1e6, fraction=0.1) == 10 * 10 * 2 * 1e6


def test_participants_round_up_and_never_vanish():
    assert participants(100, 0.1) == 10
    assert participants(7, 0.1) == 1
    assert participants(3, 0.5) == 2


def test_central_bytes_move_each_clients_data_once():
    assert central_bytes(4, 25_000) == 100_000


def test_link_figures_are_ordered_and_cited():
    for figure in links.LINKS.values():
        low, central, high = figure.j_per_byte()
        assert 0 < low <= central <= high
        assert all(s in links.REFERENCES for s in figure.sources)
    assert links.link("WIRED").name == "wired"
    with pytest.raises(InputError, match="Unknown link"):
        links.link("smoke-signals")


def test_transfer_energy_uses_the_kwh_per_gb_range():
    energy = transfer_energy(1e9, links.link("wired"))  # one GB
    assert energy.central == pytest.approx(0.03 * 3.6e6)
    assert energy.low == pytest.approx(0.004 * 3.6e6)
    assert energy.high == pytest.approx(0.14 * 3.6e6)


@pytest.mark.parametrize(
    ("text", "value"),
    [("2.4M", 2.4e6), ("2400k", 2.4e6), ("31", 31.0), ("1B", 1e9)],
)
def test_counts(text, value):
    assert parse_count(text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [("3GB", 3e9), ("500MB", 5e8), ("2GiB", 2 * 2**30), ("1024", 1024.0), ("1.5 kB", 1500.0)],
)
def test_sizes(text, value):
    assert parse_bytes(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["three", "3XB", "-1GB", "0"])
def test_bad_sizes_say_how_to_write_them(text):
    with pytest.raises(InputError):
        parse_bytes(text)


def test_human_bytes():
    assert human_bytes(96e9) == "96 GB" and human_bytes(870) == "870 B"
