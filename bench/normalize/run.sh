#!/usr/bin/env bash
# pv-normalize against its inflate floor and against scanpy, on one generated 10x matrix (genes x cells, gzipped).
#   bash bench/normalize/run.sh                 100,000 cells x 20,000 genes, 10% nonzero (~200M nonzeros; several GB)
#   CELLS=10000 GENES=5000 bash bench/normalize/run.sh    a quick run
# Env: CELLS GENES DENSITY N_TOP THREADS REPEAT (3) WORK (folder for the data, default /tmp/pv-bench-normalize)
#      SKIP_SCANPY=1, PV (the pv-normalize binary, default .build/release/pv-normalize: another build to compare)
# Each repeat times, back to back on the same file, the inflate floor (inflate_floor.c: zlib inflate of matrix.mtx.gz
# on one thread, output discarded) and pv-normalize, and prints pv's wall time over the floor's; then the medians.
# scanpy runs once. Also prints peak memory (max RSS), nonzeros/s, pv/scanpy and whether the HVG sets agree.
set -euo pipefail
cd "$(dirname "$0")/../.."
CELLS=${CELLS:-100000}; GENES=${GENES:-20000}; DENSITY=${DENSITY:-0.1}; N_TOP=${N_TOP:-2000}
THREADS=${THREADS:-$(nproc)}; REPEAT=${REPEAT:-3}
WORK=${WORK:-/tmp/pv-bench-normalize}
DATA=$WORK/tenx-${CELLS}x${GENES}-${DENSITY}
PV=${PV:-.build/release/pv-normalize}
[ -x "$PV" ] || swift build -c release >&2
mkdir -p "$WORK"
cc -O2 -o "$WORK/inflate_floor" bench/normalize/inflate_floor.c -lz
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
echo "data: $CELLS cells x $GENES genes, $NNZ nonzeros, $(du -h "$DATA/matrix.mtx.gz" | cut -f1) gzipped; threads $THREADS; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

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
report() { awk -v w="$2" -v r="$3" -v c="$4" -v n="$NNZ" -v l="$1" 'BEGIN { printf "%-8s wall %8.2f s   cpu %8.2f s   peak RSS %7.2f GiB   %7.2f M nonzeros/s (wall)\n", l, w, c, r / 1048576, n / w / 1e6 }'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

OUT=$WORK/out-pv
RATIOS=""; PV_WALLS=""; FL_WALLS=""; PV_RSSS=""; PV_CPUS=""
for i in $(seq 1 "$REPEAT"); do
  read -r _ FL_WALL FL_RSS FL_CPU < <(measure floor "$WORK/inflate_floor" "$DATA/matrix.mtx.gz" | tail -1)
  rm -rf "$OUT"
  read -r _ PV_WALL PV_RSS PV_CPU < <(measure pv "$PV" --quiet --threads "$THREADS" --n-top-genes "$N_TOP" --out "$OUT" "$DATA" | tail -1)
  R=$(awk -v a="$PV_WALL" -v b="$FL_WALL" 'BEGIN { printf "%.3f", a / b }')
  echo "run $i: inflate floor wall $FL_WALL s (cpu $FL_CPU s); pv-normalize wall $PV_WALL s (cpu $PV_CPU s, peak RSS $(awk -v r="$PV_RSS" 'BEGIN { printf "%.2f", r / 1048576 }') GiB); pv / floor $R; load average $(cut -d' ' -f1 /proc/loadavg)"
  RATIOS+=" $R"; PV_WALLS+=" $PV_WALL"; FL_WALLS+=" $FL_WALL"; PV_RSSS+=" $PV_RSS"; PV_CPUS+=" $PV_CPU"
done
PV_WALL=$(echo "$PV_WALLS" | median); PV_RSS=$(echo "$PV_RSSS" | median); PV_CPU=$(echo "$PV_CPUS" | median)
echo "median of $REPEAT: pv-normalize wall / inflate floor wall $(echo "$RATIOS" | median) (target <= 1.3); pv wall $PV_WALL s, floor wall $(echo "$FL_WALLS" | median) s; pv peak RSS $(awk -v r="$(echo "$PV_RSSS" | tr ' ' '\n' | sort -g | tail -1)" 'BEGIN { printf "%.2f", r / 1048576 }') GiB at most (target <= 2.33 GiB = 2.5 GB)"
report pv "$PV_WALL" "$PV_RSS" "$PV_CPU"
if [ "${SKIP_SCANPY:-0}" = 1 ]; then exit 0; fi
if ! python3 -c "import scanpy" 2>/dev/null; then echo "scanpy not installed (pip install scanpy): comparison skipped"; exit 0; fi
read -r _ SC_WALL SC_RSS SC_CPU < <(NUMBA_NUM_THREADS=$THREADS measure scanpy python3 bench/normalize/scanpy_ref.py "$DATA" "$N_TOP" "$WORK/scanpy_hvg.txt" "$WORK/scanpy_inproc.txt" | tail -1)
report scanpy "$SC_WALL" "$SC_RSS" "$SC_CPU"
awk -v a="$PV_WALL" -v b="$SC_WALL" -v c="$PV_RSS" -v d="$SC_RSS" -v e="$PV_CPU" -v f="$SC_CPU" 'BEGIN { printf "ratio pv/scanpy: wall %.3f, cpu %.3f, peak memory %.3f (wall speed-up %.1fx)\n", a / b, e / f, c / d, b / a }'
awk -v a="$PV_WALL" -v b="$(cat "$WORK/scanpy_inproc.txt")" 'BEGIN { printf "scanpy in-process (read + normalise + log1p + hvg + dense, no imports): %.2f s; pv wall / that: %.3f\n", b, a / b }'
PV_HVG=$(awk -F'\t' '!/^#/ && NR > 1 && $5 == "True" { print $1 }' "$OUT/genes.tsv" | sort)
if [ "$PV_HVG" = "$(sort "$WORK/scanpy_hvg.txt")" ]; then echo "HVG sets: identical ($(echo "$PV_HVG" | wc -l) genes)"
else echo "HVG sets: DIFFER ($(comm -3 <(echo "$PV_HVG") <(sort "$WORK/scanpy_hvg.txt") | wc -l) genes in one only)"; fi
