#!/usr/bin/env bash
# Do pv-predict and pv-score stay linear in cells? Runs bench/e2e/run.sh (1 training epoch: the model's quality does
# not matter here) on screens of 10,000, 30,000 and 100,000 cells at 5,000 genes and prints each stage's cells/s per
# size side by side: constant cells/s is linear time. Env: SIZES ("10000 30000 100000"), GENES, THREADS, WORK, BIN.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES=${SIZES:-10000 30000 100000}
WORK=${WORK:-/tmp/pv-bench-scaling}
for n in $SIZES; do
  echo "== $n cells" >&2
  CELLS=$n EPOCHS=1 WORK="$WORK/$n" bash bench/e2e/run.sh >&2
done
echo "cells/s (throughput column of each run's stages.tsv; predict: predicted cells, score: test cells scored)"
printf "%-18s" stage; for n in $SIZES; do printf "%16s" "$n cells"; done; echo
for s in normalize predict-pvae predict-additive score; do
  printf "%-18s" "$s"
  for n in $SIZES; do
    printf "%16s" "$(awk -F'\t' -v s="$s" '$1 == s { split($5, a, " "); print a[1] }' "$WORK/$n/stages.tsv")"
  done
  echo
done
