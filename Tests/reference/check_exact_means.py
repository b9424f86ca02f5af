#!/usr/bin/env python3
"""The additive baseline's predictions against the exact additive mean, computed here from expr.npy and split.tsv.

usage: check_exact_means.py expr.npy split.tsv PRED_DIR scores.tsv NAME

Exact additive mean of a test condition p (pv-train --model additive, DESIGN.md): c_train = mean of the training
control cells; delta_q = mean of the training cells of condition q - c_train; the prediction is c_train + delta_p when
p is a training condition, else c_train + sum over p's genes k of delta_k; clamped at 0. Checks:
  - no value of PRED_DIR/pred.npy or means.npy is negative;
  - means.npy (rows named by means.tsv) equals the exact mean to 1e-5 relative;
  - pv-score's mse and pearson_delta for NAME equal those of the exact mean against the truth (the test cells' mean,
    c = mean of all control cells) to 1e-5 relative.
"""
import sys
import numpy as np

expr_path, split_path, pred_dir, scores_path, name = sys.argv[1:]
X = np.load(expr_path).astype(np.float64)

def table(path):
    lines = [l.rstrip("\n").split("\t") for l in open(path) if not l.startswith("#") and l.strip()]
    head = lines[0]
    return [dict(zip(head, r)) for r in lines[1:]]

split = table(split_path)
cond = np.array([r["condition"] for r in split]); sets = np.array([r["set"] for r in split])
train = sets == "train"
c_train = X[train & (cond == "ctrl")].mean(0)
c_all = X[cond == "ctrl"].mean(0)
delta = {q: X[train & (cond == q)].mean(0) - c_train for q in set(cond[train]) if q != "ctrl"}

def exact(p):
    if p in delta:
        return np.maximum(0, c_train + delta[p])
    return np.maximum(0, c_train + sum(delta[k] for k in p.split("+")))

P = np.load(f"{pred_dir}/pred.npy"); M = np.load(f"{pred_dir}/means.npy")
assert P.min() >= 0, f"pred.npy has a negative value {P.min()}"
assert M.min() >= 0, f"means.npy has a negative value {M.min()}"
worst = 0.0
for r in table(f"{pred_dir}/means.tsv"):
    e = exact(r["condition"])
    d = np.abs(M[int(r["row"])] - e).max() / max(1.0, np.abs(e).max())
    worst = max(worst, d)
    assert d <= 1e-5, f"means.npy row {r['row']} ({r['condition']}) differs from the exact additive mean by {d:.3g}"

def pearson(a, b):
    a = a - a.mean(); b = b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return 0.0 if den == 0 else float((a * b).sum() / den)

n = 0
for r in table(scores_path):
    if r["prediction"] != name:
        continue
    p = r["condition"]
    mu = X[(sets == "test") & (cond == p)].mean(0)
    e = exact(p)
    want = {"mse": float(np.mean((e - mu) ** 2)), "pearson_delta": pearson(e - c_all, mu - c_all)}
    for m, w in want.items():
        got = float(r[m])
        assert abs(got - w) <= 1e-5 * max(abs(w), 1e-3), f"{p} {m}: pv-score {got} exact additive {w}"
    n += 1
assert n > 0, f"no rows of {name} in {scores_path}"
print(f"ok: {n} conditions, means.npy within {worst:.2e} of the exact additive mean; mse and pearson_delta agree")
