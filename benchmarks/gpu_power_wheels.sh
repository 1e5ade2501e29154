#!/usr/bin/env bash
# Fetch, here (where PyPI answers), the wheels vatio needs that the GPU machine's image lacks,
# into .whl/ for benchmarks/gpu_power.sh to install there (it installs .whl/*.whl if present).
#
# The lent nvidia-h200 image has Python 3.12 with torch (CUDA), typer, rich, psutil, numpy,
# packaging and nvidia-ml-py, but not pydantic (vatio's profile). SQLAlchemy is not needed:
# the benchmark runs with --no-store. About 2.8 MB. Then: echo /.whl/ >> .git/info/exclude
# and name .whl in the device run's carry list.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 \
  typing-inspection==0.4.5 typing-extensions==4.16.0
ls -l .whl
