# One self-contained HTML page per dataset (pv-report): the score table of every predictor, the predicted against
# the true change and interaction of each held-out double for each model configuration (its first seed) and the
# reference baseline, and each model configuration's training curves and learned graph (its first seed).


def report_preds(ds):
    s = SEEDS[0]
    preds = [(m, f"{RESULTS}/{ds}/pred-{m}-s{s}") for m in MODELS]
    if REFERENCE in BASELINES:
        preds.append((REFERENCE, f"{RESULTS}/{ds}/pred-{REFERENCE}"))
    return preds


def report_models(ds):
    return [(m, f"{RESULTS}/{ds}/model-{m}-s{SEEDS[0]}.npz") for m in MODELS]


rule report:
    input:
        scores=f"{RESULTS}/{{ds}}/scores.json",
        expr=f"{RESULTS}/{{ds}}/expr.npy",
        split=f"{RESULTS}/{{ds}}/split.tsv",
        preds=lambda wc: [f"{d}/pred.npy" for _, d in report_preds(wc.ds)],
        models=lambda wc: [p for _, p in report_models(wc.ds)],
    output:
        f"{RESULTS}/{{ds}}/report.html",
    log:
        f"{RESULTS}/{{ds}}/logs/report.log",
    params:
        args=lambda wc: " ".join(
            [f"--pred {n}={d}" for n, d in report_preds(wc.ds)] + [f"--model {n}={p}" for n, p in report_models(wc.ds)]
        ),
        title=lambda wc: f"pv workflow: {wc.ds}",
        tool=tool("pv-report"),
    threads: 1
    resources:
        # the truth and the scattered predictions are read: 1.5 x the inputs + 1 GB, as pv-score
        mem_mb=mem(1000, 1.5),
        runtime=runtime(10, 0.01),
    shell:
        LOG_HEAD + "{params.tool} --title '{params.title}' {params.args} --out {output}"
        " {input.scores} {input.expr} {input.split} 2>> {log}"
