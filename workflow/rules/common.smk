# Configuration, paths and the resource rules of thumb shared by every rule.

RESULTS = config.get("results", "results/workflow").rstrip("/")
DATASETS = config["datasets"]
MODELS = config.get("models", {})
SEEDS = [int(s) for s in config.get("seeds", [0])]
BASELINES = config.get("baselines", {})
THREADS = int(config.get("threads", 2))

_bad = [n for n in list(DATASETS) + list(MODELS) + list(BASELINES) if not re.fullmatch(r"[A-Za-z0-9_.+-]+", str(n))]
if _bad:
    raise WorkflowError(f"names of datasets, models and baselines may use letters, digits and _ . + - only: {_bad}")
# pred-MODEL-sSEED/ and pred-BASELINE/ share a folder namespace, as do the names in pv-score's table
_clash = set(MODELS) & set(BASELINES) | {b for b in BASELINES for m in MODELS if re.fullmatch(re.escape(str(m)) + r"-s\d+", str(b))}
if _clash:
    raise WorkflowError(f"a baseline has the name of a model configuration (or of one of its seeds): {sorted(_clash)}")


def tool(name):
    """Path of a pv tool: config `bin` (default .build/release, relative to the working directory); '' = PATH."""
    b = config.get("bin", ".build/release")
    return os.path.join(b, name) if b else name


def one_of(names):
    """Wildcard constraint matching exactly the given names (so `pred-additive-rank` never parses as a seed)."""
    return "|".join(re.escape(str(n)) for n in names) if names else "(?!)"


wildcard_constraints:
    ds=one_of(DATASETS),
    model=one_of(MODELS),
    baseline=one_of(BASELINES),
    seed=r"\d+",


def opts(d, key):
    """Options string of a config entry (a string or a list of strings); '' when absent."""
    v = (d or {}).get(key, "")
    return " ".join(str(x) for x in v) if isinstance(v, list) else str(v or "")


# Resource rules of thumb (mem_mb in MB, runtime in minutes), from the inputs' sizes on disk. Measured peaks
# (max RSS; README "Running on a cluster") sit below these with room to spare; each failed attempt retried with
# `--retries` gets the memory and time multiplied by the attempt number. `mem_factor` and `runtime_factor`
# in the config scale all of them (e.g. for a slow or shared file system).
MEM_FACTOR = float(config.get("mem_factor", 1.0))
RUNTIME_FACTOR = float(config.get("runtime_factor", 1.0))


def size_mb(paths):
    total = 0
    for p in paths:
        try:
            total += os.path.getsize(p)
        except OSError:
            pass  # not made yet: Snakemake evaluates resources again when the job is ready to run
    return total / 1e6


def mem(base, per_mb):
    """mem_mb = (base + per_mb x input MB) x attempt x mem_factor."""
    return lambda wildcards, input, attempt: int((base + per_mb * size_mb(input)) * attempt * MEM_FACTOR)


def runtime(base, per_mb=0.0):
    """runtime (min) = (base + per_mb x input MB) x attempt x runtime_factor."""
    return lambda wildcards, input, attempt: int((base + per_mb * size_mb(input)) * attempt * RUNTIME_FACTOR) + 1


# First line of every job's log: where it ran and, through Slurm, its job id (to find Slurm's own log and
# accounting: sacct -j ID). The tool's stderr follows.
LOG_HEAD = 'echo "# pv workflow job on $(hostname), slurm job ${{SLURM_JOB_ID:-none}}" > {log}; '
