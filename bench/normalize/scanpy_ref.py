#!/usr/bin/env python3
"""The scanpy side of the pv-normalize benchmark: read_10x_mtx + normalize_total + log1p + highly_variable_genes.
usage: scanpy_ref.py TENX_DIR N_TOP OUT_GENES_TXT [TIME_TXT]
Writes the highly variable gene ids, one per line, and the in-process seconds (without imports) to TIME_TXT."""
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import scanpy as sc

d, n_top, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = time.time()
ad = sc.read_10x_mtx(d, var_names="gene_ids")
t1 = time.time()
sc.pp.normalize_total(ad)
sc.pp.log1p(ad)
sc.pp.highly_variable_genes(ad, flavor="seurat", n_top_genes=n_top)
X = ad[:, ad.var["highly_variable"].to_numpy()].X.toarray()   # the dense expr pv writes
t2 = time.time()
with open(out, "w") as f:
    f.write("".join(g + "\n" for g in ad.var_names[ad.var["highly_variable"].to_numpy()]))
if len(sys.argv) > 4:
    with open(sys.argv[4], "w") as f:
        f.write(f"{t2 - t0:.3f}\n")
print(f"scanpy: read {t1 - t0:.1f}s, normalise+log1p+hvg+dense {t2 - t1:.1f}s, {X.shape[0]} x {X.shape[1]}", file=sys.stderr)
