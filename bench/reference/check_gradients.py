#!/usr/bin/env python3
"""Gradient oracle: pv's PerturbedVAE loss and gradients against the PyTorch reference (bench/reference/pvae.py).

    python3 bench/reference/check_gradients.py .build/release [--tol 1e-4] [--keep DIR] [--seed 7]

For each model variant (u-networks mlp|additive x decoder mlp|additive) it
  1. writes a small random screen (G=50 genes, K=8 targets, singles and doubles, controls: expr.npy, split.tsv),
  2. runs `pv-train --init-only` with small widths (--hidden 16 --latent-inv 5 --latent-resp 4) for the initial
     weights, and checks them against pv's initialisation (uniform in ±1/sqrt(fan_in)),
  3. builds one fixed batch (x, x0, u with repeated, double and control-like labels, fixed noises, coef = (β, α)),
  4. runs `pv-train --grad-check BATCH.npz --out GRADS.npz MODEL.npz`,
  5. computes the same loss terms and gradients in PyTorch from the same weights and noises (float64 as the truth,
     float32 to show the float32 noise floor) and compares, tensor by tensor.
The error of a tensor is max|pv − torch64| / max|torch64| (normwise, so entries that are zero by structure do not
blow up); a term's error is |pv − torch64| / max(|torch64|, 1e-6). The run passes when every error is within --tol.
It also round-trips a model written by pvae.py through pv's --grad-check (pv reads the reference's model files),
and with --mutants checks that small deliberate errors in the reference (LeakyReLU slope, packing order of Λ_νν and
Λ_νι, a 0.1% change of log β_ν in KL_ν) are each caught, so that a pass means something.

Exit status: 0 when everything matches (or when torch is not installed: prints "skipped: torch not installed"),
1 on a mismatch, 2 when pv could not be run.
"""
import argparse
import contextlib
import io
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

TERMS = ["loss", "mse", "mse0", "kl_resp", "kl_resp0", "kl_inv", "kl_inv0", "align"]
G, K, H, DI, DN = 50, 8, 16, 5, 4   # d_ν = 4: the smallest size where row- and column-major packing of Λ_νν differ


def make_screen(d, rng):
    """A small random screen: 8 targets with single cells, two doubles, a test double and controls."""
    targets = [f"T{i}" for i in range(K)]
    conds = ["ctrl"] * 40 + [t for t in targets for _ in range(12)] + ["T0+T1"] * 12 + ["T2+T4"] * 12
    sets = ["train"] * len(conds)
    conds += ["T3+T5"] * 10
    sets += ["test"] * 10
    n = len(conds)
    mean = rng.gamma(1.0, 1.0, size=G)
    X = np.log1p(rng.poisson(mean, size=(n, G))).astype(np.float32)
    np.save(os.path.join(d, "expr.npy"), X)
    with open(os.path.join(d, "split.tsv"), "w") as f:
        f.write("barcode\tlabel\tcondition\tset\tgroup\n")
        for i, (c, s) in enumerate(zip(conds, sets)):
            g = "ctrl" if c == "ctrl" else ("double" if "+" in c else "single")
            f.write(f"cell{i}\t{c}\t{c}\t{s}\t{g}\n")
    with open(os.path.join(d, "genes.tsv"), "w") as f:
        f.write("gene_id\tsymbol\tmean\tdispersion\thighly_variable\n")
        for j in range(G):
            f.write(f"G{j}\tG{j}\t{mean[j]:.4f}\t1.0\tTrue\n")
    return X, conds, targets


def make_batch(X, conds, targets, rng, beta, alpha, B=8):
    """Fixed batch: labels include a repeated single, doubles and one all-zero label (a control given as perturbed)."""
    labels = ["T0", "T0", "T3", "T0+T1", "T2+T4", "T7", "ctrl", "T6"][:B]
    rows, u = [], np.zeros((B, K), np.float32)
    for r, lab in enumerate(labels):
        cand = [i for i, c in enumerate(conds) if c == lab]
        rows.append(int(rng.choice(cand)))
        if lab != "ctrl":
            for g in lab.split("+"):
                u[r, targets.index(g)] = 1
    ctrl = [i for i, c in enumerate(conds) if c == "ctrl"]
    rows0 = rng.choice(ctrl, size=B)
    f = np.float32
    return dict(x=X[rows].astype(f), x0=X[rows0].astype(f), u=u,
                eps_inv=rng.standard_normal((B, DI)).astype(f), eps_resp=rng.standard_normal((B, DN)).astype(f),
                eps_inv0=rng.standard_normal((B, DI)).astype(f), eps_resp0=rng.standard_normal((B, DN)).astype(f),
                coef=np.array([beta, alpha], f))


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAILED ({p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
        sys.exit(2)
    return p


def rel_tensor(a, ref):
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    diff = float(np.max(np.abs(a.astype(np.float64) - ref))) if ref.size else 0.0
    if scale == 0.0:
        return diff, diff, scale     # all-zero reference gradient: report the absolute error
    return diff / scale, diff, scale


def check_init(model_path, tol_failures):
    """pv's initialisation (Model/Linear.swift): every W and b uniform in ±1/sqrt(fan_in) (nn.Linear default)."""
    m, _ = pvae.read_model(model_path)
    fan = {}
    for name, p in m.named_tensors():
        if name == "decN1.W" or name == "decN1.b":
            fan[name] = 1
        elif name == "decN2.W":
            fan[name] = m.cfg.S
        else:
            layer = getattr(m, name.split(".")[0])
            fan[name] = layer.W.shape[0]
    bad = []
    for name, p in m.named_tensors():
        v = p.detach().numpy()
        bound = 1 / np.sqrt(fan[name])
        mx = float(np.max(np.abs(v)))
        if mx > bound * (1 + 1e-6) or (v.size >= 40 and mx < 0.8 * bound):
            bad.append(f"{name}: max|v| {mx:.4g}, expected uniform in ±{bound:.4g}")
    for b in bad:
        print(f"  init MISMATCH {b}")
        tol_failures.append("init " + b)
    if not bad:
        print(f"  init: all {len(fan)} tensors uniform within ±1/sqrt(fan_in)")


def compare(pv, batch, model_path, tol, label, failures):
    model64, _ = pvae.read_model(model_path)
    ref = pvae.loss_and_grads(model64, batch, double=True)
    model32, _ = pvae.read_model(model_path)
    t32 = pvae.loss_and_grads(model32, batch, double=False)
    print(f"  {'term':<12} {'pv':>14} {'torch (f64)':>14} {'rel err':>9} {'torch f32':>9}")
    for t in TERMS:
        key = t if t in pv else None
        if key is None:
            print(f"  {t:<12} missing from pv's output")
            failures.append(f"{label}: term {t} missing")
            continue
        a, r = float(np.asarray(pv[t]).ravel()[0]), float(ref[t][0])
        e = abs(a - r) / max(abs(r), 1e-6)
        e32 = abs(float(t32[t][0]) - r) / max(abs(r), 1e-6)
        flag = "" if e <= tol else "  <-- MISMATCH"
        print(f"  {t:<12} {a:>14.7g} {r:>14.7g} {e:>9.1e} {e32:>9.1e}{flag}")
        if e > tol:
            failures.append(f"{label}: term {t}: pv {a:.7g}, torch {r:.7g} (rel {e:.1e})")
    print(f"  {'tensor':<12} {'shape':>12} {'max|g|':>10} {'rel err':>9} {'torch f32':>9}")
    for name in [k[5:] for k in ref if k.startswith("grad.")]:
        key = "grad." + name
        if key not in pv:
            print(f"  {name:<12} missing from pv's output")
            failures.append(f"{label}: grad.{name} missing")
            continue
        a = np.asarray(pv[key])
        r = ref[key]
        if a.shape != r.shape:
            print(f"  {name:<12} shape {a.shape} != {r.shape}")
            failures.append(f"{label}: grad.{name} shape {a.shape}, expected {r.shape}")
            continue
        e, diff, scale = rel_tensor(a, r)
        e32, _, _ = rel_tensor(t32[key], r)
        flag = "" if e <= tol else "  <-- MISMATCH"
        if e > tol:
            worst = np.unravel_index(int(np.argmax(np.abs(a - r))), r.shape)
            flag += f" at {tuple(int(i) for i in worst)}: pv {a[worst]:.6g} torch {r[worst]:.6g}"
            failures.append(f"{label}: grad.{name}: rel err {e:.1e} (worst {tuple(int(i) for i in worst)}: "
                            f"pv {a[worst]:.6g}, torch {r[worst]:.6g})")
        print(f"  {name:<12} {str(list(r.shape)):>12} {scale:>10.3g} {e:>9.1e} {e32:>9.1e}{flag}")
    extra = sorted(k for k in pv if k.startswith("grad.") and k not in ref)
    if extra:
        print(f"  pv has gradients the reference lacks: {extra}")
        failures.append(f"{label}: extra gradients {extra}")


def _patch(obj, attr, value):
    old = getattr(obj, attr)
    setattr(obj, attr, value)
    return lambda: setattr(obj, attr, old)


def _mut_tril():
    orig = pvae.PVAE.__init__

    def init(self, cfg):
        orig(self, cfg)
        r, c = torch.triu_indices(cfg.dN, cfg.dN, offset=1)   # column-major order of the strict lower triangle
        self.tril_r, self.tril_c = c, r
    return _patch(pvae.PVAE, "__init__", init)


def _mut_lni():
    orig = pvae.PVAE.unets

    def unets(self, U):
        a, b, c, d = orig(self, U)
        return a, b.reshape(-1, self.cfg.dI, self.cfg.dN).transpose(1, 2), c, d
    return _patch(pvae.PVAE, "unets", unets)


def _mut_kl():
    orig = pvae.kl_prior
    return _patch(pvae, "kl_prior", lambda mu, lv, lp: orig(mu, lv, None if lp is None else 0.999 * lp))


# Small deliberate errors in the reference that the comparison must detect (--mutants), so a pass means something.
MUTANTS = {
    "LeakyReLU slope 0.21 instead of 0.2": lambda: _patch(pvae, "SLOPE", 0.21),
    "Λ_νν packed column-major": _mut_tril,
    "Λ_νι reshaped column-major": _mut_lni,
    "log β_ν scaled by 0.999 in KL_ν": _mut_kl,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bin", help="folder with pv's executables (e.g. .build/release)")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--beta", type=float, default=0.5, help="KL weight in the checked loss (large, so KL gradients count)")
    ap.add_argument("--alpha", type=float, default=0.8, help="alignment weight in the checked loss")
    ap.add_argument("--keep", default=None, help="keep the files in this folder")
    ap.add_argument("--mutants", action="store_true",
                    help="also check that deliberate small errors in the reference are caught")
    ap.add_argument("--variants", default="mlp/mlp,additive/mlp,mlp/additive,additive/additive",
                    help="comma-separated u_compose/decoder pairs")
    args = ap.parse_args()
    torch.set_num_threads(1)
    train = os.path.join(args.bin, "pv-train")
    if not os.access(train, os.X_OK):
        print(f"check_gradients: {train} is not an executable (build with: swift build -c release)")
        sys.exit(2)
    work = args.keep or tempfile.mkdtemp(prefix="pv-gradcheck-")
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    X, conds, targets = make_screen(work, rng)
    batch = make_batch(X, conds, targets, rng, args.beta, args.alpha)
    bpath = os.path.join(work, "batch.npz")
    np.savez(bpath, **batch)
    failures = []
    for v in args.variants.split(","):
        uc, dec = v.split("/")
        label = f"u-compose {uc}, decoder {dec}"
        print(f"== {label}")
        mpath = os.path.join(work, f"model-{uc}-{dec}.npz")
        gpath = os.path.join(work, f"grads-{uc}-{dec}.npz")
        run([train, "--init-only", "--seed", str(args.seed), "--hidden", str(H), "--latent-inv", str(DI),
             "--latent-resp", str(DN), "--u-compose", uc, "--decoder", dec, "--node-hidden", "4", "--quiet",
             "--out", mpath, os.path.join(work, "expr.npy"), os.path.join(work, "split.tsv")])
        check_init(mpath, failures)
        run([train, "--grad-check", bpath, "--out", gpath, "--quiet", "--threads", "1", mpath])
        pv = dict(np.load(gpath))
        compare(pv, batch, mpath, args.tol, label, failures)

    # pv reads a model written by the reference (perturbed weights, so nothing hides behind the initialisation).
    print("== model written by bench/reference/pvae.py, read by pv")
    m, meta = pvae.read_model(os.path.join(work, "model-mlp-mlp.npz"))
    torch.manual_seed(args.seed)
    with torch.no_grad():
        for _, p in m.named_tensors():
            p.add_(0.3 * torch.randn_like(p) * p.abs().max())
    rpath = os.path.join(work, "model-from-torch.npz")
    pvae.write_model(m, rpath, pvae.model_meta(m.cfg, meta.get("genes"), meta.get("targets")))
    gpath = os.path.join(work, "grads-from-torch.npz")
    run([train, "--grad-check", bpath, "--out", gpath, "--quiet", "--threads", "1", rpath])
    compare(dict(np.load(gpath)), batch, rpath, args.tol, "torch-written model", failures)

    if args.mutants:
        print("== mutants of the reference (each must be caught)")
        mpath = os.path.join(work, "model-mlp-mlp.npz")
        pv = dict(np.load(os.path.join(work, "grads-mlp-mlp.npz")))
        for name, patch in MUTANTS.items():
            undo = patch()
            caught = []
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    compare(pv, batch, mpath, args.tol, name, caught)
            finally:
                undo()
            print(f"  {name:<40} {'caught (' + str(len(caught)) + ' mismatches)' if caught else 'NOT CAUGHT'}")
            if not caught:
                failures.append(f"mutant '{name}' was not caught: the oracle is not sensitive enough")

    print()
    if failures:
        print(f"FAIL: {len(failures)} mismatch(es) beyond {args.tol:g}:")
        for f in failures:
            print("  " + f)
        print(f"files kept in {work}")
        sys.exit(1)
    print(f"OK: pv's loss terms and gradients match the PyTorch reference within {args.tol:g} "
          f"({len(args.variants.split(','))} variants + a torch-written model)")
    if not args.keep:
        for f in os.listdir(work):
            os.remove(os.path.join(work, f))
        os.rmdir(work)


if __name__ == "__main__":
    main()
