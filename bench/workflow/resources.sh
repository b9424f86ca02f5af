#!/usr/bin/env bash
# Peak memory (max RSS) and wall time of each workflow rule's tool on one simulated screen, next to the input sizes
# that workflow/rules/*.smk size mem_mb from (README "Running on a cluster", table of rules of thumb).
#   bash bench/workflow/resources.sh [--bin .build/release] [--cells 20000] [--genes 2000]
set -euo pipefail
BIN=.build/release CELLS=20000 GENES=2000 WORK=${WORK:-/tmp/pv-bench-resources}
while [ $# -gt 0 ]; do
  case $1 in --bin) BIN=$2; shift 2;; --cells) CELLS=$2; shift 2;; --genes) GENES=$2; shift 2;;
    *) echo "usage: $0 [--bin DIR] [--cells N] [--genes N]" >&2; exit 64;; esac
done
rm -rf "$WORK"; mkdir -p "$WORK"; O=$WORK
mb() { du -cm --apparent-size "$@" | tail -n 1 | cut -f1; }
m() { # name, input files (comma-separated), command...
  local name=$1 ins=$2; shift 2
  local r; r=$(/usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -n 1)
  IFS=, read -ra files <<< "$ins"
  printf '%-16s %8s s %8.0f MB peak   inputs %6s MB\n' "$name" "${r% *}" "$(( ${r#* } / 1024 ))" "$(mb "${files[@]}")"
}
"$BIN/pv-simulate" -q --threads 1 --cells "$CELLS" --genes "$GENES" --seed 1 --out "$O/screen"
m normalize "$O/screen/matrix.mtx.gz" "$BIN/pv-normalize" -q --threads 1 --labels "$O/screen/cells.tsv" --out "$O" "$O/screen"
m split "$O/obs.tsv" "$BIN/pv-split" -q --out "$O/split.tsv" "$O/obs.tsv"
m train "$O/expr.npy,$O/split.tsv" "$BIN/pv-train" -q --threads 1 --steps 30 --out "$O/m.npz" "$O/expr.npy" "$O/split.tsv"
m train_baseline "$O/expr.npy,$O/split.tsv" "$BIN/pv-train" -q --model additive --out "$O/a.npz" "$O/expr.npy" "$O/split.tsv"
m predict "$O/m.npz,$O/expr.npy,$O/split.tsv" "$BIN/pv-predict" -q --threads 1 --out "$O/p" "$O/m.npz" "$O/expr.npy" "$O/split.tsv"
m predict_baseline "$O/a.npz,$O/expr.npy,$O/split.tsv" "$BIN/pv-predict" -q --threads 1 --out "$O/pa" "$O/a.npz" "$O/expr.npy" "$O/split.tsv"
m score "$O/expr.npy,$O/split.tsv,$O/p/pred.npy,$O/pa/pred.npy" "$BIN/pv-score" -q --threads 1 \
  --pred x="$O/p/pred.npy" --pred a="$O/pa/pred.npy" "$O/expr.npy" "$O/split.tsv"
