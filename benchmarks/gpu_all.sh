#!/usr/bin/env bash
# Every GPU check of vatio in one run (about 8 minutes), for a machine lent with an NVIDIA GPU:
#   1. benchmarks/gpu_check.py   NVML counter vs integrated power vs nvidia-smi; training under the tracker
#   2. benchmarks/exporter_nvml.py  the Prometheus exporter's GPU power vs nvidia-smi, idle and loaded
#   3. benchmarks/gpu_power.sh   the power-limit sweep of a CUDA training loop (Zeus-style)
# Wheels the machine lacks (pydantic) travel in .whl/ (benchmarks/gpu_power_wheels.sh fetches them).
# Everything it prints is also written to $OUT/gpu_all.log.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
OUTDIR=${OUT:-$(mktemp -d)}
exec > >(tee "$OUTDIR/gpu_all.log") 2>&1
export PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/vatio-site .whl/*.whl || echo "warning: wheels not installed"
  export PYTHONPATH=/tmp/vatio-site
fi
export PYTHONPATH=$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}
export XDG_CONFIG_HOME=/tmp/vatio-config XDG_STATE_HOME=/tmp/vatio-state
nvidia-smi
echo "== 1. gpu_check.py"; date -u
timeout 150 python3 benchmarks/gpu_check.py --idle 8 --load 20 --train-steps 240 || echo "gpu_check failed: $?"
echo "== 2. exporter_nvml.py"; date -u
timeout 75 python3 benchmarks/exporter_nvml.py --seconds 30 --load || echo "exporter_nvml failed: $?"
echo "== 3. gpu_power.sh"; date -u
GPU_POWER_BUDGET_S=${GPU_POWER_BUDGET_S:-270} VATIO_PYTHON=python3 timeout 300 benchmarks/gpu_power.sh \
  || echo "gpu_power failed: $?"
date -u
