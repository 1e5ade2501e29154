"""`vatio optimize` in a subprocess: bad input is one sentence and exit 2; a real run works."""

from __future__ import annotations

import json

import pytest

from tests.cli.helpers import vatio
from tests.optimize.tiny import write_user_module

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

FAST = ["--batch-sizes", "1,16", "--repeats", "1", "--phase-seconds", "0.02", "--no-store"]


def _fails_cleanly(done, *needles: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("vatio: error: ")
    assert all(line.startswith("  hint: ") for line in lines[1:]), done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--variants", "ort-int4"], "Unknown variant 'ort-int4'"),
        (["--batch-sizes", "0,8"], "--batch-sizes"),
        (["--example", "digits", "--onnx", "m.onnx"], "exactly one model"),
    ],
)
def test_bad_flags_exit_2_without_loading_anything(args, needle):
    _fails_cleanly(vatio("optimize", *args), needle)


def test_bad_import_paths(tmp_path):
    write_user_module(tmp_path)
    done = vatio("optimize", "--model", "nosuchpkg.models:build", "--eval", "usermod:eval_set")
    _fails_cleanly(done, "module 'nosuchpkg' cannot be imported")
    done = vatio("optimize", "--model", "usermod:buld", "--eval", "usermod:eval_set")
    _fails_cleanly(done, "usermod has no attribute 'buld'")


def test_weights_that_do_not_match_the_model(tmp_path):
    weights = write_user_module(tmp_path)
    done = vatio(
        "optimize",
        "--model",
        "usermod:wide",
        "--weights",
        str(weights),
        "--eval",
        "usermod:eval_set",
    )
    _fails_cleanly(done, "do not match the model built by usermod:wide", "0.weight")


def test_eval_sets_of_the_wrong_shape_or_type(tmp_path):
    weights = write_user_module(tmp_path)
    model = ["optimize", "--model", "usermod:build", "--weights", str(weights)]
    _fails_cleanly(vatio(*model, "--eval", "usermod:wrong_shape"), "eval inputs of shape (16, 5)")
    _fails_cleanly(vatio(*model, "--eval", "usermod:wrong_type"), "are of type <U1, not numbers")


def test_corrupt_onnx_file(tmp_path):
    write_user_module(tmp_path, with_weights=False)
    (tmp_path / "broken.onnx").write_bytes(b"\x08\x07not really protobuf" * 10)
    done = vatio("optimize", "--onnx", "broken.onnx", "--eval", "usermod:eval_set")
    _fails_cleanly(done, "broken.onnx is not a valid ONNX model")


def test_a_real_run_writes_verified_artefacts_and_json(tmp_path):
    from vatio.optimize.artefacts import verify

    weights = write_user_module(tmp_path)
    done = vatio(
        "optimize", "--model", "usermod:build", "--weights", str(weights),
        "--eval", "usermod:eval_set", "--train", "usermod:train_set",
        "--variants", "ort-fp32,ort-int8-static,distilled", "-o", "out", "--json", *FAST,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    names = [v["name"] for v in data["variants"]]
    assert names == ["fp32-eager", "ort-fp32", "ort-int8-static", "distilled"]
    assert all(v["status"] == "ok" for v in data["variants"])
    assert data["energy_method"] and data["recommended"]["name"] in names
    assert data["baseline"] == "fp32-eager" and data["reference_batch"] == 16
    assert verify(tmp_path / "out" / "ort-int8-static" / "provenance.json")
    assert json.loads((tmp_path / "out" / "study.json").read_text())["run_id"] == data["run_id"]


def test_an_onnx_model_with_a_custom_metric(tmp_path):
    import torch

    from tests.optimize.tiny import build
    from vatio.optimize.torchutil import export_onnx

    write_user_module(tmp_path, with_weights=False)
    export_onnx(build(), torch.zeros(1, 8), tmp_path / "m.onnx")
    done = vatio(
        "optimize", "--onnx", "m.onnx", "--eval", "usermod:eval_set", "--metric",
        "usermod:f1_like", "--variants", "ort-int8-dynamic,ort-int8-static,pruned", *FAST,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Recommended:" in done.stderr
    assert "needs a PyTorch model" in done.stderr  # pruned is skipped
    assert "needs calibration inputs" in done.stderr  # no --calib nor --train
