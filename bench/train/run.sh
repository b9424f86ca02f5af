#!/usr/bin/env bash
# Training-throughput benchmark at Norman scale (G=5,000, batch 64, H=256, d_inv=85, d_resp=20, K=100):
# OpenBLAS sgemm on the step's own shapes, pv-train, and the PyTorch reference, measured in one run with the
# same thread count. Usage: bash bench/train/run.sh [--bin .build/release] [--threads 2] [--steps 200] [...]
# (all options go to bench/train/train_bench.py; see its --help).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${PV_BENCH_BUILD:-${TMPDIR:-/tmp}/pv-bench-build}"
mkdir -p "$build"
gcc -O2 -o "$build/sgemm_shapes" "$here/sgemm_shapes.c" -lopenblas
exec python3 "$here/train_bench.py" --probe "$build/sgemm_shapes" "$@"
