# A dataset's expression and split: pv-simulate (for simulated screens), pv-normalize, pv-split.


def screen_dir(ds):
    """The dataset's 10x folder: config `data`, or RESULTS/DS/screen for a `simulate` dataset."""
    d = DATASETS[ds]
    if "simulate" in d:
        return f"{RESULTS}/{ds}/screen"
    if "data" not in d:
        raise WorkflowError(f"dataset {ds}: give `data` (a 10x folder) or `simulate` (pv-simulate options)")
    return str(d["data"]).rstrip("/")


def labels_file(ds):
    return str(DATASETS[ds].get("labels", f"{screen_dir(ds)}/cells.tsv"))


def tenx_files(ds):
    """The files pv-normalize reads from the 10x folder (as it finds them: .gz or plain, features or genes)."""
    d = screen_dir(ds)
    if "simulate" in DATASETS[ds]:
        return [f"{d}/matrix.mtx.gz", f"{d}/barcodes.tsv", f"{d}/features.tsv"]
    found = []
    for stems in (["matrix.mtx"], ["barcodes.tsv"], ["features.tsv", "genes.tsv"]):
        hits = [f"{d}/{s}{gz}" for s in stems for gz in ("", ".gz") if os.path.exists(f"{d}/{s}{gz}")]
        # missing: name the usual file, so Snakemake reports it as missing input
        found.append(hits[0] if hits else f"{d}/{stems[0]}.gz")
    return found


rule simulate:
    output:
        multiext(f"{RESULTS}/{{ds}}/screen/", "matrix.mtx.gz", "barcodes.tsv", "features.tsv", "cells.tsv", "truth.npz"),
    log:
        f"{RESULTS}/{{ds}}/logs/simulate.log",
    params:
        opts=lambda wc: opts(DATASETS[wc.ds], "simulate"),
        out=lambda wc: screen_dir(wc.ds),
        tool=tool("pv-simulate"),
    threads: THREADS
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        LOG_HEAD + "{params.tool} --threads {threads} {params.opts} --out {params.out} 2>> {log}"


rule normalize:
    input:
        tenx=lambda wc: tenx_files(wc.ds),
        labels=lambda wc: labels_file(wc.ds),
    output:
        multiext(f"{RESULTS}/{{ds}}/", "expr.npy", "genes.tsv", "obs.tsv"),
    log:
        f"{RESULTS}/{{ds}}/logs/normalize.log",
    params:
        opts=lambda wc: opts(DATASETS[wc.ds], "normalize"),
        tenx=lambda wc: screen_dir(wc.ds),
        out=f"{RESULTS}/{{ds}}",
        tool=tool("pv-normalize"),
    threads: THREADS
    resources:
        # the counts are held as a sparse matrix (8-12 bytes per nonzero), the dense output written in blocks:
        # ~6 x the gzipped matrix (measured 4.8 x; plain text matrices need less per MB)
        mem_mb=mem(1000, 6),
        runtime=runtime(10, 0.02),
    shell:
        LOG_HEAD + "{params.tool} --threads {threads} {params.opts} --labels {input.labels} --out {params.out} {params.tenx}"
        " 2>> {log}"


rule split:
    input:
        f"{RESULTS}/{{ds}}/obs.tsv",
    output:
        f"{RESULTS}/{{ds}}/split.tsv",
    log:
        f"{RESULTS}/{{ds}}/logs/split.log",
    params:
        opts=lambda wc: opts(DATASETS[wc.ds], "split"),
        tool=tool("pv-split"),
    threads: 1
    resources:
        mem_mb=mem(500, 10),
        runtime=10,
    shell:
        LOG_HEAD + "{params.tool} --threads {threads} {params.opts} --out {output} {input} 2>> {log}"
