# Scoring: every replicate (seed) of every model configuration and every baseline of a dataset in one pv-score
# call, so that the summary shows them side by side, the replicates as mean +- sd, and the paired comparison
# against the reference baseline.


# Config `replicates` (default true): every seed of a model configuration is a replicate of one predictor (pv-score
# takes a repeated `--pred NAME=`); false scores each seed as its own predictor, MODEL-sSEED.
REPLICATES = bool(config.get("replicates", True))
REFERENCE = config.get("reference", "additive")


def score_preds(ds):
    """(name, pred.npy) of every prediction of the dataset, replicates under one name when supported."""
    preds = []
    for m in MODELS:
        for s in SEEDS:
            name = m if REPLICATES else f"{m}-s{s}"
            preds.append((name, f"{RESULTS}/{ds}/pred-{m}-s{s}/pred.npy"))
    for b in BASELINES:
        preds.append((b, f"{RESULTS}/{ds}/pred-{b}/pred.npy"))
    return preds


def score_args(wc, input):
    args = " ".join(f"--pred {n}={p}" for n, p in score_preds(wc.ds))
    if REFERENCE in BASELINES:
        args += f" --reference {REFERENCE}"
    return args


rule score:
    input:
        expr=f"{RESULTS}/{{ds}}/expr.npy",
        split=f"{RESULTS}/{{ds}}/split.tsv",
        preds=lambda wc: [p for _, p in score_preds(wc.ds)],
        # pv-score reads each prediction's means.npy (exact predicted means) from beside its pred.npy
        means=lambda wc: [p.replace("/pred.npy", "/means.npy") for _, p in score_preds(wc.ds)],
    output:
        tsv=f"{RESULTS}/{{ds}}/scores.tsv",
        json=f"{RESULTS}/{{ds}}/scores.json",
        summary=f"{RESULTS}/{{ds}}/scores.txt",
    log:
        f"{RESULTS}/{{ds}}/logs/score.log",
    params:
        opts=lambda wc: opts(DATASETS[wc.ds], "score"),
        preds=score_args,
        tool=tool("pv-score"),
    threads: THREADS
    resources:
        # truth and every prediction mapped and read: 1.5 x all inputs + 1 GB (measured 1.1 x)
        mem_mb=mem(1000, 1.5),
        runtime=runtime(10, 0.01),
    shell:
        # the summary (stdout) is written beside the tables; all three are Snakemake outputs, so a failure
        # leaves none of them
        LOG_HEAD + "{params.tool} --threads {threads} {params.opts} --out {output.tsv} --json {output.json} {params.preds}"
        " {input.expr} {input.split} > {output.summary} 2>> {log}"
