"""Round trip of pv-export's AnnData zarr store: anndata.read_zarr must give back exactly what pv-normalize wrote.

usage: anndata_roundtrip.py STORE DIR [split.tsv]
  STORE   the store pv-export wrote from DIR (expr.npy, obs.tsv, genes.tsv), with --split split.tsv when given.
Checks X (float32, bit-equal to expr.npy), obs (barcode index, every column of obs.tsv with the type pandas reads,
plus condition/set/group of split.tsv) and var (symbol index, every other column of genes.tsv); prints the versions
it ran with. Exits non-zero with the first difference.
"""
import sys
from importlib.metadata import version

import anndata as ad
import numpy as np
import pandas as pd

store, folder = sys.argv[1], sys.argv[2]
split = sys.argv[3] if len(sys.argv) > 3 else None
a = ad.read_zarr(store)

X = np.load(folder + "/expr.npy")
assert isinstance(a.X, np.ndarray) and a.X.dtype == np.float32, f"X is {type(a.X)} {getattr(a.X, 'dtype', None)}"
assert a.X.shape == X.shape and np.array_equal(a.X, X), "X differs from expr.npy"

text = {c: str for c in ["label", "condition", "set", "group", "gene_id", "symbol"]}
# Numbers parsed exactly as pv parsed them (pandas < 3 parses fast and approximately by default).
exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def same_frame(got, want, what):
    assert got.index.name == want.index.name, f"{what} index name {got.index.name!r} != {want.index.name!r}"
    assert list(got.index) == list(want.index), f"{what} index differs"
    assert all(isinstance(v, str) for v in got.index), f"{what} index holds non-strings (bytes?)"
    assert list(got.columns) == list(want.columns), f"{what} columns {list(got.columns)} != {list(want.columns)}"
    for c in want.columns:
        g, w = got[c], want[c]
        assert g.dtype.kind == w.dtype.kind or (g.dtype.kind in "OUT" and w.dtype.kind in "OUT"), \
            f"{what}.{c}: dtype {g.dtype} != {w.dtype}"
        if w.dtype.kind == "f":
            assert np.array_equal(g.to_numpy(), w.to_numpy(), equal_nan=True), f"{what}.{c} differs"
        else:
            assert list(g) == list(w.fillna("") if w.dtype.kind == "O" else w), f"{what}.{c} differs"
            if w.dtype.kind == "O":
                assert all(isinstance(v, str) for v in g), f"{what}.{c} holds non-strings (bytes?)"


obs = pd.read_csv(folder + "/obs.tsv", sep="\t", comment="#", index_col="barcode", dtype=text, **exact)
if split:
    s = pd.read_csv(split, sep="\t", comment="#", dtype=str, keep_default_na=False)
    assert list(s["barcode"]) == list(obs.index)
    for c in ["condition", "set", "group"]:
        obs[c] = s[c].to_numpy()
same_frame(a.obs, obs, "obs")

genes = pd.read_csv(folder + "/genes.tsv", sep="\t", comment="#", dtype=text, **exact)
var = genes.set_index("symbol" if "symbol" in genes.columns else "gene_id")
same_frame(a.var, var, "var")
print(f"ok: {a.n_obs} x {a.n_vars}; anndata {version('anndata')}, zarr {version('zarr')}, pandas {version('pandas')}")
