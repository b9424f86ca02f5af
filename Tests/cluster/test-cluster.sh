#!/usr/bin/env bash
# make test-cluster: pv's Snakemake workflow, locally and through a real single-node Slurm on this machine.
#  1. the demo sweep (workflow/config/demo.yaml shrunk by small.yaml) locally, with workflow/profiles/local
#  2. the same sweep through Slurm, with workflow/profiles/slurm as shipped, from its own working directory
#  3. checks: Snakemake finds nothing left to do; every rule's log names the Slurm job that ran it, which COMPLETED;
#     every prediction and the scores equal the local run's (same seeds, same threads)
#  4. a failing rule (locally, and through Slurm): Snakemake exits non-zero, the tool's error line in the rule's log
#  5. a training job stopped mid-way continues from its checkpoint and gives the uninterrupted run's predictions
# The Slurm part (2-4) starts the cluster with Tests/cluster/local-slurm.sh (accounting on, so the profile's defaults
# work) and stops it at the end unless it was already running; it skips, saying why in one line, when not root or
# without apt-get. Needs `make build` and `make workflow-deps` first (the Makefile target does both).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
here=Tests/cluster
slurm_sh="$repo/$here/local-slurm.sh"
smk="$repo/${SMK_VENV:-.venv-smk}/bin/snakemake"
out="$repo/results/test-cluster"
t_start=$(date +%s)

say() { printf 'test-cluster: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
# same_npy A B: the same .npy array (header up to its closing brace, and data); the header's padding holds the
# id of the run that wrote it, which differs between runs
same_npy() {
  local ha hb
  ha=$(( $(od -An -tu2 -j8 -N2 "$1") + 10 )); hb=$(( $(od -An -tu2 -j8 -N2 "$2") + 10 ))
  [ "$ha" = "$hb" ] && [ "$(head -c "$ha" "$1" | tr -d '\0' | sed 's/}.*/}/')" = "$(head -c "$hb" "$2" | tr -d '\0' | sed 's/}.*/}/')" ] \
    && cmp -s -i "$ha" "$1" "$2"
}

[ -x "$smk" ] || fail "no $smk: run make workflow-deps"
[ -x .build/release/pv-train ] || fail "no tools in .build/release: run make build"

# The same thread count in every run (files are identical for the same seed and threads). One thread per job lets
# two jobs share a 2-core node: each Slurm job costs ~10 s of submission, jobstep start and polling.
threads=1
configs=("$repo/workflow/config/demo.yaml" "$repo/$here/small.yaml")
rm -rf "$out"
mkdir -p "$out/local" "$out/slurm" "$out/failing" "$out/resume"

# The Slurm runs (2 and 4) start first and run in the background while the local checks (1, 5, 4a) run: most of
# their time is Slurm's polling and one Snakemake start per job.
slurm=1
if [ "$(id -u)" -ne 0 ]; then slurm=0; why="needs root to start Slurm's daemons"
elif ! command -v apt-get >/dev/null && ! command -v slurmctld >/dev/null; then
  slurm=0; why="Slurm is not installed and apt-get is unavailable"
fi
if [ "$slurm" = 1 ]; then
  # Start the cluster; stop it at the end only if this run started it.
  was_running=0
  if "$slurm_sh" status 2>/dev/null | grep -q '^slurmctld: running'; then was_running=1; fi
  mode=on
  if [ "$was_running" = 1 ] && [ "$(cat /run/local-slurm/mode 2>/dev/null)" = plain ]; then mode=off; fi
  cleanup() {
    # a failed check may leave the background runs going: TERM to their `timeout` (which passes it to snakemake)
    for p in ${slurm_pid:-} ${failing_pid:-}; do pkill -TERM -P "$p" 2>/dev/null || true; done
    if [ "$was_running" = 0 ]; then "$slurm_sh" stop >/dev/null 2>&1 || true; fi
  }
  trap cleanup EXIT
  t0=$(date +%s)
  if [ "$mode" = on ]; then "$slurm_sh" start --accounting >/dev/null; else "$slurm_sh" start >/dev/null; fi
  say "Slurm up (accounting: $mode) after $(( $(date +%s) - t0 )) s"
  # Without accounting sacct fails and the executor must poll squeue (workflow/profiles/slurm/config.yaml).
  poll=(--slurm-init-seconds-before-status-checks 1)
  [ "$mode" = off ] && poll+=(--slurm-status-command squeue)
  # 2. the sweep through Slurm
  t_slurm=$(date +%s)
  (cd "$out/slurm" && timeout -k 10 270 "$smk" -s "$repo/workflow/Snakefile" --profile "$repo/workflow/profiles/slurm" \
     "${poll[@]}" --configfile "${configs[@]}" --config bin="$repo/.build/release" results=results threads=$threads \
     >snakemake.log 2>&1 && echo 0 > rc || echo $? > rc) &
  slurm_pid=$!
  # 4. a failing rule through Slurm: the first job fails (pv-simulate rejects --genes 0)
  (cd "$out/failing" && timeout -k 10 240 "$smk" -s "$repo/workflow/Snakefile" --profile "$repo/workflow/profiles/slurm" \
     "${poll[@]}" --configfile "${configs[@]}" --config bin="$repo/.build/release" results=results threads=$threads \
     'datasets={demo: {simulate: "--genes 0"}}' >snakemake.log 2>&1 && echo 0 > rc || echo $? > rc) &
  failing_pid=$!
fi


# 1. local
t0=$(date +%s)
(cd "$out/local" && timeout -k 10 240 "$smk" -s "$repo/workflow/Snakefile" --profile "$repo/workflow/profiles/local" \
   --configfile "${configs[@]}" --config bin="$repo/.build/release" results=results threads=$threads \
   >snakemake.log 2>&1) || { tail -n 30 "$out/local/snakemake.log" >&2; fail "local run failed ($out/local/snakemake.log)"; }
say "local run: $(( $(date +%s) - t0 )) s"

# 5. A training job killed mid-way (here: the checkpoint pv-train leaves when stopped after epoch 10) is continued
# by the next run from its checkpoint (config checkpoint_every) and gives the same predictions as the run never
# interrupted. The pv-train options are small.yaml's for pvae.
t0=$(date +%s)
mkdir -p "$out/resume/results/demo/checkpoints"
cp -p "$out/local/results/demo/"{expr.npy,genes.tsv,obs.tsv,split.tsv} "$out/resume/results/demo/"
cd "$out/resume"
"$repo/.build/release/pv-train" -q --threads $threads --seed 1 --steps 200 --lr 1e-3 --hidden 64 --u-compose mlp --ensemble 1 --checkpoint-every 5 \
  --stop-after-epoch 10 --out results/demo/checkpoints/model-pvae-s1.npz results/demo/expr.npy results/demo/split.tsv \
  2>stopped.log || { cat stopped.log >&2; fail "pv-train --stop-after-epoch failed"; }
timeout -k 10 120 "$smk" -s "$repo/workflow/Snakefile" --profile "$repo/workflow/profiles/local" \
   --configfile "${configs[@]}" --config bin="$repo/.build/release" results=results threads=$threads \
   'models={pvae: {checkpoint_every: 5}}' -- results/demo/pred-pvae-s1/pred.npy >snakemake.log 2>&1 \
  || { tail -n 30 snakemake.log >&2; fail "the run resuming a checkpoint failed ($out/resume/snakemake.log)"; }
grep -q '^# resuming from results/demo/checkpoints/model-pvae-s1.npz' results/demo/logs/train-pvae-s1.log \
  || fail "training did not resume from its checkpoint (results/demo/logs/train-pvae-s1.log)"
[ ! -e results/demo/checkpoints/model-pvae-s1.npz ] || fail "the checkpoint was not moved to the model file"
same_npy results/demo/pred-pvae-s1/pred.npy "$out/local/results/demo/pred-pvae-s1/pred.npy" \
  || fail "predictions of the resumed model differ from those of the uninterrupted run"
cd "$repo"
say "a training job resumed from its checkpoint gives the uninterrupted run's predictions ($(( $(date +%s) - t0 )) s)"

# 4a. A failing rule, locally: the first job fails (pv-simulate rejects --genes 0).
mkdir -p "$out/failing-local"
cd "$out/failing-local"
rc=0
timeout -k 10 120 "$smk" -s "$repo/workflow/Snakefile" --profile "$repo/workflow/profiles/local" \
   --configfile "${configs[@]}" --config bin="$repo/.build/release" results=results threads=$threads \
   'datasets={demo: {simulate: "--genes 0"}}' >snakemake.log 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a failing rule left Snakemake with exit status 0 (local)"
grep -q '^pv-simulate: --genes must be at least 1' results/demo/logs/simulate.log \
  || fail "the tool's error line is not in $out/failing-local/results/demo/logs/simulate.log"
[ ! -e results/demo/screen/matrix.mtx.gz ] || fail "a failed rule left its output behind (local)"
cd "$repo"
say "a failing rule, locally: Snakemake exit status $rc, the tool's error line in the rule's log"

if [ "$slurm" = 0 ]; then say "Slurm part skipped: $why"; exit 0; fi
wait "$slurm_pid" || true
wait "$failing_pid" || true
if [ "$(cat "$out/slurm/rc")" != 0 ]; then
  tail -n 30 "$out/slurm/snakemake.log" >&2
  fail "Slurm run failed or timed out, exit status $(cat "$out/slurm/rc") ($out/slurm/snakemake.log)"
fi
say "Slurm run: $(( $(date +%s) - t_slurm )) s (beside the local checks)"


# 3. checks
cd "$out/slurm"
"$smk" -s "$repo/workflow/Snakefile" -n --configfile "${configs[@]}" \
  --config bin="$repo/.build/release" results=results threads=$threads >dryrun.log 2>&1 \
  || fail "dry run after the Slurm run failed (dryrun.log)"
grep -q 'Nothing to be done' dryrun.log || fail "outputs missing or out of date after the Slurm run: $out/slurm/dryrun.log"
nlogs=$(ls results/demo/logs/*.log | wc -l)
[ "$nlogs" -ge 20 ] || fail "only $nlogs job logs"
# every job's log starts with its Slurm job id (rules of a group job share one)
if grep -L '^# pv workflow job on .*, slurm job [0-9][0-9]*$' results/demo/logs/*.log | grep .; then
  fail "the logs above do not name a Slurm job in their first line"
fi
ids=$(sed -s -n '1s/^# pv workflow job on .*, slurm job \([0-9][0-9]*\)$/\1/p' results/demo/logs/*.log | sort -un)
njobs=$(printf '%s\n' $ids | grep -c .)
for id in $ids; do
  if [ "$mode" = on ]; then st=$(sacct -n -X -P -j "$id" -o State | head -n 1)
  else st=$(scontrol -o show job "$id" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'); fi
  [ "$st" = COMPLETED ] || fail "Slurm job $id: state '${st}' (expected COMPLETED)"
done
say "$nlogs rules ran in $njobs Slurm jobs, each COMPLETED"
for f in scores.tsv scores.txt; do
  cmp -s <(grep -v '^#' "results/demo/$f") <(grep -v '^#' "$out/local/results/demo/$f") \
    || fail "$f of the Slurm run differs from the local run's: diff $out/slurm/results/demo/$f $out/local/results/demo/$f"
done
for p in results/demo/pred-*/pred.npy; do
  same_npy "$p" "$out/local/$p" || fail "$p of the Slurm run differs from the local run's"
done
rows=$(grep -vc '^#' results/demo/scores.tsv)
say "scores of the Slurm run equal the local run's ($rows rows of scores.tsv)"

# 4. checks of the failing run
cd "$out/failing"
rc=$(cat rc)
[ "$rc" != 0 ] || fail "a failing rule left Snakemake with exit status 0"
[ "$rc" != 124 ] && [ "$rc" != 137 ] || fail "Snakemake hung after a failing rule (killed by timeout)"
grep -q '^pv-simulate: --genes must be at least 1' results/demo/logs/simulate.log \
  || fail "the tool's error line is not in results/demo/logs/simulate.log"
grep -q 'results/demo/logs/simulate.log' snakemake.log || fail "Snakemake's output does not name the failed rule's log"
[ ! -e results/demo/screen/matrix.mtx.gz ] || fail "a failed rule left its output behind"
say "a failing rule: Snakemake exit status $rc, the tool's error line in the rule's log"
say "passed in $(( $(date +%s) - t_start )) s"
