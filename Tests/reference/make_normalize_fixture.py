#!/usr/bin/env python3
"""Makes the pv-normalize known-answer fixture Tests/PVSharedTests/Fixtures/norm_small/ with scanpy 1.11.

A small random count matrix (100 cells x 200 genes: 3 all-zero genes, pairs of identical genes so that means,
dispersions and normalised dispersions tie) written as a 10x folder, plus scanpy's expected outputs for several
pv-normalize command lines (cases.tsv: case name and arguments):
  expected/<case>_expr.npy   normalised log expression of the kept genes (cells x genes, float32)
  expected/<case>_genes.tsv  every gene scanpy analysed: gene_id, means, dispersions, dispersions_norm,
                             highly_variable, in_expr
  expected/<case>_obs.tsv    barcode of every kept cell and its total counts
Variants of the same matrix in other Matrix Market layouts (array, real, shuffled coordinate) are under variants/.

Run from the repository root:  python3 Tests/reference/make_normalize_fixture.py
"""
import gzip
import os
import warnings

import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp
from anndata import AnnData

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(__file__), "..", "PVSharedTests", "Fixtures", "norm_small")
rng = np.random.default_rng(20261123)
n_cells, n_genes = 100, 200

# Counts: gene-specific rates, a few overdispersed genes, 3 all-zero genes, identical gene pairs.
rates = rng.gamma(0.6, 2.0, size=n_genes)
X = rng.poisson(rates[None, :] * rng.gamma(2.0, 0.5, size=(n_cells, 1))).astype(np.int64)
X[:, [5, 17, 30]] = 0
X[:, 11] = X[:, 10]          # identical pairs: equal means and dispersions (ties)
X[:, 25] = X[:, 24]
X[rng.random((n_cells, n_genes)) < 0.35] = 0   # extra sparsity
X[:, [5, 17, 30]] = 0
X[:, 11] = X[:, 10]
X[:, 25] = X[:, 24]
X[7, :] = 0                  # one empty cell (size factor 0, kept all zero)
X[8, :] = 0
X[8, 2] = 1                  # one very shallow cell (filtered by --min-counts 3)

genes = [f"G{i:02d}" for i in range(n_genes)]
ids = [f"ENSG{i:05d}" for i in range(n_genes)]
barcodes = [f"CELL{i:03d}-1" for i in range(n_cells)]

os.makedirs(os.path.join(OUT, "expected"), exist_ok=True)
os.makedirs(os.path.join(OUT, "variants"), exist_ok=True)


def gz_write(path, text):
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(text.encode())


# 10x folder: matrix.mtx.gz (genes x cells, sorted by cell as Cell Ranger writes), barcodes, features.
coo = sp.coo_matrix(X.T)
order = np.lexsort((coo.row, coo.col))
rows, cols, vals = coo.row[order], coo.col[order], coo.data[order]
lines = ["%%MatrixMarket matrix coordinate integer general", "% pv norm_small fixture",
         f"{n_genes} {n_cells} {len(vals)}"]
lines += [f"{r + 1} {c + 1} {v}" for r, c, v in zip(rows, cols, vals)]
gz_write(os.path.join(OUT, "matrix.mtx.gz"), "\n".join(lines) + "\n")
with open(os.path.join(OUT, "barcodes.tsv"), "w") as f:
    f.write("".join(b + "\n" for b in barcodes))
with open(os.path.join(OUT, "features.tsv"), "w") as f:
    f.write("".join(f"{i}\t{g}\tGene Expression\n" for i, g in zip(ids, genes)))

# Variants: shuffled coordinate (not grouped by cell), real field with odd spellings, dense array.
perm = rng.permutation(len(vals))
body = [f"{rows[k] + 1}\t{cols[k] + 1}\t{vals[k]}" for k in perm]
with open(os.path.join(OUT, "variants", "shuffled.mtx"), "w") as f:
    f.write("\n".join(lines[:3] + body) + "\n")
spell = lambda v, k: [f"{v}.0", f"{v}", f"{v}e0", f"{v * 10}e-1", f"+{v}.000"][k % 5]
with open(os.path.join(OUT, "variants", "real.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix coordinate real general\n" + lines[2] + "\n")
    f.write("".join(f"{r + 1} {c + 1} {spell(v, k)}\n" for k, (r, c, v) in enumerate(zip(rows, cols, vals))))
with open(os.path.join(OUT, "variants", "array.mtx"), "w") as f:
    f.write("%%MatrixMarket matrix array integer general\n% column-major\n" + f"{n_genes} {n_cells}\n")
    f.write("".join(f"{X[c, g]}\n" for c in range(n_cells) for g in range(n_genes)))


def run_scanpy(flavor="seurat", n_top=10, target_sum=None, min_counts=0, min_genes=0, min_cells=0, extra_keep=()):
    ad = AnnData(sp.csr_matrix(X.astype(np.float32)))
    ad.var_names = genes
    ad.obs_names = barcodes
    if min_counts:
        sc.pp.filter_cells(ad, min_counts=min_counts)
    if min_genes:
        sc.pp.filter_cells(ad, min_genes=min_genes)
    if min_cells:
        sc.pp.filter_genes(ad, min_cells=min_cells)
    totals = np.asarray(ad.X.sum(axis=1)).ravel()
    sc.pp.normalize_total(ad, target_sum=target_sum)
    sc.pp.log1p(ad)
    sc.pp.highly_variable_genes(ad, flavor=flavor, n_top_genes=n_top)
    v = ad.var
    in_expr = v["highly_variable"].to_numpy().copy()
    for g in extra_keep:
        in_expr[list(ad.var_names).index(g)] = True
    expr = ad.X[:, in_expr].toarray().astype(np.float32)
    gene_tab = pd.DataFrame({
        "gene_id": [ids[genes.index(g)] for g in ad.var_names],
        "means": v["means"].to_numpy(), "dispersions": v["dispersions"].to_numpy(),
        "dispersions_norm": v["dispersions_norm"].to_numpy(),
        "highly_variable": v["highly_variable"].to_numpy(), "in_expr": in_expr})
    obs = pd.DataFrame({"barcode": list(ad.obs_names), "n_counts": totals})
    return expr, gene_tab, obs


cases = []


def case(name, args, **kw):
    expr, gt, obs = run_scanpy(**kw)
    np.save(os.path.join(OUT, "expected", f"{name}_expr.npy"), expr)
    gt.to_csv(os.path.join(OUT, "expected", f"{name}_genes.tsv"), sep="\t", index=False, float_format="%.17g",
              na_rep="nan")
    obs.to_csv(os.path.join(OUT, "expected", f"{name}_obs.tsv"), sep="\t", index=False)
    cases.append((name, args))
    return gt


gt = case("seurat", "--n-top-genes 10")
# cell_ranger bins by percentiles of the means; scanpy stops when all-zero genes make two edges equal, so drop them.
case("cell_ranger", "--flavor cell_ranger --min-cells 1 --n-top-genes 10", flavor="cell_ranger", min_cells=1)
case("target1e4", "--target-sum 1e4 --n-top-genes 8", target_sum=1e4, n_top=8)
case("filters", "--min-counts 3 --min-genes 2 --min-cells 5 --n-top-genes 10", min_counts=3, min_genes=2, min_cells=5)
# Ties: choose n_top so that the cutoff falls on an identical gene pair; scanpy then keeps every tied gene.
dn = np.sort(gt["dispersions_norm"].dropna().to_numpy())[::-1]
k = next(i for i in range(len(dn) - 1) if dn[i] == dn[i + 1] and i >= 2)
tie_gt = case("ties", f"--n-top-genes {k + 1}", n_top=k + 1)
assert tie_gt["highly_variable"].sum() > k + 1, "the tie case must select more genes than asked"
case("all", "--n-top-genes 1000", n_top=1000)

# Labels: a perturbation target that is not highly variable must be kept anyway.
target = next(g for g, hv, m in zip(genes, gt["highly_variable"], gt["means"]) if not hv and m > 1e-6)
with open(os.path.join(OUT, "labels.tsv"), "w") as f:
    f.write("# labels for the norm_small fixture\nbarcode\tlabel\n")
    for i, b in enumerate(barcodes):
        lab = "ctrl" if i % 3 == 0 else (target if i % 3 == 1 else f"NOTINPANEL+{target}")
        f.write(f"{b}\t{lab}\n")
case("labels", "--n-top-genes 10 --labels labels.tsv", extra_keep=(target,))

with open(os.path.join(OUT, "cases.tsv"), "w") as f:
    f.write("case\targs\n" + "".join(f"{n}\t{a}\n" for n, a in cases))
print(f"wrote {OUT}: {len(cases)} cases; target kept in 'labels': {target}")
