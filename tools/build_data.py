"""Build the compact data files shipped in src/vatio/data from ../shared/data.

Run from the repository root: ``python tools/build_data.py [SHARED_DATA_DIR] [--out DIR]``.
The output is deterministic so that a rebuild shows no diff.

The country-code table (``iso3166.csv``) comes from pycountry's copy of ISO 3166-1
(``pip install 'vatio[data]'``); pycountry is needed only here, never at run time.
Without it the bundled table is kept as it is.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

PACKAGE_DATA = Path("src/vatio/data")


def build_hourly(shared: Path, out: Path) -> None:
    """One gzip file per zone and year, and `zones.csv` with each zone's name and country."""
    out_dir = out / "intensity"
    out_dir.mkdir(parents=True, exist_ok=True)
    names: dict[str, tuple[str, str]] = {}
    for path in sorted((shared / "carbon-intensity/electricitymaps").glob("*_hourly.csv")):
        zone, year, _ = path.stem.split("_")
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        if rows[0].get("Zone Id", zone) != zone:
            raise SystemExit(f"{path.name}: Zone Id {rows[0]['Zone Id']!r} is not {zone!r}")
        names.setdefault(zone, (rows[0].get("Zone Name", zone), rows[0].get("Country", "")))
        first = datetime.fromisoformat(rows[0]["Datetime (UTC)"])
        buffer = io.StringIO()
        buffer.write(f"# zone={zone} year={year} start={first.isoformat()}Z step=3600\n")
        buffer.write("lca,direct,renewable_pct,estimated\n")
        for i, row in enumerate(rows):
            expected = first + timedelta(hours=i)
            if datetime.fromisoformat(row["Datetime (UTC)"]) != expected:
                raise SystemExit(f"{path.name}: row {i + 2} is not hourly after {expected}")
            estimated = "1" if row["Data Estimated"].strip().lower() == "true" else "0"
            lca = row["Carbon Intensity gCO₂eq/kWh (LCA)"]
            direct = row["Carbon Intensity gCO₂eq/kWh (direct)"]
            buffer.write(f"{lca},{direct},{row['Renewable Percentage']},{estimated}\n")
        data = gzip.compress(buffer.getvalue().encode(), mtime=0)
        (out_dir / f"{zone}_{year}.csv.gz").write_bytes(data)
    with (out_dir / "zones.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["zone", "name", "country"])
        writer.writerows((zone, *names[zone]) for zone in sorted(names))


def build_iso(out: Path) -> None:
    """ISO 3166-1 alpha-2, alpha-3 and short name of every country, from pycountry."""
    target = out / "iso3166.csv"
    try:
        import pycountry
    except ImportError:
        if out.resolve() != PACKAGE_DATA.resolve():
            shutil.copyfile(PACKAGE_DATA / "iso3166.csv", target)
        print("pycountry is not installed: iso3166.csv kept as bundled (pip install 'vatio[data]')")
        return
    rows = sorted(
        (c.alpha_2, c.alpha_3, getattr(c, "common_name", None) or c.name)
        for c in pycountry.countries
    )
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["alpha_2", "alpha_3", "name"])
        writer.writerows(rows)


_DATA_YEAR = re.compile(
    r"(?:data from|using|based on)\s+(?:[A-Z][a-z]+\s+)?(\d{4})(?:/(\d{2}))?", re.IGNORECASE
)


def data_year(text: str) -> str:
    """The year the data are from, as a Green Algorithms source note says it ('' if unsaid).

    "data from 2020" -> 2020; "data from April 2022" -> 2022; "using 2019/20 data" -> 2020.
    """
    match = _DATA_YEAR.search(text)
    if not match:
        return ""
    return f"20{match.group(2)}" if match.group(2) else match.group(1)


def build_yearly(shared: Path, out: Path) -> None:
    """One table of yearly averages under canonical codes, every source's figure kept.

    Green Algorithms locations keep their codes (ISO 3166-1 alpha-2, or sub-zones such as
    US-CA); Our World in Data's alpha-3 codes become alpha-2 through iso3166.csv. Which
    figure a zone uses is decided at run time (vatio.carbon.zones), by one documented rule.
    """
    with (out / "iso3166.csv").open(encoding="utf-8") as handle:
        alpha2 = {row["alpha_3"]: row["alpha_2"] for row in csv.DictReader(handle)}
    rows: list[tuple[str, str, str, str, str]] = []
    with (shared / "green-algorithms/CI_aggregated.csv").open(encoding="utf-8") as handle:
        next(handle)
        for row in csv.DictReader(handle):
            name = row["countryName"]
            if row["regionName"] not in ("Any", ""):
                name = f"{name} ({row['regionName']})"
            year = data_year(f"{row['source']} {row.get('comments') or ''}")
            rows.append((row["location"], name, row["carbonIntensity"], "Green Algorithms", year))
    mix = json.loads((shared / "codecarbon/global_energy_mix.json").read_text(encoding="utf-8"))
    for iso3, entry in sorted(mix.items()):
        if entry.get("carbon_intensity") is None:
            continue
        code = alpha2.get(iso3, iso3)
        year = str(entry.get("year") or "")
        rows.append(
            (code, entry["country_name"], str(entry["carbon_intensity"]), "Our World in Data", year)
        )
    rows.sort(key=lambda row: (row[0], row[3]))
    with (out / "intensity_yearly.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["zone", "name", "gco2e_per_kwh", "source", "data_year"])
        writer.writerows(rows)


def build_tdp(shared: Path, out: Path) -> None:
    """CPU TDP table: Green Algorithms (with core counts) first, CodeCarbon after."""
    rows: list[tuple[str, str, str, str]] = []
    with (shared / "green-algorithms/TDP_cpu.csv").open(encoding="utf-8") as handle:
        next(handle)
        for row in csv.DictReader(handle):
            rows.append((row["model"], row["TDP"], row["n_cores"], "Green Algorithms"))
    with (shared / "codecarbon/cpu_power.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append((row["Name"], row["TDP"], "", "CodeCarbon"))
    with (out / "cpu_tdp.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["model", "tdp_w", "cores", "source"])
        writer.writerows(rows)
    gpu_rows = []
    with (shared / "green-algorithms/TDP_gpu.csv").open(encoding="utf-8") as handle:
        next(handle)
        for row in csv.DictReader(handle):
            gpu_rows.append((row["model"], row["TDP"] or row["TDP_per_core"]))
    with (out / "gpu_tdp.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["model", "tdp_w"])
        writer.writerows(gpu_rows)


def copy_small(shared: Path, out: Path) -> None:
    for name in ("defaults_PUE.csv", "referenceValues.csv", "cloudProviders_datacenters.csv"):
        text = (shared / "green-algorithms" / name).read_text(encoding="utf-8")
        (out / name).write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared", nargs="?", default="../shared/data", help="shared data folder")
    parser.add_argument("--out", default=str(PACKAGE_DATA), help="output folder")
    args = parser.parse_args(argv)
    shared, out = Path(args.shared), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    build_hourly(shared, out)
    build_iso(out)
    build_yearly(shared, out)
    build_tdp(shared, out)
    copy_small(shared, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
