#!/usr/bin/env bash
# Norman-scale end-to-end run, timed stage by stage (issue 11): pv-simulate a screen of 100,000 cells x 5,000 genes
# with 100 targets and 100 doubles, then pv-normalize (all genes kept), pv-split, pv-train (PerturbedVAE, 100
# epochs), the additive baseline, pv-predict of both, pv-score. Prints one line per stage (wall, CPU, peak RSS,
# throughput) and writes them to $WORK/stages.tsv.
#   bash bench/e2e/run.sh                                   the full size (~30 min of training per member)
#   CELLS=20000 GENES=1000 EPOCHS=5 bash bench/e2e/run.sh   a quick run
# Env: CELLS GENES TARGETS DOUBLES EPOCHS ENSEMBLE (1: members train one after another, so N members take N times
# the training line) THREADS WORK (/tmp/pv-bench-e2e) BIN (.build/release) SEED
set -euo pipefail
cd "$(dirname "$0")/../.."
CELLS=${CELLS:-100000}; GENES=${GENES:-5000}; TARGETS=${TARGETS:-100}; DOUBLES=${DOUBLES:-100}
EPOCHS=${EPOCHS:-100}; ENSEMBLE=${ENSEMBLE:-1}; THREADS=${THREADS:-$(nproc)}; SEED=${SEED:-1}
WORK=${WORK:-/tmp/pv-bench-e2e}; BIN=${BIN:-.build/release}
[ -x "$BIN/pv-train" ] || swift build -c release >&2
S=$WORK/screen; O=$WORK/out
rm -rf "$O"; mkdir -p "$WORK" "$O"
TSV=$WORK/stages.tsv
printf "stage\twall_s\tcpu_s\tpeak_rss_gib\tthroughput\n" > "$TSV"
echo "Norman-scale run: $CELLS cells, $GENES genes, $TARGETS targets, $DOUBLES doubles; $EPOCHS epochs, ensemble $ENSEMBLE; threads $THREADS on $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# stage NAME UNIT_COUNT UNIT command...: runs it under /usr/bin/time, prints and records wall, CPU, peak RSS and
# UNIT_COUNT/wall (e.g. cells/s).
stage() {
  local name=$1 count=$2 unit=$3; shift 3
  local log=$WORK/$name.time
  /usr/bin/time -v -o "$log" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || { echo "stage $name failed:"; tail -5 "$WORK/$name.err"; exit 1; }
  awk -F': ' -v name="$name" -v n="$count" -v unit="$unit" -v tsv="$TSV" '
    /Elapsed \(wall clock\)/ { k = split($2, a, ":"); w = 0; for (i = 1; i <= k; i++) w = w * 60 + a[i] }
    /Maximum resident set size/ { r = $2 / 1048576 }
    /User time|System time/ { c += $2 }
    END { t = n > 0 ? sprintf("%.0f %s/s", n / w, unit) : "";
          printf "%-16s wall %9.1f s   cpu %9.1f s   peak RSS %6.2f GiB   %s\n", name, w, c, r, t;
          printf "%s\t%.2f\t%.2f\t%.3f\t%s\n", name, w, c, r, t >> tsv }' "$log"
}

stage simulate "$CELLS" cells "$BIN/pv-simulate" --cells "$CELLS" --genes "$GENES" --targets "$TARGETS" \
  --doubles "$DOUBLES" --seed "$SEED" --out "$S"
stage normalize "$CELLS" cells "$BIN/pv-normalize" --threads "$THREADS" --labels "$S/cells.tsv" --out "$O" "$S"
stage split "$CELLS" cells "$BIN/pv-split" --out "$O/split.tsv" "$O/obs.tsv"
TRAIN_CELLS=$(awk -F'\t' '!/^#/ && $4 == "train" && $5 != "ctrl"' "$O/split.tsv" | wc -l)
stage train-pvae $((TRAIN_CELLS * EPOCHS * ENSEMBLE)) cell-epochs "$BIN/pv-train" --threads "$THREADS" --seed "$SEED" \
  --epochs "$EPOCHS" --ensemble "$ENSEMBLE" --out "$O/model.npz" "$O/expr.npy" "$O/split.tsv"
stage train-additive 0 - "$BIN/pv-train" --model additive --out "$O/additive.npz" "$O/expr.npy" "$O/split.tsv"
# Predicted cells: by default as many as each test condition has in the truth.
PRED_CELLS=$(awk -F'\t' '!/^#/ && $4 == "test" && $5 != "ctrl"' "$O/split.tsv" | wc -l)
stage predict-pvae "$PRED_CELLS" cells "$BIN/pv-predict" --threads "$THREADS" --out "$O/pred-pvae" "$O/model.npz" \
  "$O/expr.npy" "$O/split.tsv"
stage predict-additive "$PRED_CELLS" cells "$BIN/pv-predict" --threads "$THREADS" --out "$O/pred-additive" \
  "$O/additive.npz" "$O/expr.npy" "$O/split.tsv"
TEST_CELLS=$(awk -F'\t' '!/^#/ && $4 == "test"' "$O/split.tsv" | wc -l)
stage score "$TEST_CELLS" "truth cells" "$BIN/pv-score" --threads "$THREADS" --out "$O/scores.tsv" \
  --pred pvae="$O/pred-pvae/pred.npy" --pred additive="$O/pred-additive/pred.npy" "$O/expr.npy" "$O/split.tsv"
echo "train-pvae: $TRAIN_CELLS perturbed training cells x $EPOCHS epochs x $ENSEMBLE member(s); predict-pvae: $PRED_CELLS cells"
echo "stages: $TSV; scores: $O/scores.tsv; pv-score's summary:"
cat "$WORK/score.out"
