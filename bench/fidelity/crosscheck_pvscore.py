#!/usr/bin/env python3
"""Cross-check of fidelity.py's metrics against pv-score (issue 8's scorer: means.npy, ceiling, interaction_r2).

For one benchmark screen, writes the additive baseline and one configuration's ensemble mean as prediction folders
that pv-score reads (means.npy + means.tsv beside a one-cell-per-condition pred.npy/pred.tsv), scores them with
pv-score on the screen's split-full.tsv, and compares every held-out double's mse, pearson_delta, mse_de and
interaction_r2 with fidelity.py's own computation. Prints the largest absolute differences.

    python3 bench/fidelity/crosscheck_pvscore.py --out fidelity --screen s1 --config demo --pv-score .build/release/pv-score
"""
import argparse, os, subprocess, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fidelity as fd  # noqa: E402


def write_pred(folder, means):
    os.makedirs(folder, exist_ok=True)
    conds = sorted(means)
    M = np.stack([means[c] for c in conds]).astype(np.float32)
    np.save(f"{folder}/pred.npy", M)
    np.save(f"{folder}/means.npy", M)
    with open(f"{folder}/pred.tsv", "w") as f:
        f.write("row\tcondition\tcontrol_barcode\n" + "".join(f"{i}\t{c}\tNA\n" for i, c in enumerate(conds)))
    with open(f"{folder}/means.tsv", "w") as f:
        f.write("row\tcondition\n" + "".join(f"{i}\t{c}\n" for i, c in enumerate(conds)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="fidelity")
    ap.add_argument("--screen", default="s1")
    ap.add_argument("--config", default="demo")
    ap.add_argument("--pv-score", default=".build/release/pv-score")
    a = ap.parse_args()
    sc = fd.Screen(a.screen, f"{a.out}/{a.screen}", ".build/release", sim_opts=None,
                   data=f"{a.out}/{a.screen}/screen")
    members = []
    for s in (1, 2, 3):
        p = f"{sc.folder}/{a.config}/seed{s}/means.npz"
        if os.path.exists(p):
            z = np.load(p)
            members.append(dict(zip(list(z["conds"]), z["means"])))
    ens = {d: np.maximum(0, np.mean([m[d] for m in members], 0)) for d in sc.test_doubles}
    add = {d: sc.additive_train(d) for d in sc.test_doubles}
    xdir = f"{sc.folder}/crosscheck"
    write_pred(f"{xdir}/additive", add)
    write_pred(f"{xdir}/ens", ens)
    tsv = f"{xdir}/scores.tsv"
    subprocess.run([a.pv_score, "--quiet", "--out", tsv, "--pred", f"additive={xdir}/additive/pred.npy",
                    "--pred", f"ens={xdir}/ens/pred.npy", sc.expr_path, f"{sc.folder}/split-full.tsv"], check=True)
    hdr, rows = fd.read_tsv(tsv)
    ix = {h: i for i, h in enumerate(hdr)}
    worst = {m: 0.0 for m in fd.METRICS}
    n = 0
    for r in rows:
        name, cond = r[ix["prediction"]], r[ix["condition"]]
        if cond not in sc.test_doubles or name not in ("additive", "ens"):
            continue
        mine = fd.metrics(sc, cond, (add if name == "additive" else ens)[cond])
        for m in fd.METRICS:
            worst[m] = max(worst[m], abs(float(r[ix[m]]) - mine[m]))
        n += 1
    print(f"{n} (prediction, double) pairs; largest |pv-score - fidelity.py|: " +
          ", ".join(f"{m} {v:.2e}" for m, v in worst.items()))


if __name__ == "__main__":
    main()
