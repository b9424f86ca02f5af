"""cell-eval on pv-export's pair against pv-score: per condition, cell-eval's pearson_delta, mse and mae must equal
pv-score's to 1e-5, and its discrimination_score_l1 pv-score's pds (when cell-eval's profile reports it).

usage: celleval_compare.py [--cli] PAIR_DIR NAME scores.tsv CONTROL_LABEL WORK_DIR
  PAIR_DIR    pv-export --cell-eval's folder (real.zarr, NAME.zarr); scores.tsv: pv-score --out for prediction NAME.
  --cli       run the `cell-eval run` command (its reader takes .h5ad only: the stores are converted with
              anndata.read_zarr(...).write_h5ad(...), and pdex computes DE); default: cell-eval's MetricsEvaluator on
              the anndata.read_zarr objects, DE skipped (pearson_delta and mse do not use it).
"""
import os
import subprocess
import sys
from importlib.metadata import version

import anndata as ad
import pandas as pd

args = sys.argv[1:]
cli = "--cli" in args
args = [a for a in args if a != "--cli"]
pair, name, scores_path, control, work = args
os.makedirs(work, exist_ok=True)
real = ad.read_zarr(f"{pair}/real.zarr")
pred = ad.read_zarr(f"{pair}/{name}.zarr")
outdir = f"{work}/cell-eval"
if cli:
    real.write_h5ad(f"{work}/real.h5ad")
    pred.write_h5ad(f"{work}/{name}.h5ad")
    cmd = [sys.executable, "-m", "cell_eval", "run", "-ar", f"{work}/real.h5ad", "-ap", f"{work}/{name}.h5ad",
           "--control-pert", control, "--pert-col", "target", "--profile", "minimal", "-o", outdir, "--num-threads", "1"]
    subprocess.run(cmd, check=True)
else:
    from cell_eval import MetricsEvaluator
    ev = MetricsEvaluator(adata_pred=pred, adata_real=real, control_pert=control, pert_col="target",
                          num_threads=1, outdir=outdir, skip_de=True)
    ev.compute(profile="minimal")
ce = pd.read_csv(f"{outdir}/results.csv").set_index("perturbation")

pv = pd.read_csv(scores_path, sep="\t", comment="#")
pv = pv[pv["prediction"] == name].set_index("condition")
assert sorted(ce.index) == sorted(pv.index), f"conditions differ: cell-eval {sorted(ce.index)} pv-score {sorted(pv.index)}"
worst = 0.0
# cell-eval's name -> pv-score's column (discrimination_score_l1 only when the profile computed it).
for metric, pv_metric in [("pearson_delta", "pearson_delta"), ("mse", "mse"), ("mae", "mae"),
                          ("discrimination_score_l1", "pds")]:
    if pv_metric not in pv.columns or metric not in ce.columns:
        continue
    c, p = ce.loc[pv.index, metric], pv[pv_metric]
    # A correlation with a constant predicted change (the control baseline predicting exactly the control mean) is
    # undefined: scipy (cell-eval) says NaN, pv-score reports 0. Anything else must agree.
    undefined = c.isna()
    assert (p[undefined] == 0).all() and not p.isna().any(), f"{metric}: undefined values disagree: cell-eval {c.to_dict()} pv-score {p.to_dict()}"
    d = (c[~undefined] - p[~undefined]).abs()
    assert len(d) > 0, f"{metric}: no condition where cell-eval's value is defined"
    worst = max(worst, d.max())
    print(f"{metric}: {len(d)} conditions, mean cell-eval {c[~undefined].mean():.6f} pv-score {p[~undefined].mean():.6f}, "
          f"largest difference {d.max():.2e} ({d.idxmax()})"
          + (f"; {undefined.sum()} undefined (cell-eval NaN, pv-score 0)" if undefined.any() else ""))
    assert d.max() <= 1e-5, f"{metric} differs by {d.max():.3g} on {d.idxmax()}"
print(f"ok: cell-eval {version('cell-eval')}, anndata {version('anndata')}, largest difference {worst:.2e}")
