#!/usr/bin/env python3
"""Training-throughput benchmark at Norman scale: pv-train against OpenBLAS sgemm and against PyTorch, one run.

    python3 bench/train/train_bench.py --bin .build/release [--threads 2] [--steps 200] [--repeat 2]
    (bench/train/run.sh compiles the sgemm probe and calls this)

Measures, with the same thread count:
  (a) OpenBLAS sgemm on the exact products of one training step (bench/train/sgemm_shapes.c), i.e. the rate pv
      would reach if a step were nothing but its sgemm calls;
  (b) pv-train's step rate: two runs with different --steps, rate = extra steps / extra seconds (start-up, loading
      and writing the model cancel out);
  (c) the PyTorch reference's step rate (bench/reference/pvae.py train, same data, timed after warm-up steps).
Prints cells/s, achieved GFLOP/s (FLOP of a step counted from the shapes: 2·m·n·k per product, forward and
backward), the fraction of (a), and pv / PyTorch. The data are simulated (log1p of Poisson counts, 100 single
targets and 100 doubles, no validation cells so that no validation pass is timed).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(os.path.dirname(HERE), "reference", "pvae.py")


def make_data(d, genes, targets, doubles, per_cond, controls, seed):
    """Simulated screen in d (reused when present with the same parameters)."""
    tag = f"{genes}-{targets}-{doubles}-{per_cond}-{controls}-{seed}"
    stamp = os.path.join(d, "params.txt")
    if os.path.exists(stamp) and open(stamp).read() == tag:
        return
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = [f"TG{k:03d}" for k in range(targets)]
    pairs = set()
    while len(pairs) < doubles:
        a, b = sorted(rng.choice(targets, 2, replace=False))
        pairs.add((int(a), int(b)))
    conds = ["ctrl"] * controls + [n for n in names for _ in range(per_cond)]
    conds += [f"{names[a]}+{names[b]}" for a, b in sorted(pairs) for _ in range(per_cond)]
    n = len(conds)
    mean = rng.gamma(0.6, 1.0, size=genes).astype(np.float32)
    X = np.lib.format.open_memmap(os.path.join(d, "expr.npy"), mode="w+", dtype=np.float32, shape=(n, genes))
    for s in range(0, n, 1000):
        e = min(n, s + 1000)
        X[s:e] = np.log1p(rng.poisson(mean, size=(e - s, genes))).astype(np.float32)
    X.flush()
    del X
    with open(os.path.join(d, "split.tsv"), "w") as f:
        f.write("barcode\tlabel\tcondition\tset\tgroup\n")
        for i, c in enumerate(conds):
            g = "ctrl" if c == "ctrl" else ("double" if "+" in c else "single")
            f.write(f"cell{i}\t{c}\t{c}\ttrain\t{g}\n")
    with open(os.path.join(d, "genes.tsv"), "w") as f:
        f.write("gene_id\tsymbol\tmean\tdispersion\thighly_variable\n")
        for j in range(genes):
            f.write(f"G{j}\tG{j}\t{mean[j]:.4f}\t1\tTrue\n")
    with open(stamp, "w") as f:
        f.write(tag)


def distinct_labels(split_path, batch, seed=0):
    """Mean number of distinct labels per batch (perturbed labels + the control label), as pv batches them."""
    conds = [ln.split("\t")[2] for ln in open(split_path).read().splitlines()[1:]]
    pert = [c for c in conds if c != "ctrl"]
    rng = np.random.default_rng(seed)
    counts = []
    for _ in range(3):
        order = rng.permutation(len(pert))
        for s in range(0, len(order) - batch + 1, batch):
            counts.append(len({pert[i] for i in order[s:s + batch]}) + 1)
    return float(np.mean(counts))


def step_flops(G, K, H, dI, dN, B, U, decoder="mlp", u_compose="mlp", S=16):
    """FLOP of one training step, counted from the products pv makes (2·m·n·k each; the same list as
    sgemm_shapes.c, counted independently here as a cross-check)."""
    R, nL = 2 * B, dN * (dN - 1) // 2

    def lin(rows, i, o, dx=True):
        return 2 * rows * i * o * (3 if dx else 2)
    f = lin(R, G, H, dx=False) + lin(R, H, H) + lin(R, H, 2 * dI) + lin(R, H + K, H) + lin(R, H, 2 * dN)
    if u_compose == "mlp":
        f += lin(U, K, H, dx=False) + lin(U, H, nL) + lin(U, H, dN * dI) + lin(U, H, dN) + lin(U, H, dN)
    else:
        f += sum(lin(U, K, o, dx=False) for o in (nL, dN * dI, dN, dN))
    f += 3 * R * 2 * dN * dI                        # Λ_νι·z_ι forward, its two backward products, per row
    if decoder == "mlp":
        f += lin(R, dN + dI, H) + lin(R, H, H) + lin(R, H, G)
        gh = lin(R, G, H, dx=False) + lin(R, H, G)
    else:
        f += lin(R, dI, H) + lin(R, H, H) + lin(R, H, G) + lin(R, dN * S, G)
        gh = lin(R, G, H, dx=False) + lin(R, H, G) + lin(R, dN * S, G)
    return f, gh


MODEL_OPTS = []  # --decoder/--u-compose as given, passed to pv-train, the reference and the sgemm probe


def run_pv(bin_dir, data, steps, threads, seed, out):
    cmd = [os.path.join(bin_dir, "pv-train"), "--threads", str(threads), "--steps", str(steps), "--seed", str(seed),
           "--quiet", "--ensemble", "1", "--out", out] + MODEL_OPTS + [ os.path.join(data, "expr.npy"), os.path.join(data, "split.tsv")]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"train_bench: pv-train failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    return dt, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def pv_rate(bin_dir, data, steps, threads, seed, work):
    base = max(10, steps // 10)
    out = os.path.join(work, "pv-model.npz")
    t1, c1 = run_pv(bin_dir, data, base, threads, seed, out)
    t2, c2 = run_pv(bin_dir, data, base + steps, threads, seed, out)
    os.remove(out)
    return steps / max(t2 - t1, 1e-9), steps / max(c2 - c1, 1e-9)


def torch_rate(data, steps, threads, seed, work, warmup=5):
    out = os.path.join(work, "torch-model.npz")
    cmd = [sys.executable, REF, "train", os.path.join(data, "expr.npy"), os.path.join(data, "split.tsv"),
           "--out", out, "--steps", str(steps + warmup), "--warmup", str(warmup), "--threads", str(threads),
           "--seed", str(seed), "--quiet", "--json"] + MODEL_OPTS
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"train_bench: reference training failed: {' '.join(cmd)}\n{p.stderr}")
    os.remove(out)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return r["steps_per_s"], r["steps_per_cpu_s"]


def pv_kernels(bin_dir):
    """OpenBLAS's kernels as pv runs them (second line of --version: 'OpenBLAS 0.3.21, SkylakeX kernels'). pv corrects
    OpenBLAS's generic fallback on CPUs it does not know (Sources/PVShared/Linalg/BLASKernels.swift); the sgemm probe
    runs the same kernels, through OPENBLAS_CORETYPE, so that the bound is pv's."""
    out = subprocess.run([os.path.join(bin_dir, "pv-train"), "--version"], capture_output=True, text=True, check=True).stdout
    line = out.splitlines()[1] if len(out.splitlines()) > 1 else ""
    return line.split(", ")[-1].replace(" kernels", "") if line.endswith(" kernels") else None


def sgemm(probe, threads, U, a):
    cmd = [probe, "--json", "--threads", str(threads), "--labels", str(int(round(U))), "--genes", str(a.genes),
           "--targets", str(a.targets), "--batch", str(a.batch), "--seconds", str(a.sgemm_seconds)] + MODEL_OPTS
    env = dict(os.environ)
    if a.kernels:
        env["OPENBLAS_CORETYPE"] = a.kernels
    p = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=".build/release", help="folder with pv-train")
    ap.add_argument("--probe", default=None, help="compiled sgemm_shapes (run.sh builds it)")
    ap.add_argument("--threads", default="2", help="thread counts to measure, comma-separated (e.g. 1,2)")
    ap.add_argument("--steps", type=int, default=200, help="timed training steps per measurement")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved repetitions; the best of each is reported")
    ap.add_argument("--data", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "pv-bench-train-data"))
    ap.add_argument("--genes", type=int, default=5000)
    ap.add_argument("--targets", type=int, default=100)
    ap.add_argument("--doubles", type=int, default=100)
    ap.add_argument("--cells-per-condition", type=int, default=40)
    ap.add_argument("--controls", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--sgemm-seconds", type=float, default=0.3)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--decoder", choices=["mlp", "additive"], default="mlp")
    ap.add_argument("--u-compose", choices=["mlp", "additive"], default="mlp")
    a = ap.parse_args()
    MODEL_OPTS[:] = ["--decoder", a.decoder, "--u-compose", a.u_compose]
    H, dI, dN, B = 256, 85, 20, a.batch
    probe = a.probe or os.path.join(HERE, "sgemm_shapes")
    if not os.access(os.path.join(a.bin, "pv-train"), os.X_OK):
        sys.exit(f"train_bench: no pv-train in {a.bin} (swift build -c release)")
    have_torch = not a.no_torch
    if have_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("torch not installed: PyTorch comparison skipped")
            have_torch = False
    a.kernels = pv_kernels(a.bin)
    make_data(a.data, a.genes, a.targets, a.doubles, a.cells_per_condition, a.controls, a.seed)
    U = distinct_labels(os.path.join(a.data, "split.tsv"), B)
    flop, gh = step_flops(a.genes, a.targets, H, dI, dN, B, U, a.decoder, a.u_compose)
    flop_rows, _ = step_flops(a.genes, a.targets, H, dI, dN, B, 2 * B, a.decoder, a.u_compose)
    n_cells = sum(1 for _ in open(os.path.join(a.data, "split.tsv"))) - 1
    print(f"PerturbedVAE training step (--decoder {a.decoder} --u-compose {a.u_compose}): G={a.genes} K={a.targets} H={H} d_inv={dI} d_resp={dN}, batch {B} perturbed "
          f"+ {B} control rows; simulated screen of {n_cells} cells in {a.data}")
    print(f"FLOP per step: {flop / 1e9:.3f} GFLOP with the u-networks once per distinct label ({U:.1f} per batch); "
          f"{flop_rows / 1e9:.3f} GFLOP if they ran per row (DESIGN.md: ~2.3); the two G×H layers: "
          f"{gh / 1e9:.3f} GFLOP ({100 * gh / flop:.0f}%)")
    print(f"OpenBLAS kernels (pv's, and the sgemm probe's): {a.kernels}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores; shared machines make every "
          f"figure noisy, the ratios less so)")
    threads = [int(t) for t in a.threads.split(",")]
    rows = []
    for T in threads:
        best = {"sgemm": None, "pv": 0.0, "torch": 0.0, "pv_cpu": 0.0, "torch_cpu": 0.0}
        for rep in range(a.repeat):
            s = sgemm(probe, T, U, a)
            if abs(s["step_gflop"] * 1e9 - flop) / flop > 0.02:
                print(f"warning: sgemm_shapes counts {s['step_gflop']:.4f} GFLOP per step, this script "
                      f"{flop / 1e9:.4f}", file=sys.stderr)
            if best["sgemm"] is None or s["step_gflops"] > best["sgemm"]["step_gflops"]:
                best["sgemm"] = s
            r, rc = pv_rate(a.bin, a.data, a.steps, T, a.seed, a.data)
            best["pv"] = max(best["pv"], r)
            best["pv_cpu"] = max(best["pv_cpu"], rc)
            msg = (f"  [{T} threads, run {rep + 1}] sgemm {s['step_gflops']:.1f} GFLOP/s, "
                   f"pv {r:.2f} steps/s ({rc:.2f} per CPU-s)")
            if have_torch:
                tr, trc = torch_rate(a.data, a.steps // 2, T, a.seed, a.data)
                best["torch"] = max(best["torch"], tr)
                best["torch_cpu"] = max(best["torch_cpu"], trc)
                msg += f", torch {tr:.2f} steps/s ({trc:.2f} per CPU-s)"
            print(msg + f" (load {os.getloadavg()[0]:.2f})", flush=True)
        rows.append((T, best))
    print()
    print(f"{'threads':>7} {'impl':<14} {'steps/s':>8} {'cells/s':>8} {'rows/s':>8} {'GFLOP/s':>8} "
          f"{'of sgemm':>9} {'pv/torch':>9} {'steps/CPU-s':>12} {'GFLOP/CPU-s':>12} {'pv/torch':>9}")
    for T, b in rows:
        s = b["sgemm"]
        sg = s["step_gflops"]
        print(f"{T:>7} {'sgemm shapes':<14} {sg * 1e9 / flop:>8.2f} {sg * 1e9 / flop * B:>8.0f} "
              f"{sg * 1e9 / flop * 2 * B:>8.0f} {sg:>8.1f} {'100%':>9} {'':>9}   (square 1024: "
              f"{s['square1024_gflops']:.1f} GFLOP/s; G×H shapes {s['gxh_gflops']:.1f})")
        for impl in ("pv", "torch"):
            r = b[impl]
            if r == 0:
                continue
            ratio = f"{b['pv'] / b['torch']:.2f}x" if impl == "pv" and b["torch"] > 0 else ""
            rc = b[impl + "_cpu"]
            ratio_c = f"{b['pv_cpu'] / b['torch_cpu']:.2f}x" if impl == "pv" and b["torch_cpu"] > 0 else ""
            print(f"{T:>7} {impl:<14} {r:>8.2f} {r * B:>8.0f} {r * 2 * B:>8.0f} {r * flop / 1e9:>8.1f} "
                  f"{100 * r * flop / 1e9 / sg:>8.0f}% {ratio:>9} {rc:>12.2f} {rc * flop / 1e9:>12.1f} {ratio_c:>9}")
    for T, b in rows:
        one = next((bb for TT, bb in rows if TT == 1), None)
        if T > 1 and b["torch_cpu"] and one and one["torch_cpu"] and b["torch_cpu"] < 0.5 * one["torch_cpu"]:
            print(f"note: torch at {T} threads used {one['torch_cpu'] / b['torch_cpu']:.1f}x more CPU per step than at "
                  f"1 thread: its OpenMP threads spin-wait when the cores are shared (load above), so its {T}-thread "
                  f"figures understate it; compare at 1 thread or on an idle machine.")
    print("cells/s counts perturbed training cells (each step also encodes and decodes one control partner per "
          "cell: rows/s); 'of sgemm' = achieved GFLOP/s over the sgemm rate for the same products (best of "
          "repeated timings); steps/CPU-s = steps per second of CPU time used (user+sys, all threads): steadier than "
          "wall-clock rates on a busy machine, and at 1 thread the fairest pv/torch comparison.")


if __name__ == "__main__":
    main()
