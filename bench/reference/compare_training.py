#!/usr/bin/env python3
"""Training-loop agreement: pv-train and the PyTorch reference, from the same initial weights, on the same screen.

    python3 bench/reference/compare_training.py .build/release [--steps 3000] [--lr 1e-3] [--keep DIR]

The gradient oracle (check_gradients.py) fixes one step; this checks the rest of training — batching, control
partners, annealing of β and α, Adam — by training both implementations for the same number of steps from pv's
`--init-only` weights and comparing the per-epoch loss terms (the random streams differ, so the comparison is
statistical: the last epochs' terms should agree within --rel, default 15%, and the trajectories should have the same
shape). The screen is simulated with real structure: each target shifts its own genes, doubles add their singles'
shifts, so the response latent has something to learn.
Exit 0 when the final terms agree, 1 when they do not, 2 when a tool fails; prints "skipped: torch not installed"
and exits 0 without torch.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    import torch  # noqa: F401
except ImportError:
    print("skipped: torch not installed")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
TERMS = ["loss", "mse", "mse0", "kl_resp", "kl_resp0", "kl_inv", "kl_inv0", "align"]


def make_screen(d, rng, G=200, K=10, per=60, controls=300):
    targets = [f"T{k}" for k in range(K)]
    base = rng.gamma(1.0, 1.0, size=G)
    effect = np.zeros((K, G))
    for k in range(K):
        genes = rng.choice(G, 15, replace=False)
        effect[k, genes] = rng.normal(0, 1.0, 15)
    doubles = [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9), (1, 4)]
    conds, shifts = [], []
    for _ in range(controls):
        conds.append("ctrl"); shifts.append(np.zeros(G))
    for k in range(K):
        for _ in range(per):
            conds.append(targets[k]); shifts.append(effect[k])
    for a, b in doubles:
        for _ in range(per):
            conds.append(f"{targets[a]}+{targets[b]}"); shifts.append(effect[a] + effect[b])
    mu = base * np.exp(np.array(shifts))
    X = np.log1p(rng.poisson(mu)).astype(np.float32)
    np.save(os.path.join(d, "expr.npy"), X)
    with open(os.path.join(d, "split.tsv"), "w") as f:
        f.write("barcode\tlabel\tcondition\tset\tgroup\n")
        for i, c in enumerate(conds):
            g = "ctrl" if c == "ctrl" else ("double" if "+" in c else "single")
            f.write(f"cell{i}\t{c}\t{c}\ttrain\t{g}\n")


def history(path):
    z = np.load(path)
    meta = json.loads(bytes(z["meta.json"]).decode())
    return meta.get("history", [])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bin")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta", type=float, default=1e-2)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--rel", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--keep", default=None)
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="pv-cmptrain-")
    os.makedirs(work, exist_ok=True)
    make_screen(work, np.random.default_rng(a.seed))
    expr, split = os.path.join(work, "expr.npy"), os.path.join(work, "split.tsv")
    arch = ["--hidden", "64", "--latent-inv", "10", "--latent-resp", "4"]
    train = os.path.join(a.bin, "pv-train")
    init = os.path.join(work, "init.npz")
    common = ["--lr", str(a.lr), "--beta", str(a.beta), "--alpha", str(a.alpha), "--steps", str(a.steps)]

    def run(cmd):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            print(f"FAILED: {' '.join(cmd)}\n{p.stderr}")
            sys.exit(2)
    run([train, "--init-only", "--seed", str(a.seed), *arch, "--out", init, expr, split])
    pv_out, t_out = os.path.join(work, "pv.npz"), os.path.join(work, "torch.npz")
    run([train, "--seed", str(a.seed), *arch, *common, "--threads", "1", "--quiet", "--out", pv_out, expr, split])
    run([sys.executable, os.path.join(HERE, "pvae.py"), "train", expr, split, "--out", t_out, "--init", init,
         "--seed", str(a.seed), *arch, *common, "--threads", "1", "--quiet"])
    hp, ht = history(pv_out), history(t_out)
    n = min(len(hp), len(ht))
    print(f"{n} epochs of {a.steps} steps; per-epoch means (pv / torch)")
    print(f"{'epoch':>5} " + " ".join(f"{t:>17}" for t in TERMS))
    shown = sorted({0, 1, 2, n // 10, n // 4, n // 2, 3 * n // 4, n - 2, n - 1} & set(range(n)))
    for e in shown:
        print(f"{e + 1:>5} " + " ".join(f"{hp[e][t]:>8.4g}/{ht[e][t]:<8.4g}" for t in TERMS))
    last = max(1, n // 10)
    bad = []
    print(f"mean of the last {last} epochs:")
    for t in TERMS:
        p = float(np.mean([h[t] for h in hp[-last:]]))
        q = float(np.mean([h[t] for h in ht[-last:]]))
        r = abs(p - q) / max(abs(q), 1e-9)
        flag = "" if r <= a.rel else "  <-- differs"
        print(f"  {t:<9} pv {p:.5g}  torch {q:.5g}  rel diff {r:.1%}{flag}")
        if r > a.rel:
            bad.append(t)
    if bad:
        print(f"FAIL: terms differ by more than {a.rel:.0%}: {', '.join(bad)} (files in {work})")
        sys.exit(1)
    print(f"OK: final loss terms agree within {a.rel:.0%}")


if __name__ == "__main__":
    main()
