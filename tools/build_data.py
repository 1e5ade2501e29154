"""Build the compact data files shipped in src/vatio/data from ../shared/data.

Run from the repository root: ``python tools/build_data.py [SHARED_DATA_DIR]``.
The output is deterministic so that a rebuild shows no diff.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

OUT = Path("src/vatio/data")


def build_hourly(shared: Path) -> None:
    out_dir = OUT / "intensity"
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted((shared / "carbon-intensity/electricitymaps").glob("*_hourly.csv")):
        zone, year, _ = path.stem.split("_")
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
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


def build_yearly(shared: Path) -> None:
    """One table of yearly averages: Green Algorithms locations, then OWID countries."""
    rows: list[tuple[str, str, str, str]] = []
    with (shared / "green-algorithms/CI_aggregated.csv").open(encoding="utf-8") as handle:
        next(handle)
        for row in csv.DictReader(handle):
            name = row["countryName"]
            if row["regionName"] not in ("Any", ""):
                name = f"{name} ({row['regionName']})"
            rows.append((row["location"], name, row["carbonIntensity"], "Green Algorithms"))
    mix = json.loads((shared / "codecarbon/global_energy_mix.json").read_text(encoding="utf-8"))
    for iso3, entry in sorted(mix.items()):
        if entry.get("carbon_intensity") is None:
            continue
        source = f"Our World in Data {entry.get('year', '')}".strip()
        rows.append((iso3, entry["country_name"], str(entry["carbon_intensity"]), source))
    with (OUT / "intensity_yearly.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["zone", "name", "gco2e_per_kwh", "source"])
        writer.writerows(rows)


def build_tdp(shared: Path) -> None:
    """CPU TDP table: Green Algorithms (with core counts) first, CodeCarbon after."""
    rows: list[tuple[str, str, str, str]] = []
    with (shared / "green-algorithms/TDP_cpu.csv").open(encoding="utf-8") as handle:
        next(handle)
        for row in csv.DictReader(handle):
            rows.append((row["model"], row["TDP"], row["n_cores"], "Green Algorithms"))
    with (shared / "codecarbon/cpu_power.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append((row["Name"], row["TDP"], "", "CodeCarbon"))
    with (OUT / "cpu_tdp.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["model", "tdp_w", "cores", "source"])
        writer.writerows(rows)
    gpu_rows = []
    with (shared / "green-algorithms/TDP_gpu.csv").open(encoding="utf-8") as handle:
        next(handle)
        for row in csv.DictReader(handle):
            gpu_rows.append((row["model"], row["TDP"] or row["TDP_per_core"]))
    with (OUT / "gpu_tdp.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["model", "tdp_w"])
        writer.writerows(gpu_rows)


def copy_small(shared: Path) -> None:
    for name in ("defaults_PUE.csv", "referenceValues.csv", "cloudProviders_datacenters.csv"):
        text = (shared / "green-algorithms" / name).read_text(encoding="utf-8")
        (OUT / name).write_text(text, encoding="utf-8")


def main() -> None:
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    build_hourly(shared)
    build_yearly(shared)
    build_tdp(shared)
    copy_small(shared)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
