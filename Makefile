# pv: the PerturbedVAE pipeline as make rules.
#   make demo                          simulate a small screen, run every stage, print the score table
#   make test                          unit and end-to-end tests (swift test)
#   make DATA=path/to/10x OUT=results/x [LABELS=cells.tsv]   the pipeline on your own 10x folder (same as make run ...)
#   make report                        $(OUT)/report.html: scores, held-out double scatters, training curves, learned graph
#   make anndata                       AnnData zarr stores of a run: $(OUT)/expr.zarr and the cell-eval pair in $(OUT)/cell-eval
#   make interop-deps                  anndata + cell-eval in .venv-interop (the interoperability tests use it), Chromium as root
#   make workflow-deps                 Snakemake + its Slurm executor in .venv-smk (workflow/: the pipeline on a cluster)
#   make test-cluster                  the Snakemake workflow through a real single-node Slurm started here (root)
SHELL := /bin/bash
SWIFT ?= swift
BIN := .build/release
THREADS ?= $(shell nproc 2>/dev/null || echo 2)

# Pipeline parameters (override on the command line).
DATA ?= demo/screen
OUT ?= demo/out
LABELS ?= $(DATA)/cells.tsv
NORMALIZE_OPTS ?= --n-top-genes 2000
SPLIT_OPTS ?=
TRAIN_OPTS ?=
PREDICT_OPTS ?=
SCORE_OPTS ?=
BASELINES ?= control mean additive additive-rank
# PerturbedVAE training seeds: each is a replicate that pv-score summarises as mean ± sd. The first writes model.npz
# and pred-pvae/, the others model-seedN.npz and pred-pvae-seedN/.
SEEDS ?= 0
EXTRA_SEEDS = $(wordlist 2,$(words $(SEEDS)),$(SEEDS))
PVAE_PREDS = $(OUT)/pred-pvae/pred.npy $(foreach s,$(EXTRA_SEEDS),$(OUT)/pred-pvae-seed$(s)/pred.npy)
# Rank of the low-rank additive yardstick (baseline "additive-rank": pv-train --model additive --rank R).
RANK ?= 5

.PHONY: all build deps interop-deps workflow-deps test test-cluster demo run report anndata clean bench bench-e2e fidelity fidelity-quick
# Keep every intermediate (models, predictions): users inspect them and reruns reuse them.
.SECONDARY:
# `make DATA=path/to/10x OUT=results/x` runs the whole pipeline on that folder; plain `make` only builds.
ifeq ($(origin DATA),command line)
all: run
else
all: build
endif

# Installs the two system libraries when missing (Debian/Ubuntu, as root); otherwise says what to install.
deps:
	@if [ ! -e /usr/include/x86_64-linux-gnu/cblas.h ] && [ ! -e /usr/include/cblas.h ] && ! ls /usr/include/*/cblas.h >/dev/null 2>&1 \
	   || [ ! -e /usr/include/zlib.h ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing libopenblas-dev zlib1g-dev"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev zlib1g-dev >/dev/null; \
	  else echo "pv needs OpenBLAS and zlib headers: sudo apt-get install libopenblas-dev zlib1g-dev" >&2; exit 1; fi; \
	fi

# Python for the interoperability tests (anndata reads pv-export's stores, cell-eval scores them) in a git-ignored venv,
# and Chromium for rendering pv-report's HTML (Debian, as root). The tests skip, saying so, without them.
INTEROP_VENV ?= .venv-interop
interop-deps:
	@test -x $(INTEROP_VENV)/bin/python || python3 -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/pip install -q "anndata>=0.10,<0.13" "cell-eval>=0.8,<0.9"
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium not installed (needs root and apt-get); pv-report's render test will skip" >&2; fi

# Snakemake and its Slurm executor in a git-ignored venv for workflow/ (README "Running on a cluster"). Pinned to the
# versions `make test-cluster` tested; snakemake 9 needs Python 3.11+.
SMK_VENV ?= .venv-smk
SMK_PKGS := snakemake==9.27.1 snakemake-executor-plugin-slurm==2.8.0 snakemake-executor-plugin-slurm-jobstep==0.6.1
workflow-deps:
	@test -x $(SMK_VENV)/bin/python || python3 -m venv $(SMK_VENV)
	@$(SMK_VENV)/bin/pip install -q $(SMK_PKGS)

build: deps
	$(SWIFT) build -c release

test: build
	$(SWIFT) test -c release --disable-swift-testing

# The demo sweep of workflow/ through a real single-node Slurm (Tests/cluster/local-slurm.sh, as root), compared with a
# local run of the same seeds, and a failing rule. Skips, saying why, when not root or without apt-get. About 3 min.
test-cluster: build workflow-deps
	SMK_VENV=$(SMK_VENV) bash Tests/cluster/test-cluster.sh

# Benchmarks print ratios measured in one run (pv vs scanpy, pv vs OpenBLAS peak and PyTorch); see bench/*/README.md.
bench: build
	bash bench/normalize/run.sh
	bash bench/train/run.sh --bin $(BIN) --threads 1,2
	BIN=$(BIN) bash bench/e2e/scaling.sh

# The Norman-scale end-to-end run of bench/e2e (100,000 cells x 5,000 genes, 100 epochs): about 25 minutes on 2 cores.
bench-e2e: build
	BIN=$(BIN) bash bench/e2e/run.sh

# Fidelity benchmark (issue 14): PerturbedVAE variants vs the exact additive baseline on held-out doubles of several
# simulated screens x training seeds, pooled with bootstrap intervals, plus the Norman subset; see bench/fidelity/.
# Outputs under fidelity/ (fidelity-quick/), reused on reruns. Needs python3 with numpy and scipy.
fidelity: build
	python3 bench/fidelity/fidelity.py --bin $(BIN)

fidelity-quick: build
	python3 bench/fidelity/fidelity.py --quick --no-norman --bin $(BIN)

# The pipeline. Each stage is one tool; intermediate files are .npy/.npz/.tsv that numpy and pandas read.
$(OUT)/expr.npy: | build
	@mkdir -p $(OUT)
	$(BIN)/pv-normalize --threads $(THREADS) $(NORMALIZE_OPTS) --labels $(LABELS) --out $(OUT) $(DATA)

$(OUT)/split.tsv: $(OUT)/expr.npy
	$(BIN)/pv-split $(SPLIT_OPTS) --out $@ $(OUT)/obs.tsv

$(OUT)/model.npz: $(OUT)/expr.npy $(OUT)/split.tsv
	$(BIN)/pv-train --threads $(THREADS) --seed $(firstword $(SEEDS)) $(TRAIN_OPTS) --out $@ $(OUT)/expr.npy $(OUT)/split.tsv

$(OUT)/model-seed%.npz: $(OUT)/expr.npy $(OUT)/split.tsv
	$(BIN)/pv-train --threads $(THREADS) --seed $* $(TRAIN_OPTS) --out $@ $(OUT)/expr.npy $(OUT)/split.tsv

$(OUT)/baseline-%.npz: $(OUT)/expr.npy $(OUT)/split.tsv
	$(BIN)/pv-train --model $* --out $@ $(OUT)/expr.npy $(OUT)/split.tsv

$(OUT)/baseline-additive-rank.npz: $(OUT)/expr.npy $(OUT)/split.tsv
	$(BIN)/pv-train --model additive --rank $(RANK) --out $@ $(OUT)/expr.npy $(OUT)/split.tsv

$(OUT)/pred-pvae/pred.npy: $(OUT)/model.npz
	$(BIN)/pv-predict --threads $(THREADS) $(PREDICT_OPTS) --out $(OUT)/pred-pvae $< $(OUT)/expr.npy $(OUT)/split.tsv

$(OUT)/pred-pvae-seed%/pred.npy: $(OUT)/model-seed%.npz
	$(BIN)/pv-predict --threads $(THREADS) $(PREDICT_OPTS) --out $(OUT)/pred-pvae-seed$* $< $(OUT)/expr.npy $(OUT)/split.tsv

$(OUT)/pred-%/pred.npy: $(OUT)/baseline-%.npz
	$(BIN)/pv-predict $(PREDICT_OPTS) --out $(OUT)/pred-$* $< $(OUT)/expr.npy $(OUT)/split.tsv

$(OUT)/scores.tsv: $(PVAE_PREDS) $(foreach b,$(BASELINES),$(OUT)/pred-$(b)/pred.npy)
	$(BIN)/pv-score $(SCORE_OPTS) --out $@ --json $(OUT)/scores.json \
	  $(foreach p,$(PVAE_PREDS),--pred pvae=$(p)) $(foreach b,$(BASELINES),--pred $(b)=$(OUT)/pred-$(b)/pred.npy) \
	  $(OUT)/expr.npy $(OUT)/split.tsv

run: $(OUT)/scores.tsv

# One self-contained HTML page of the run (pv-report): the score table, per held-out double the predicted vs true
# change and interaction of the model and the additive yardstick, the training curves and the learned graph.
REPORT_PREDS ?= pvae additive
report: $(OUT)/report.html

$(OUT)/report.html: $(OUT)/scores.tsv $(OUT)/model.npz
	$(BIN)/pv-report --out $@ --model pvae=$(OUT)/model.npz $(foreach p,$(REPORT_PREDS),--pred $(p)=$(OUT)/pred-$(p)) \
	  $(OUT)/scores.json $(OUT)/expr.npy $(OUT)/split.tsv

# AnnData zarr stores (pv-export): the whole expression matrix with the split for scanpy, and the pair cell-eval
# compares (real.zarr, and one store per predictor with the same control cells).
anndata: $(OUT)/expr.zarr $(OUT)/cell-eval/real.zarr

$(OUT)/expr.zarr: $(OUT)/expr.npy $(OUT)/split.tsv
	$(BIN)/pv-export --split $(OUT)/split.tsv --out $@ $(OUT)

$(OUT)/cell-eval/real.zarr: $(OUT)/pred-pvae/pred.npy $(foreach b,$(BASELINES),$(OUT)/pred-$(b)/pred.npy)
	$(BIN)/pv-export --cell-eval --out $(OUT)/cell-eval --pred pvae=$(OUT)/pred-pvae \
	  $(foreach b,$(BASELINES),--pred $(b)=$(OUT)/pred-$(b)) $(OUT)/expr.npy $(OUT)/split.tsv

# The built-in example: a simulated screen with known causal truth, then every stage.
DEMO_SIM_OPTS ?= --cells-per-condition 150 --genes 400 --targets 20 --doubles 12 --seed 1
# pv-train's defaults (an ensemble of 3 members, 4,000 steps each); the two replicates are disjoint ensembles (seeds
# 1-3 and 4-6). 30% of the doubles are validation doubles (never scored) for pv-predict's --shrink val.
DEMO_TRAIN_OPTS ?=
DEMO_SPLIT_OPTS ?= --val-doubles 0.3
DEMO_SEEDS ?= 1 4
demo: build
	@mkdir -p demo
	$(BIN)/pv-simulate $(DEMO_SIM_OPTS) --out demo/screen
	$(MAKE) --no-print-directory run DATA=demo/screen OUT=demo/out NORMALIZE_OPTS="--n-top-genes 300" \
	  SPLIT_OPTS="$(DEMO_SPLIT_OPTS)" TRAIN_OPTS="$(DEMO_TRAIN_OPTS)" SEEDS="$(DEMO_SEEDS)"
	@$(MAKE) --no-print-directory report DATA=demo/screen OUT=demo/out NORMALIZE_OPTS="--n-top-genes 300" \
	  SPLIT_OPTS="$(DEMO_SPLIT_OPTS)" TRAIN_OPTS="$(DEMO_TRAIN_OPTS)" SEEDS="$(DEMO_SEEDS)" >/dev/null
	@echo "report: $(CURDIR)/demo/out/report.html"

clean:
	rm -rf .build demo
