#!/usr/bin/env python3
"""Known answers for Sources/PVShared/Score/Identifiability.swift, computed independently with numpy/scipy.

Writes Tests/PVSharedTests/Fixtures/identifiability/cases.json:
  assignment  cost matrices (square, wide, tall, with ties) and the minimum total cost that
              scipy.optimize.linear_sum_assignment finds (pairs may differ under ties; the total may not)
  mcc         true [n, a] and learned [n, b] latents and the MCC: |Pearson| matrix, matched by
              linear_sum_assignment(maximize=True), mean over the min(a, b) matched pairs
  r2          target [n, a] and predictors [n, b]: per-column R^2 of the least-squares fit with intercept
              (numpy.linalg.lstsq on [1, X]), averaged over columns (sklearn r2_score's 'uniform_average')
Values are float32-rounded before the reference computation, as the Swift code reads float32.
Run from the repository root:  python3 Tests/reference/make_identifiability_fixture.py
"""
import json, os
import numpy as np
from scipy.optimize import linear_sum_assignment

rng = np.random.default_rng(20261206)
out = {"assignment": [], "mcc": [], "r2": []}


def f32(m):
    """float32 values as short decimal text that parses back to the same float32."""
    return [float(f"{v:.9g}") for v in m.astype(np.float32).ravel()]

for rows, cols, ties in [(1, 1, False), (1, 4, False), (5, 5, False), (4, 7, False), (7, 4, False),
                         (10, 10, False), (12, 20, False), (6, 6, True), (8, 5, True), (30, 30, False)]:
    cost = rng.integers(0, 4, size=(rows, cols)).astype(float) if ties else rng.normal(size=(rows, cols))
    r, c = linear_sum_assignment(cost)
    out["assignment"].append({"rows": rows, "cols": cols, "cost": cost.ravel().tolist(),
                              "total": float(cost[r, c].sum())})

def mcc(t, l):
    a, b = t.shape[1], l.shape[1]
    c = np.abs(np.corrcoef(t.T.astype(np.float64), l.T.astype(np.float64))[:a, a:])
    c = np.nan_to_num(c)
    r, k = linear_sum_assignment(c, maximize=True)
    return float(c[r, k].mean())

for n, a, b, mix in [(120, 6, 6, 0.6), (100, 5, 9, 0.8), (100, 8, 4, 0.5), (150, 10, 20, 1.0)]:
    t = rng.normal(size=(n, a)).astype(np.float32)
    # learned = a noisy random linear mix of the truth plus pure-noise columns: an MCC strictly between 0 and 1
    w = np.eye(a, b) * rng.uniform(0.5, 2, size=b) + mix * rng.normal(size=(a, b))
    l = (t @ w + 0.7 * rng.normal(size=(n, b))).astype(np.float32)
    out["mcc"].append({"n": n, "truth": f32(t), "learned": f32(l), "mcc": mcc(t, l)})

def r2(y, x):
    X = np.hstack([np.ones((x.shape[0], 1)), x.astype(np.float64)])
    coef, *_ = np.linalg.lstsq(X, y.astype(np.float64), rcond=None)
    res = y - X @ coef
    tot = ((y - y.mean(0)) ** 2).sum(0)
    return float((1 - (res ** 2).sum(0) / tot).mean())

for n, a, b, noise, degenerate in [(120, 4, 6, 0.5, False), (100, 5, 3, 1.0, False), (100, 3, 8, 0.2, True)]:
    x = rng.normal(size=(n, b)).astype(np.float32)
    if degenerate:       # a collapsed (constant) latent and an exact copy of another: no new information
        x[:, 1] = 0.25
        x[:, 5] = x[:, 2]
    y = (x @ rng.normal(size=(b, a)) + noise * rng.normal(size=(n, a))).astype(np.float32)
    out["r2"].append({"n": n, "target": f32(y), "predictors": f32(x), "r2": r2(y, x)})

path = "Tests/PVSharedTests/Fixtures/identifiability/cases.json"
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path, [(k, len(v)) for k, v in out.items()], [round(c["mcc"], 4) for c in out["mcc"]],
      [round(c["r2"], 4) for c in out["r2"]])
