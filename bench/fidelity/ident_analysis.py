#!/usr/bin/env python3
"""Where the true latents' information sits in a trained model's latents (bench/fidelity/NOTES.md, identifiability).

    python3 bench/fidelity/ident_analysis.py fidelity-ident/s1 demo/seed1 alpha0/seed1 ...

For each model folder (with pv-predict's latents.tsv) of one screen folder (screen/{latents.npy,barcodes.tsv,
truth.npz,cells.tsv}), over every cell the model encoded:
  mcc        pv-score's mcc_resp (z_resp vs true z_nu, Hungarian matching)
  r2_inv     pv-score's r2_inv (true z_iota on mu_inv, linear)
  r2_nu      true z_nu on z_resp, linear (identifiability up to an affine map instead of a permutation)
  r2_inv_all true z_iota on [mu_inv, z_resp]: is the background information in the response block instead?
  act_inv    active mu_inv dimensions (sd over cells > 0.1): KL_iota collapse leaves few
and two references that need no model: mcc and r2 of the per-condition mean of the true z_nu (truth.npz
latent_mean: what the condition label alone tells) against the true z_nu.
"""
import os, sys
import numpy as np
from scipy.optimize import linear_sum_assignment


def r2(target, pred):
    X = np.hstack([np.ones((len(pred), 1)), pred])
    coef, *_ = np.linalg.lstsq(X, target, rcond=None)
    res = target - X @ coef
    ss = ((target - target.mean(0)) ** 2).sum(0)
    keep = ss > 0
    return float(np.mean(1 - (res ** 2).sum(0)[keep] / ss[keep]))


def mcc(truth, learned):
    a = truth.shape[1]
    c = np.nan_to_num(np.abs(np.corrcoef(truth.T, learned.T)[:a, a:]))
    r, k = linear_sum_assignment(c, maximize=True)
    return float(c[r, k].mean())


def main():
    folder, models = sys.argv[1], sys.argv[2:]
    sdir = f"{folder}/screen"
    truth = np.load(f"{sdir}/latents.npy").astype(np.float64)
    bcs = [l.strip() for l in open(f"{sdir}/barcodes.tsv")]
    cond = [l.rstrip("\n").split("\t")[1] for l in open(f"{sdir}/cells.tsv") if not l.startswith("#")]
    tz = np.load(f"{sdir}/truth.npz")
    dN = tz["noise_sd"].shape[0]
    import json
    names = json.loads(bytes(tz["meta.json"]))["conditions"]
    lm = tz["latent_mean"].astype(np.float64)
    ci = {c: i for i, c in enumerate(names)}
    cm = np.stack([lm[ci[c]] for c in cond])
    print("%s: condition label only (true E[z_nu | condition]): mcc %.3f, r2_nu %.3f" % (
        folder, mcc(truth[:, :dN], cm), r2(truth[:, :dN], cm)))
    row = {b: i for i, b in enumerate(bcs)}
    for m in models:
        lines = [l.rstrip("\n").split("\t") for l in open(f"{folder}/{m}/latents.tsv") if not l.startswith("#")]
        hdr, body = lines[0], lines[1:]
        t = truth[[row[r[0]] for r in body]]
        L = np.array([[float(v) for v in r[3:]] for r in body])
        inv = [j - 3 for j, h in enumerate(hdr) if h.startswith("mu_inv_")]
        resp = [j - 3 for j, h in enumerate(hdr) if h.startswith("z_resp_")]
        zn, zi, ln, li = t[:, :dN], t[:, dN:], L[:, resp], L[:, inv]
        print("  %-14s mcc %.3f  r2_inv %.3f  r2_nu %.3f  r2_inv_all %.3f  act_inv %d/%d" % (
            m, mcc(zn, ln), r2(zi, li), r2(zn, ln), r2(zi, np.hstack([li, ln])),
            int((li.std(0) > 0.1).sum()), li.shape[1]))


if __name__ == "__main__":
    main()
