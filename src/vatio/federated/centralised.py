"""The centralised baseline: the same model on the pooled data, with the same sample budget.

It runs as its own process (`python -m vatio.federated.centralised`), measured
like a federated party: the launcher records the whole process tree (kind
"fl-central"), and the process measures its training span itself, as a
ClientApp does. Same preprocessing, same model code, same batch size and
learning rate; epochs = rounds x local epochs over the pooled training
data, so it evaluates exactly as many sample gradients as the federation.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def train_pooled(settings: dict[str, Any]) -> dict[str, Any]:
    from vatio.federated import data, model
    from vatio.federated.recording import measure_call

    train, test = data.train_test(settings["seed"])
    params = model.init_params(settings["model"], train.x.shape[1], settings["seed"])
    epochs = settings["rounds"] * settings["local_epochs"]
    with measure_call() as measured:
        params, stats = model.train(
            params,
            train.x,
            train.y,
            epochs=epochs,
            batch_size=settings["batch_size"],
            lr=settings["learning_rate"],
            seed=settings["seed"],
        )
    return {
        "accuracy": model.accuracy(params, test.x, test.y),
        "loss": model.log_loss(params, test.x, test.y),
        "samples": stats.samples,
        "epochs": epochs,
        "train": measured.to_dict(),
        "params": model.count_params(params),
    }


def run_baseline(settings: dict[str, Any], folder: Path, recorder: Any) -> dict[str, Any]:
    """Run the baseline process, recorded as kind "fl-central"; its results and record."""
    from vatio.federated.recording import record_summary

    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "central-results.json"
    started = time.time()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vatio.federated.centralised",
            "--settings",
            json.dumps(settings),
            "--out",
            str(out),
        ],
        stdin=subprocess.DEVNULL,
    )
    recorder.start_party("central", "fl-central", proc.pid, settings.get("zone"))
    recorder.set_extension("central", "federated", {"role": "centralised baseline", **settings})
    code = proc.wait()
    result = recorder.stop("central", "completed" if code == 0 else "failed", code)
    if code != 0 or not out.exists():
        from vatio.errors import VatioError

        raise VatioError(f"The centralised baseline failed (exit code {code}).")
    results = json.loads(out.read_text())
    results["wall_s"] = time.time() - started
    results["record"] = record_summary(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vatio.federated.centralised")
    parser.add_argument("--settings", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = train_pooled(json.loads(args.settings))
    Path(args.out).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
