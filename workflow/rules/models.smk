# Training and prediction: every model configuration x seed, and every baseline, of every dataset.


def checkpoint_opts(wc):
    """--checkpoint-every N when the model configuration asks for checkpoints (key checkpoint_every, epochs)."""
    n = MODELS[wc.model].get("checkpoint_every")
    return f"--checkpoint-every {int(n)}" if n else ""


rule train:
    input:
        expr=f"{RESULTS}/{{ds}}/expr.npy",
        split=f"{RESULTS}/{{ds}}/split.tsv",
    output:
        f"{RESULTS}/{{ds}}/model-{{model}}-s{{seed}}.npz",
    log:
        f"{RESULTS}/{{ds}}/logs/train-{{model}}-s{{seed}}.log",
    params:
        opts=lambda wc: opts(MODELS[wc.model], "train"),
        every=checkpoint_opts,
        # With checkpoint_every, pv-train writes to this file (not an output, so Snakemake keeps it when the job
        # is killed, e.g. at the time limit), resumes from it when it exists, and it is renamed to the output
        # when training finishes: a rerun (or --retries) continues where the killed job stopped.
        ckpt=f"{RESULTS}/{{ds}}/checkpoints/model-{{model}}-s{{seed}}.npz",
        tool=tool("pv-train"),
    threads: THREADS
    resources:
        # expr.npy is memory-mapped and its training cells gathered (measured 1.6 x expr.npy); weights, gradients
        # and Adam moments are 4 x ~(2 x genes x hidden) floats (40 MB at 5,000 genes): 3 x expr.npy + 1 GB
        mem_mb=mem(1000, 3),
        runtime=lambda wc, input, attempt: int(
            float(MODELS[wc.model].get("runtime", 60)) * attempt * RUNTIME_FACTOR
        ),
    shell:
        LOG_HEAD + 'out={output}; resume=""; '
        'if [ -n "{params.every}" ]; then out={params.ckpt}; mkdir -p "$(dirname {params.ckpt})"; '
        '  if [ -s {params.ckpt} ]; then resume="--resume {params.ckpt}"; echo "# resuming from {params.ckpt}" >> {log}; fi; '
        "fi; "
        "{params.tool} --threads {threads} --seed {wildcards.seed} {params.opts} {params.every} $resume --out $out"
        " {input.expr} {input.split} 2>> {log}; "
        'if [ "$out" != {output} ]; then mv {params.ckpt} {output}; fi'


rule train_baseline:
    input:
        expr=f"{RESULTS}/{{ds}}/expr.npy",
        split=f"{RESULTS}/{{ds}}/split.tsv",
    output:
        f"{RESULTS}/{{ds}}/baseline-{{baseline}}.npz",
    log:
        f"{RESULTS}/{{ds}}/logs/train-baseline-{{baseline}}.log",
    params:
        opts=lambda wc: opts(BASELINES[wc.baseline], "train"),
        tool=tool("pv-train"),
    threads: 1
    resources:
        mem_mb=mem(500, 3),
        runtime=runtime(10, 0.01),
    shell:
        LOG_HEAD + "{params.tool} --threads {threads} {params.opts} --out {output} {input.expr} {input.split} 2>> {log}"


PREDICT_RESOURCES = dict(
    # expr.npy mapped and the predicted cells (as many as the truth's) held: 2 x the inputs + 1 GB (measured 1.4 x)
    mem_mb=mem(1000, 2),
    runtime=runtime(10, 0.01),
)


rule predict:
    input:
        model=f"{RESULTS}/{{ds}}/model-{{model}}-s{{seed}}.npz",
        expr=f"{RESULTS}/{{ds}}/expr.npy",
        split=f"{RESULTS}/{{ds}}/split.tsv",
    output:
        multiext(f"{RESULTS}/{{ds}}/pred-{{model}}-s{{seed}}/", "pred.npy", "pred.tsv", "means.npy", "means.tsv"),
    log:
        f"{RESULTS}/{{ds}}/logs/predict-{{model}}-s{{seed}}.log",
    params:
        opts=lambda wc: opts(MODELS[wc.model], "predict"),
        out=f"{RESULTS}/{{ds}}/pred-{{model}}-s{{seed}}",
        tool=tool("pv-predict"),
    threads: THREADS
    resources:
        **PREDICT_RESOURCES,
    shell:
        LOG_HEAD + "{params.tool} --threads {threads} {params.opts} --out {params.out} {input.model} {input.expr} {input.split}"
        " 2>> {log}"


rule predict_baseline:
    input:
        model=f"{RESULTS}/{{ds}}/baseline-{{baseline}}.npz",
        expr=f"{RESULTS}/{{ds}}/expr.npy",
        split=f"{RESULTS}/{{ds}}/split.tsv",
    output:
        multiext(f"{RESULTS}/{{ds}}/pred-{{baseline}}/", "pred.npy", "pred.tsv", "means.npy", "means.tsv"),
    log:
        f"{RESULTS}/{{ds}}/logs/predict-{{baseline}}.log",
    params:
        opts=lambda wc: opts(BASELINES[wc.baseline], "predict"),
        out=f"{RESULTS}/{{ds}}/pred-{{baseline}}",
        tool=tool("pv-predict"),
    threads: 1
    resources:
        **PREDICT_RESOURCES,
    shell:
        LOG_HEAD + "{params.tool} --threads {threads} {params.opts} --out {params.out} {input.model} {input.expr} {input.split}"
        " 2>> {log}"
