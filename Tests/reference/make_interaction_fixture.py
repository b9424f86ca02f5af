#!/usr/bin/env python3
"""Known answers for Sources/PVShared/Predict/InteractionShrinkage.swift, computed independently with numpy.

Writes Tests/PVSharedTests/Fixtures/interaction/cases.json:
  eb   member interaction terms I [N, G] and the empirical-Bayes posterior mean per gene (bench/fidelity/fidelity.py's
       eb_interaction): Ib = mean over members, v = var(ddof=1) / N, tau2 = max(0, mean(Ib^2) - mean(v)),
       shrunk = Ib * tau2 / (tau2 + v); cases with strong signal, pure noise (tau2 clamps to 0) and N = 2, 3, 5
  fit  additive change a, interaction I and truth y [D, G]: numpy.linalg.lstsq of y on [a, I] without intercept
Run from the repository root:  python3 Tests/reference/make_interaction_fixture.py
"""
import json
import numpy as np

rng = np.random.default_rng(20261206)
out = {"eb": [], "fit": []}
for N, G, signal in [(2, 7, 1.0), (3, 12, 2.0), (5, 30, 0.5), (3, 9, 0.0), (4, 20, 0.1)]:
    base = rng.normal(size=G) * signal
    I = base + rng.normal(size=(N, G)) * 0.6
    Ib = I.mean(0)
    v = I.var(0, ddof=1) / N
    tau2 = max(0.0, float(np.mean(Ib ** 2) - np.mean(v)))
    shrunk = Ib * tau2 / (tau2 + v) if tau2 > 0 else np.zeros(G)
    out["eb"].append({"members": I.tolist(), "mean": Ib.tolist(), "shrunk": shrunk.tolist(), "tau2": tau2})
# Members that disagree more than their mean is large: tau2 clamps to 0 and everything shrinks to additive.
I = np.array([[1.0, -1.0, 0.2], [-1.0, 1.0, 0.0]])
v = I.var(0, ddof=1) / 2
out["eb"].append({"members": I.tolist(), "mean": I.mean(0).tolist(), "shrunk": [0.0, 0.0, 0.0],
                  "tau2": max(0.0, float(np.mean(I.mean(0) ** 2) - np.mean(v)))})
assert out["eb"][-1]["tau2"] == 0.0
for D, G, k, l in [(1, 15, 0.8, 0.3), (3, 40, 0.6, -0.2), (4, 25, 1.1, 0.9)]:
    a = rng.normal(size=(D, G))
    I = rng.normal(size=(D, G)) * 0.5
    y = k * a + l * I + rng.normal(size=(D, G)) * 0.1
    w, *_ = np.linalg.lstsq(np.stack([a.ravel(), I.ravel()], 1), y.ravel(), rcond=None)
    out["fit"].append({"a": a.tolist(), "I": I.tolist(), "y": y.tolist(), "kappa": float(w[0]), "lambda": float(w[1])})
with open("Tests/PVSharedTests/Fixtures/interaction/cases.json", "w") as f:
    json.dump(out, f)
print("wrote", {k: len(v) for k, v in out.items()})
