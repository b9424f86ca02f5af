#!/usr/bin/env bash
# pv-normalize vs scanpy on one generated 10x matrix (genes x cells, gzipped, ~DENSITY nonzero).
#   bash bench/normalize/run.sh                 100,000 cells x 20,000 genes, 10% nonzero (~200M nonzeros; several GB)
#   CELLS=10000 GENES=5000 bash bench/normalize/run.sh    a quick run
# Env: CELLS GENES DENSITY N_TOP THREADS WORK (folder for the data, default /tmp/pv-bench-normalize) SKIP_SCANPY=1
# Prints wall time, peak memory (max RSS), nonzeros/s of each, the ratios pv/scanpy, and whether the HVG sets agree.
set -euo pipefail
cd "$(dirname "$0")/../.."
CELLS=${CELLS:-100000}; GENES=${GENES:-20000}; DENSITY=${DENSITY:-0.1}; N_TOP=${N_TOP:-2000}
THREADS=${THREADS:-$(nproc)}
WORK=${WORK:-/tmp/pv-bench-normalize}
DATA=$WORK/tenx-${CELLS}x${GENES}-${DENSITY}
[ -x .build/release/pv-normalize ] || swift build -c release >&2
mkdir -p "$WORK"
if [ ! -s "$DATA/matrix.mtx.gz" ]; then
  mkdir -p "$DATA"
  cc -O2 -o "$WORK/gen_mtx" bench/normalize/gen_mtx.c -lm
  echo "generating $CELLS cells x $GENES genes (density $DENSITY) in $DATA ..." >&2
  t0=$(date +%s.%N)
  "$WORK/gen_mtx" "$CELLS" "$GENES" "$DENSITY" 1 | gzip -1 > "$DATA/matrix.mtx.gz.part"
  mv "$DATA/matrix.mtx.gz.part" "$DATA/matrix.mtx.gz"
  awk -v n="$CELLS" 'BEGIN { for (i = 1; i <= n; i++) printf "CELL%07d-1\n", i }' | gzip -1 > "$DATA/barcodes.tsv.gz"
  awk -v n="$GENES" 'BEGIN { for (i = 1; i <= n; i++) printf "ENSG%08d\tGENE%d\tGene Expression\n", i, i }' | gzip -1 > "$DATA/features.tsv.gz"
  echo "generated in $(echo "$(date +%s.%N) - $t0" | bc) s" >&2
fi
NNZ=$( (zcat "$DATA/matrix.mtx.gz" 2>/dev/null || true) | awk '!/^%/ { print $3; exit }')
echo "data: $CELLS cells x $GENES genes, $NNZ nonzeros, $(du -h "$DATA/matrix.mtx.gz" | cut -f1) gzipped; threads $THREADS; $(nproc) cores"

measure() {  # label command... -> prints "label wall_s maxrss_kb cpu_s" (the command's stderr passes through)
  local label=$1; shift
  local log=$WORK/$label.time
  /usr/bin/time -v -o "$log" "$@" >/dev/null
  awk -F': ' -v l="$label" '
    /Elapsed \(wall clock\)/ { n = split($2, a, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + a[i] }
    /Maximum resident set size/ { r = $2 }
    /User time|System time/ { c += $2 }
    END { print l, w, r, c }' "$log"
}

OUT=$WORK/out-pv
rm -rf "$OUT"
read -r _ PV_WALL PV_RSS PV_CPU < <(measure pv .build/release/pv-normalize --threads "$THREADS" --n-top-genes "$N_TOP" --out "$OUT" "$DATA" | tail -1)
report() { awk -v w="$2" -v r="$3" -v c="$4" -v n="$NNZ" -v l="$1" 'BEGIN { printf "%-8s wall %8.2f s   cpu %8.2f s   peak RSS %7.2f GiB   %7.2f M nonzeros/s (wall)\n", l, w, c, r / 1048576, n / w / 1e6 }'; }
report pv "$PV_WALL" "$PV_RSS" "$PV_CPU"
if [ "${SKIP_SCANPY:-0}" = 1 ]; then exit 0; fi
read -r _ SC_WALL SC_RSS SC_CPU < <(NUMBA_NUM_THREADS=$THREADS measure scanpy python3 bench/normalize/scanpy_ref.py "$DATA" "$N_TOP" "$WORK/scanpy_hvg.txt" "$WORK/scanpy_inproc.txt" | tail -1)
report scanpy "$SC_WALL" "$SC_RSS" "$SC_CPU"
awk -v a="$PV_WALL" -v b="$SC_WALL" -v c="$PV_RSS" -v d="$SC_RSS" -v e="$PV_CPU" -v f="$SC_CPU" 'BEGIN { printf "ratio pv/scanpy: wall %.3f, cpu %.3f, peak memory %.3f (wall speed-up %.1fx)\n", a / b, e / f, c / d, b / a }'
awk -v a="$PV_WALL" -v b="$(cat "$WORK/scanpy_inproc.txt")" 'BEGIN { printf "scanpy in-process (read + normalise + log1p + hvg + dense, no imports): %.2f s; pv wall / that: %.3f\n", b, a / b }'
PV_HVG=$(awk -F'\t' '!/^#/ && NR > 1 && $5 == "True" { print $1 }' "$OUT/genes.tsv" | sort)
if [ "$PV_HVG" = "$(sort "$WORK/scanpy_hvg.txt")" ]; then echo "HVG sets: identical ($(echo "$PV_HVG" | wc -l) genes)"
else echo "HVG sets: DIFFER ($(comm -3 <(echo "$PV_HVG") <(sort "$WORK/scanpy_hvg.txt") | wc -l) genes in one only)"; fi
