#!/usr/bin/env python3
"""Known answers for pv's baseline model kinds (Sources/PVShared/Baselines), computed independently with numpy.

Writes Tests/PVSharedTests/Fixtures/baselines/{expr.npy,split.tsv,genes.txt,expected.json}.
Run from the repository root:  python3 Tests/reference/make_baseline_fixture.py

Definitions (DESIGN.md §5; Ahlmann-Eltze et al. 2025 for `linear`):
  control   delta 0
  mean      mean over training perturbation conditions of (condition mean - control mean)
  additive  seen condition: its own training mean change; unseen combination: sum of single-gene changes
  additive rank r: single-gene changes S (K x G) replaced by m + U_r U_r^T (S - m), m = row mean of S,
            U_r the top-r left singular vectors of S - m
  linear    run_linear_pretrained_model.R with training-data embeddings (pca_dim d, ridge lambda)
Only cells with set == train are used; val/test cells carry wild values so that any leak shows.
"""
import json, os
import numpy as np

rng = np.random.default_rng(7)
G = 6
genes = ["A", "B", "C", "G4", "G5", "G6"]
base = np.array([1.0, 2.0, 0.5, 3.0, 0.0, 1.5])
eff = {"A": np.array([1.0, 0.0, 0.5, -0.5, 0.2, 0.0]),
       "B": np.array([0.0, -1.0, 0.3, 0.4, 0.0, 0.1]),
       "C": np.array([0.5, 0.2, 2.0, 0.0, -0.3, 0.6])}
layout = [("ctrl", "train", 6), ("A", "train", 3), ("B", "train", 4), ("C", "train", 3), ("A+B", "train", 2),
          ("ctrl", "test", 3), ("A", "val", 2), ("A+C", "test", 4), ("B+C", "test", 3)]
rows, split = [], []
for cond, s, n in layout:
    for i in range(n):
        gs = [] if cond == "ctrl" else cond.split("+")
        x = base + sum((eff[g] for g in gs), np.zeros(G)) + rng.normal(0, 0.3, G)
        if s != "train":
            x = x + 50.0  # leak detector
        rows.append(x)
        split.append((f"{cond}-{s}-{i}", cond, cond, s, "single" if len(gs) == 1 else ("double" if gs else "ctrl")))
X = np.array(rows, dtype=np.float32)
Xd = X.astype(np.float64)
sets = np.array([s[3] for s in split]); conds = np.array([s[2] for s in split])
train = sets == "train"
ctrl = Xd[train & (conds == "ctrl")].mean(0)
train_conds = sorted(set(conds[train]) - {"ctrl"})
means = {c: Xd[train & (conds == c)].mean(0) for c in train_conds}
change = {c: means[c] - ctrl for c in train_conds}

exp = {"genes": genes, "control_mean": ctrl.tolist()}
exp["mean_delta"] = np.mean([change[c] for c in train_conds], axis=0).tolist()
queries = ["A", "A+B", "A+C", "B+C", "B", "C"]
add = {}
for q in queries:
    add[q] = change[q] if q in change else sum(change[g] for g in q.split("+"))
exp["additive"] = {q: v.tolist() for q, v in add.items()}

singles = [c for c in train_conds if "+" not in c]
S = np.array([change[c] for c in singles])
m = S.mean(0)
U, sv, Vt = np.linalg.svd(S - m, full_matrices=False)
r = 1
P = m + U[:, :r] @ U[:, :r].T @ (S - m)
proj = dict(zip(singles, P))
low = {}
for q in queries:
    if q in change and "+" in q:
        low[q] = change[q]
    else:
        low[q] = sum(proj[g] for g in q.split("+"))
exp["additive_rank1"] = {q: v.tolist() for q, v in low.items()}

# Linear model (Ahlmann-Eltze): pseudobulk of training conditions incl. control, genes as rows.
d, lam = 2, 0.1
cols = ["ctrl"] + train_conds
Xpb = np.stack([ctrl] + [means[c] for c in train_conds], axis=1)  # G x P'
Xc = Xpb - Xpb.mean(0, keepdims=True)                              # prcomp centres each column
U2, s2, Vt2 = np.linalg.svd(Xc, full_matrices=False)
A = Xc @ Vt2[:d].T                                                  # pca$x, G x d
tg = [c for c in singles if c in genes]
Y = np.stack([change[c] for c in tg] + [np.zeros(G)], axis=1)       # + ctrl with embedding 0
B = np.stack([A[genes.index(c)] for c in tg] + [np.zeros(d)], axis=1)
center = Y.mean(1, keepdims=True)
Yc = Y - center
K = np.linalg.solve(A.T @ A + lam * np.eye(d), A.T @ Yc @ B.T) @ np.linalg.inv(B @ B.T + lam * np.eye(d))
lin = {}
for q in queries:
    b = sum(A[genes.index(g)] for g in q.split("+"))
    lin[q] = A @ K @ b + center[:, 0]
exp["linear_d2"] = {q: v.tolist() for q, v in lin.items()}

out = os.path.join(os.path.dirname(__file__), "..", "PVSharedTests", "Fixtures", "baselines")
os.makedirs(out, exist_ok=True)
np.save(os.path.join(out, "expr.npy"), X)
with open(os.path.join(out, "split.tsv"), "w") as f:
    f.write("barcode\tlabel\tcondition\tset\tgroup\n")
    for s in split:
        f.write("\t".join(s) + "\n")
with open(os.path.join(out, "genes.txt"), "w") as f:
    f.write("\n".join(genes) + "\n")
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(exp, f, indent=1)
print("wrote", out)
