#!/usr/bin/env python3
"""Prediction oracle: pv-predict (prior, delta, --latents, --graph) against the PyTorch reference.

    python3 bench/reference/check_predict.py .build/release [--tol 1e-4] [--keep DIR]

1. Exact part. A model written by the reference (pv's --init-only weights, perturbed, so nothing hides behind the
   initialisation) with log β_ν(u) forced to -40 for every u, so the prior noise sqrt(β_ν)·ε is ~1e-9 and every
   prediction is deterministic. Each row of pv's pred.npy is recomputed in PyTorch (float64) from the control cell
   pred.tsv names, for --predict prior and delta, for singles, a seen double and an unseen double. --latents (μ_ι and
   z_ν posterior means of every cell) and --graph (Λ_νν edges per condition, each target's program) are compared too.
2. Noise part. The same model with log β_ν(u) varying by condition (about -1.4 to 0.6) and a screen with a single
   control cell in set 'train', so every predicted cell starts from the same control and differs only by noise:
   pv's per-gene mean and variance of 4,000 predicted cells must agree with 40,000 reference draws (mean within 5
   standard errors, variance within 15%), for prior and delta.
Exit 0 on agreement (or "skipped: torch not installed"), 1 on a mismatch, 2 when pv fails.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    import torch
except ImportError:
    print("skipped: torch not installed")
    sys.exit(0)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pvae  # noqa: E402
from check_gradients import DI, DN, H, make_screen  # noqa: E402

CONDITIONS = ["T0", "T6", "T0+T1", "T3+T5"]      # singles, a seen double, an unseen double


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAILED ({p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
        sys.exit(2)
    return p


def read_tsv(path):
    rows = [ln.rstrip("\n").split("\t") for ln in open(path) if ln.strip() and not ln.startswith("#")]
    return rows[0], rows[1:]


def label(cond, targets):
    u = np.zeros(len(targets), np.float64)
    if cond != "ctrl":
        for g in cond.split("+"):
            u[targets.index(g)] = 1
    return u


def model_with_logbeta(base_path, out_path, seed, logbeta_bias, logbeta_w_scale):
    m, meta = pvae.read_model(base_path)
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in m.named_tensors():
            p.add_(0.3 * torch.randn_like(p) * p.abs().max())
        m.ulogbeta.W.mul_(logbeta_w_scale)
        m.ulogbeta.b.fill_(logbeta_bias) if logbeta_w_scale == 0 else m.ulogbeta.b.add_(logbeta_bias)
    pvae.write_model(m, out_path, pvae.model_meta(m.cfg, meta["genes"], meta["targets"]))


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def exact_part(train, predict, work, args, failures):
    X, conds, targets = make_screen(work, np.random.default_rng(args.seed))
    expr, split = os.path.join(work, "expr.npy"), os.path.join(work, "split.tsv")
    base = os.path.join(work, "init.npz")
    run([train, "--init-only", "--seed", str(args.seed), "--hidden", str(H), "--latent-inv", str(DI),
         "--latent-resp", str(DN), "--quiet", "--out", base, expr, split])
    mpath = os.path.join(work, "model-det.npz")
    model_with_logbeta(base, mpath, args.seed, -40.0, 0.0)
    m, meta = pvae.read_model(mpath)
    m = m.double()
    targets = meta["targets"]
    barcode_row = {f"cell{i}": i for i in range(len(conds))}
    X64 = torch.from_numpy(X.astype(np.float64))
    print("== exact: deterministic prior (log β_ν = -40)")
    for mode in ("prior", "delta"):
        out = os.path.join(work, f"pred-{mode}")
        run([predict, "--threads", "1", "--quiet", "--predict", mode, "--conditions", ",".join(CONDITIONS),
             "--cells-per-condition", "7", "--seed", "5", "--out", out, mpath, expr, split])
        P = np.load(os.path.join(out, "pred.npy"))
        hdr, rows = read_tsv(os.path.join(out, "pred.tsv"))
        ci, bi = hdr.index("condition"), hdr.index("control_barcode")
        src = [barcode_row[r[bi]] for r in rows]
        if any(conds[s] != "ctrl" for s in src):
            failures.append(f"{mode}: pred.tsv names a non-control source cell")
        u = torch.from_numpy(np.stack([label(r[ci], targets) for r in rows]))
        eps = torch.zeros(len(rows), DN, dtype=torch.float64)
        with torch.no_grad():
            ref = (m.predict_prior if mode == "prior" else m.predict_delta)(X64[src], u, eps).numpy()
        if P.shape != ref.shape:
            failures.append(f"{mode}: pred.npy shape {P.shape}, expected {ref.shape}")
            continue
        for c in CONDITIONS:
            sel = [i for i, r in enumerate(rows) if r[ci] == c]
            e = rel(P[sel], ref[sel]) if sel else float("nan")
            flag = "" if sel and e <= args.tol else "  <-- MISMATCH"
            print(f"  {mode:<6} {c:<8} {len(sel):>3} cells  rel err {e:.1e}{flag}")
            if flag:
                failures.append(f"{mode} {c}: rel err {e:.1e} over {len(sel)} cells")

    print("== exact: --latents and --graph")
    lat, graph = os.path.join(work, "latents.tsv"), os.path.join(work, "graph.tsv")
    run([predict, "--threads", "1", "--quiet", "--conditions", "T0", "--cells-per-condition", "1",
         "--latents", lat, "--graph", graph, "--edge-threshold", "0.25", "--out", os.path.join(work, "pred-l"),
         mpath, expr, split])
    hdr, rows = read_tsv(lat)
    mi = [hdr.index(f"mu_inv_{j + 1}") for j in range(DI)]
    zi = [hdr.index(f"z_resp_{j + 1}") for j in range(DN)]
    ci = hdr.index("condition")
    src = [barcode_row[r[hdr.index("barcode")]] for r in rows]
    u = torch.from_numpy(np.stack([label(r[ci], targets) for r in rows]))
    with torch.no_grad():
        mu_ref, zn_ref = (t.numpy() for t in m.posterior_means(X64[src], u))
    mu = np.array([[float(r[j]) for j in mi] for r in rows])
    zn = np.array([[float(r[j]) for j in zi] for r in rows])
    for name, a, b in (("mu_inv", mu, mu_ref), ("z_resp", zn, zn_ref)):
        e = rel(a, b)
        flag = "" if e <= max(args.tol, 2e-5) else "  <-- MISMATCH"      # TSV holds 6 significant digits
        print(f"  latents {name:<7} {len(rows)} cells  rel err {e:.1e}{flag}")
        if flag:
            failures.append(f"latents {name}: rel err {e:.1e}")
    # graph
    U = torch.from_numpy(np.stack([label("ctrl", targets)] + [label(t, targets) for t in targets]))
    with torch.no_grad():
        lnn, _, mu_n, _ = (t.numpy() for t in m.unets(U))
    ri, cj = (t.numpy() for t in torch.tril_indices(DN, DN, offset=-1))
    want = {}
    for s, cond in enumerate(["ctrl"] + targets):
        for p, (i, j) in enumerate(zip(ri, cj)):
            if abs(lnn[s, p]) > 0.25:
                want[(cond, f"z_resp_{j + 1}", f"z_resp_{i + 1}")] = lnn[s, p]
    ghdr, grows = read_tsv(graph)
    got = {(r[1], r[2], r[3]): float(r[4]) for r in grows if r[0] == "edge"}
    missing, extra = set(want) - set(got), set(got) - set(want)
    close_to_threshold = {k for k in missing | extra if abs(abs(want.get(k, got.get(k))) - 0.25) < 1e-4}
    werr = max([abs(got[k] - want[k]) / max(abs(want[k]), 1e-9) for k in set(want) & set(got)] or [0])
    ok = not ((missing | extra) - close_to_threshold) and werr <= 1e-4
    print(f"  graph edges: {len(got)} from pv, {len(want)} expected, weight rel err {werr:.1e}"
          f"{'' if ok else '  <-- MISMATCH'}")
    if not ok:
        failures.append(f"graph edges: missing {sorted(missing)[:3]}, extra {sorted(extra)[:3]}, weight err {werr:.1e}")
    prog = {r[1]: (r[3], float(r[4])) for r in grows if r[0] == "program"}
    bad = []
    for k, t in enumerate(targets):
        d = mu_n[k + 1] - mu_n[0]
        j = int(np.argmax(np.abs(d)))
        if t not in prog or prog[t][0] != f"z_resp_{j + 1}" or abs(prog[t][1] - d[j]) > 1e-4 * max(abs(d[j]), 1e-6):
            bad.append(f"{t}: pv {prog.get(t)}, expected z_resp_{j + 1} {d[j]:.5g}")
    print(f"  graph programs: {len(prog)} targets{'' if not bad else '  <-- MISMATCH ' + '; '.join(bad[:3])}")
    failures.extend("program " + b for b in bad)


def noise_part(train, predict, work, args, failures):
    print("== noise: one control cell, 4,000 predicted cells per condition against 40,000 reference draws")
    X, conds, targets = make_screen(work, np.random.default_rng(args.seed))
    ctrl = [i for i, c in enumerate(conds) if c == "ctrl"]
    keep = ctrl[0]
    split = os.path.join(work, "split1.tsv")
    with open(os.path.join(work, "split.tsv")) as f, open(split, "w") as g:
        lines = f.read().splitlines()
        g.write(lines[0] + "\n")
        for i, ln in enumerate(lines[1:]):
            fields = ln.split("\t")
            if conds[i] == "ctrl" and i != keep:
                fields[3] = "val"             # only one control cell in 'train': every prediction starts there
            g.write("\t".join(fields) + "\n")
    expr = os.path.join(work, "expr.npy")
    base = os.path.join(work, "init.npz")
    mpath = os.path.join(work, "model-noise.npz")
    model_with_logbeta(base, mpath, args.seed + 1, -0.4, 0.3)
    m, meta = pvae.read_model(mpath)
    m = m.double()
    targets = meta["targets"]
    x0 = torch.from_numpy(X[[keep]].astype(np.float64))
    n_pv, n_ref = 4000, 40000
    gen = torch.Generator().manual_seed(args.seed)
    for mode in ("prior", "delta"):
        out = os.path.join(work, f"pred-noise-{mode}")
        run([predict, "--threads", "1", "--quiet", "--predict", mode, "--conditions", ",".join(CONDITIONS),
             "--cells-per-condition", str(n_pv), "--seed", "9", "--out", out, mpath, expr, split])
        P = np.load(os.path.join(out, "pred.npy")).astype(np.float64)
        hdr, rows = read_tsv(os.path.join(out, "pred.tsv"))
        ci = hdr.index("condition")
        for c in CONDITIONS:
            sel = [i for i, r in enumerate(rows) if r[ci] == c]
            u = torch.from_numpy(label(c, targets)).expand(n_ref, -1)
            eps = torch.randn(n_ref, DN, generator=gen, dtype=torch.float64)
            with torch.no_grad():
                R = (m.predict_prior if mode == "prior" else m.predict_delta)(x0.expand(n_ref, -1), u, eps).numpy()
            a = P[sel]
            se = np.sqrt(a.var(0) / len(sel) + R.var(0) / n_ref) + 1e-12
            z = float(np.max(np.abs(a.mean(0) - R.mean(0)) / se))
            vr = a.var(0) / np.maximum(R.var(0), 1e-30)
            informative = R.var(0) > 1e-8 * max(float(R.var(0).max()), 1e-30)
            vdev = float(np.max(np.abs(vr[informative] - 1))) if informative.any() else 0.0
            ok = len(sel) == n_pv and z <= 5 and vdev <= 0.15
            print(f"  {mode:<6} {c:<8} {len(sel):>5} cells  max |Δmean|/SE {z:4.1f}  max |var ratio − 1| {vdev:.3f}"
                  f"{'' if ok else '  <-- MISMATCH'}")
            if not ok:
                failures.append(f"noise {mode} {c}: mean z {z:.1f}, variance ratio off by {vdev:.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bin")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--keep", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    train, predict = os.path.join(args.bin, "pv-train"), os.path.join(args.bin, "pv-predict")
    for t in (train, predict):
        if not os.access(t, os.X_OK):
            print(f"check_predict: {t} is not an executable")
            sys.exit(2)
    work = args.keep or tempfile.mkdtemp(prefix="pv-predcheck-")
    os.makedirs(work, exist_ok=True)
    failures = []
    exact_part(train, predict, work, args, failures)
    noise_part(train, predict, work, args, failures)
    print()
    if failures:
        print(f"FAIL: {len(failures)} mismatch(es):")
        for f in failures:
            print("  " + f)
        print(f"files kept in {work}")
        sys.exit(1)
    print("OK: pv-predict (prior, delta, latents, graph) agrees with the PyTorch reference")
    if not args.keep:
        import shutil
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
