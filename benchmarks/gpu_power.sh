#!/usr/bin/env bash
# vatio power on one NVIDIA GPU: a power-limit sweep of a CUDA training loop, at most 8 minutes.
#
#   benchmarks/gpu_power.sh                      # from anywhere; runs in the repository root
#   VATIO_PYTHON=/path/to/python benchmarks/gpu_power.sh
#
# Needs: nvidia-smi, a Python with torch (CUDA), typer, rich, psutil, numpy, packaging,
# nvidia-ml-py and pydantic (benchmarks/gpu_power_wheels.sh fetches the wheels a machine lacks
# into .whl/, installed here into /tmp/vatio-site). vatio itself runs from src/ (no install).
#
# What it does, through vatio's own `vatio power sweep` (Zeus-style, inside one run):
#   1. checks the GPU, the driver, the Python and every import, and says what is missing;
#   2. asks `vatio power show` whether this process may change the power limit;
#   3. times a few steps of benchmarks/gpu_train.py to size the windows (about 5 s each);
#   4. if the limit may change: sweeps the default plus 5 limits from the board's maximum down
#      to its minimum (--gpu-power-limits auto), N steps per limit after warm-up, 2 rounds,
#      GPU energy only (NVML energy counter, as Zeus measures), and reports the energy saved
#      at <= 10 % slowdown against the default limit; the limit is restored afterwards;
#      if it may not: says why and measures the default limit only (--default-only);
#   5. prints a Markdown table, the verdict against Zeus's published range (NSDI'23:
#      15.3-75.8 % training energy saved), then every figure as JSON.
# Files go to $OUT when it is set (the device tool), else to a temporary folder.
set -uo pipefail
T0=$(date +%s)
BUDGET_S=${GPU_POWER_BUDGET_S:-460}
OUTDIR=${OUT:-$(mktemp -d)}
TRAIN=${GPU_TRAIN:-benchmarks/gpu_train.py}  # overridable to rehearse the script without a GPU
TRAIN_ARGS=(--width "${GPU_TRAIN_WIDTH:-8192}" --layers "${GPU_TRAIN_LAYERS:-4}" --batch "${GPU_TRAIN_BATCH:-16384}")

log() { printf '[gpu_power %3ds] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
left() { echo $((BUDGET_S - ($(date +%s) - T0))); }

cd "$(dirname "$0")/.." || die "cannot enter the repository root"
mkdir -p "$OUTDIR" || die "cannot create $OUTDIR"

# -- 1. GPU, driver, Python, imports --------------------------------------------------------------
command -v nvidia-smi >/dev/null 2>&1 || die "nvidia-smi not found: this needs an NVIDIA GPU and driver"
QUERY=index,name,driver_version,persistence_mode,power.draw,power.limit,power.default_limit,power.min_limit,power.max_limit,clocks.sm,clocks.max.sm
nvidia-smi --query-gpu=$QUERY --format=csv >&2 || die "nvidia-smi cannot query the GPU"
GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
[ "$GPUS" -ge 1 ] || die "nvidia-smi lists no GPU"
[ "$GPUS" -eq 1 ] || log "note: $GPUS GPUs; the sweep sets the limit of every visible GPU (CUDA_VISIBLE_DEVICES=0 narrows it)"
LIMIT_BEFORE=$(nvidia-smi --query-gpu=power.limit --format=csv,noheader,nounits -i 0 | tr -d ' ')

PY=${VATIO_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=$(command -v python3 || true); fi
fi
[ -n "$PY" ] && [ -x "$(command -v "$PY")" ] || die "no Python found (set VATIO_PYTHON)"
log "python: $PY ($("$PY" --version 2>&1))"
if compgen -G ".whl/*.whl" >/dev/null; then
  log "installing the carried wheels .whl/*.whl into /tmp/vatio-site"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/vatio-site .whl/*.whl || die "pip could not install .whl/*.whl"
  export PYTHONPATH=/tmp/vatio-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
export VATIO_POWER_STATE_DIR=${VATIO_POWER_STATE_DIR:-$(mktemp -d)}
"$PY" - <<'EOF' >&2 || die "the Python above cannot run this benchmark (see the lines before)"
import importlib, sys
missing = []
import os
names = ["typer", "rich", "pydantic", "psutil", "numpy", "packaging", "pynvml", "vatio"]
cuda = os.environ.get("GPU_POWER_REQUIRE_CUDA", "1") == "1"  # 0 only to rehearse without a GPU
for name in names + (["torch"] if cuda else []):
    try:
        module = importlib.import_module(name)
        print(f"  {name} {getattr(module, '__version__', '')} {getattr(module, '__file__', '')}")
    except Exception as error:
        missing.append(f"{name} ({error})")
if missing:
    print("missing: " + "; ".join(missing))
    print("fetch the wheels with benchmarks/gpu_power_wheels.sh where PyPI answers, carry .whl")
    sys.exit(1)
if not cuda:
    sys.exit(0)
import torch
if not torch.cuda.is_available():
    print(f"torch {torch.__version__} sees no CUDA device (CUDA build: {torch.version.cuda})")
    sys.exit(1)
print(f"  torch CUDA {torch.version.cuda}, device {torch.cuda.get_device_name(0)}")
EOF

cleanup() {
  "$PY" -m vatio power restore >&2 2>&1 || true
  local now
  now=$(nvidia-smi --query-gpu=power.limit --format=csv,noheader,nounits -i 0 2>/dev/null | tr -d ' ')
  log "power limit at exit: ${now:-?} W (before: ${LIMIT_BEFORE:-?} W)"
}
trap cleanup EXIT

# -- 2. may this process change the power limit? ---------------------------------------------------
"$PY" -m vatio power show --json >"$OUTDIR/gpu_power_show.json" 2>>"$OUTDIR/gpu_power.log" \
  || die "vatio power show failed: $(tail -5 "$OUTDIR/gpu_power.log")"
read -r WRITABLE WHY < <("$PY" - "$OUTDIR/gpu_power_show.json" <<'EOF'
import json, sys
knobs = json.load(open(sys.argv[1]))["knobs"]
limit = next((k for k in knobs if k["key"] == "gpu_power_limit_w"), None)
if limit is None:
    print("no", "vatio found no GPU power-limit knob (NVML not reachable?)")
elif limit["writable"]:
    a = limit["allowed"]
    print("yes", f"now {limit['value']} W, range {a.get('min')}-{a.get('max')} W, default {a.get('default')} W")
else:
    print("no", f"{limit['reason']} Fix: {limit['fix']}")
EOF
)
log "power limit writable: $WRITABLE — $WHY"

# -- 3. size the windows -------------------------------------------------------------------------
CAL=$(timeout 150 "$PY" "$TRAIN" --calibrate "${TRAIN_ARGS[@]}" 2>>"$OUTDIR/gpu_power.log")
if [ -z "$CAL" ]; then
  log "calibration failed at batch ${TRAIN_ARGS[5]} (out of memory?); trying a quarter of it"
  TRAIN_ARGS[5]=$((TRAIN_ARGS[5] / 4))
  CAL=$(timeout 120 "$PY" "$TRAIN" --calibrate "${TRAIN_ARGS[@]}" 2>>"$OUTDIR/gpu_power.log") \
    || die "gpu_train.py --calibrate failed: $(tail -5 "$OUTDIR/gpu_power.log")"
fi
log "calibration: $CAL (model: ${TRAIN_ARGS[*]})"
if [ "$WRITABLE" = yes ]; then SETTINGS=6; REPEAT=2; else SETTINGS=1; REPEAT=3; fi
read -r STEPS WARMUP REPEAT TOTAL EST < <("$PY" - "$CAL" "$SETTINGS" "$REPEAT" "$(left)" <<'EOF'
import json, math, sys
ms = json.loads(sys.argv[1])["ms_per_step"]
settings, repeat, left = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
steps = max(20, min(400, round(5000 / ms)))      # about 5 s per measured window
warmup = max(5, steps // 5)                     # a new limit settles within about a second
budget = left - 90                              # start-up, CUDA init, tail, report
slow = 1.6                                      # low limits run slower; a margin for it
def estimate(steps, repeat):
    return (steps + warmup) * settings * repeat * ms / 1000 * slow + steps * ms / 1000
while estimate(steps, repeat) > budget and repeat > 1:
    repeat -= 1
while estimate(steps, repeat) > budget and steps > 20:
    steps = max(20, int(steps * 0.8))
total = (steps + warmup) * settings * repeat + steps
print(steps, warmup, repeat, total, round(estimate(steps, repeat)))
EOF
)
[ -n "${TOTAL:-}" ] || die "could not size the windows from the calibration"
log "windows: $STEPS steps after $WARMUP warm-up, $SETTINGS setting(s) x $REPEAT round(s), $TOTAL steps in all, about ${EST}s"

# -- 4. the sweep --------------------------------------------------------------------------------
ARGS=(power sweep --steps "$STEPS" --warmup-steps "$WARMUP" --repeat "$REPEAT" --devices gpu
  --max-slowdown 10% --no-store --json -o "$OUTDIR/gpu_power_best.json")
if [ "$WRITABLE" = yes ]; then ARGS+=(--gpu-power-limits auto); else ARGS+=(--default-only); fi
LIMIT_S=$(($(left) - 25))
[ "$LIMIT_S" -gt 60 ] || die "no time left for the sweep"
log "vatio ${ARGS[*]} -- gpu_train.py --steps $TOTAL (at most ${LIMIT_S}s)"
timeout --signal=TERM --kill-after=20 "$LIMIT_S" "$PY" -m vatio "${ARGS[@]}" -- \
  "$PY" "$TRAIN" --steps "$TOTAL" "${TRAIN_ARGS[@]}" \
  >"$OUTDIR/gpu_power.json" 2>>"$OUTDIR/gpu_power.log"
RC=$?
tail -n 25 "$OUTDIR/gpu_power.log" >&2
[ "$RC" -eq 124 ] || [ "$RC" -eq 143 ] && log "the sweep hit its time limit: partial results below"
[ -s "$OUTDIR/gpu_power.json" ] || die "the sweep wrote no result (exit $RC): see $OUTDIR/gpu_power.log"

# -- 5. the report ---------------------------------------------------------------------------------
"$PY" - "$OUTDIR/gpu_power.json" "$CAL" "$WRITABLE" "$WHY" <<'EOF'
import json, statistics, subprocess, sys
from datetime import datetime, timezone
section = json.load(open(sys.argv[1]))
cal, writable, why = json.loads(sys.argv[2]), sys.argv[3] == "yes", sys.argv[4]
smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader", "-i", "0"],
                     capture_output=True, text=True).stdout.strip()
print(f"## GPU power-limit sweep (`benchmarks/gpu_power.sh`)\n")
print(f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {smi}; energy: "
      f"{section.get('method')} (GPU only, **measured**); {section['steps']} steps per window after "
      f"{section['warmup_steps']} warm-up, {section['repeat']} round(s), medians; status {section['status']}.\n")
if not writable:
    print(f"**The power limit cannot be changed here**: {why}\n\nMeasured at the default limit only:\n")
print("| setting | GPU J/step (median, min–max) | ms/step | W | slowdown | saving | |")
print("|---|---|---|---|---|---|---|")
chosen = section["choice"]["index"]
def pct(value):
    return "—" if value is None else f"{value:+.1%}"
def num(value, scale=1.0, digits=1):
    return "—" if value is None else f"{value * scale:.{digits}f}"
for i, row in enumerate(section["settings"]):
    per = [r["energy_j"] / r["units"] for r in row["repeats"] if r["units"]]
    if not per:
        print(f"| {row['label']} | — | — | — | — | — | {row['missing'] or 'not measured'} |")
        continue
    marks = " ".join(m for m, on in (("chosen", i == chosen), ("pareto", row["pareto"]),
                                      ("too slow", not row["feasible"])) if on)
    print(f"| {row['label']} | {statistics.median(per):.2f} ({min(per):.2f}–{max(per):.2f}) | "
          f"{num(row['time_per_unit_s'], 1000)} | {num(row['power_w'], 1, 0)} | "
          f"{pct(row['slowdown'])} | {pct(row['saving'])} | {marks} |")
print()
if writable and chosen is not None:
    row = section["settings"][chosen]
    saving = row["saving"] or 0.0
    where = ("inside" if 0.153 <= saving <= 0.758 else "below" if saving < 0.153 else "above")
    print(f"**Energy saved at ≤ 10 % slowdown vs the default limit: {saving:.1%}** "
          f"({row['label']}, {row['slowdown']:+.1%} time; GPU energy per step, measured). Zeus "
          f"(NSDI'23) reports 15.3–75.8 % training energy saved on its GPUs and workloads: this "
          f"is {where} that range (another GPU, model and batch size; a reference, not a target).")
elif writable:
    print(f"No choice: {section['choice']['reason']}.")
for note in section.get("notes") or []:
    print(f"- note: {note}")
for line in section.get("restored") or []:
    print(f"- restored: {line}")
print(f"\nCalibration: {cal['ms_per_step']:.1f} ms per step at the default limit ({cal.get('gpu')}).")
EOF
echo
echo '```json'
cat "$OUTDIR/gpu_power.json"
echo '```'
LIMIT_AFTER=$(nvidia-smi --query-gpu=power.limit --format=csv,noheader,nounits -i 0 | tr -d ' ')
if [ "$LIMIT_AFTER" != "$LIMIT_BEFORE" ]; then
  die "the power limit is $LIMIT_AFTER W, not $LIMIT_BEFORE W as before: run '$PY -m vatio power restore'"
fi
log "done in $(($(date +%s) - T0)) s; power limit back to $LIMIT_AFTER W; files in $OUTDIR"
