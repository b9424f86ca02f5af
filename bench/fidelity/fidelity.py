#!/usr/bin/env python3
"""Fidelity benchmark: does PerturbedVAE beat the exact additive baseline on held-out doubles (issue 14)?

Drives the built tools (.build/release) over several simulated screens x training seeds with a singles-to-doubles
split, scores every variant per held-out double against the exact additive baseline (control + sum of the training
singles' changes), pools over screens and seeds with bootstrap 95% intervals, and runs the same on the shared Norman
subset (per double, no tuning). Everything goes under a git-ignored folder (default fidelity/); reruns reuse what
exists (delete the folder to start over). See bench/fidelity/README.md.

    python3 bench/fidelity/fidelity.py            # full benchmark (make fidelity)
    python3 bench/fidelity/fidelity.py --quick    # CI-sized (make fidelity-quick)

Needs numpy and scipy only. Metrics are computed here from pred.npy / expr.npy / split.tsv with the definitions of
DESIGN.md section 6 until pv-score's replicates, paired comparison, ceiling and interaction_r2 land.
"""
import argparse, json, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy import stats

# ----------------------------------------------------------------------------------------------------------------
# Configuration: screens, model configurations, seeds.

# Simulated screens (pv-simulate options). Same size as `make demo` unless said; 'strong' has a denser DAG and larger
# shifts (more propagation, more cuts: stronger interactions); 'weak' has small effects; 'wide' more targets/doubles.
SCREENS = {
    "s1":     "--cells-per-condition 150 --genes 400 --targets 20 --doubles 20 --seed 1",
    "s2":     "--cells-per-condition 150 --genes 400 --targets 20 --doubles 20 --seed 2",
    "strong": "--cells-per-condition 150 --genes 400 --targets 20 --doubles 20 --effect 4 --edge-density 0.6 --seed 6",
    "weak":   "--cells-per-condition 150 --genes 400 --targets 20 --doubles 20 --effect 1.5 --seed 5",
    "s3":     "--cells-per-condition 150 --genes 400 --targets 20 --doubles 20 --seed 3",
    "wide":   "--cells-per-condition 120 --genes 600 --targets 30 --doubles 30 --seed 4",
}
QUICK_SCREENS = {
    "q1": "--cells-per-condition 80 --genes 200 --targets 10 --doubles 10 --seed 1",
    "q2": "--cells-per-condition 80 --genes 200 --targets 10 --doubles 10 --effect 4 --edge-density 0.6 --seed 6",
}
# Model configurations (pv-train options). 'demo' is `make demo`'s training; the others change one thing.
BASE = "--steps 4000 --lr 1e-3"
# Each seed is one member (--ensemble 1); phase 2 merges the seeds into the ensemble file pv-train --ensemble N writes.
CONFIGS = {
    "demo":   BASE + " --u-compose mlp",
    "addu":   BASE + " --u-compose additive",
}
QUICK_CONFIGS = {"addu": "--steps 600 --lr 1e-3 --hidden 64 --latent-inv 16 --latent-resp 5 --u-compose additive"}
SEEDS, QUICK_SEEDS = [1, 2, 3], [1, 2]
VAL_DOUBLE_FRAC = 0.3       # doubles held out as validation (never scored) for within-screen choices
PRED_CELLS = 500            # predicted cells per condition (the predicted mean is their mean)
N_DE = 20
BOOT = 2000

# ----------------------------------------------------------------------------------------------------------------
# Running the tools.


def run(cmd, log):
    """Runs one tool; its stderr goes to `log`; failure stops the benchmark with the tool's last lines."""
    with open(log, "w") as f:
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=f)
    if r.returncode != 0:
        tail = open(log).read().splitlines()[-5:]
        sys.exit("fidelity: failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), "\n".join(tail)))


def read_tsv(path):
    rows = [l.rstrip("\n").split("\t") for l in open(path) if not l.startswith("#")]
    return rows[0], rows[1:]


class Screen:
    """One data set after pv-normalize and the split: expression, conditions, sets, and the val/test doubles."""

    def __init__(self, name, folder, binp, sim_opts=None, data=None, n_top=None, rng_seed=0):
        self.name, self.folder = name, folder
        os.makedirs(folder, exist_ok=True)
        screen = data or os.path.join(folder, "screen")
        if sim_opts and not os.path.exists(os.path.join(screen, "cells.tsv")):
            run([f"{binp}/pv-simulate", *sim_opts.split(), "--out", screen, "--quiet"], f"{folder}/simulate.log")
        norm = os.path.join(folder, "norm")
        if not os.path.exists(f"{norm}/expr.npy"):
            genes = sum(1 for _ in open(f"{screen}/features.tsv"))
            top = n_top or max(50, genes * 3 // 4)
            run([f"{binp}/pv-normalize", "--threads", "1", "--n-top-genes", str(top), "--labels", f"{screen}/cells.tsv",
                 "--out", norm, screen, "--quiet"], f"{folder}/normalize.log")
        if not os.path.exists(f"{folder}/split-full.tsv"):
            run([f"{binp}/pv-split", "--out", f"{folder}/split-pv.tsv", f"{norm}/obs.tsv", "--quiet"], f"{folder}/split.log")
            self._carve_val_doubles(rng_seed)
        self.expr_path = f"{norm}/expr.npy"
        self.expr = np.load(self.expr_path).astype(np.float64)
        hdr, rows = read_tsv(f"{folder}/split-full.tsv")
        ix = {h: i for i, h in enumerate(hdr)}
        self.barcodes = [r[ix["barcode"]] for r in rows]
        self.cond = np.array([r[ix["condition"]] for r in rows])
        self.set = np.array([r[ix["set"]] for r in rows])
        self.group = np.array([r[ix["group"]] for r in rows])
        self.ctrl_all = self.expr[self.cond == "ctrl"].mean(0)
        self.ctrl_train = self.expr[(self.cond == "ctrl") & (self.set == "train")].mean(0)
        dbl = sorted({c for c, g in zip(self.cond, self.group) if g == "double"})
        self.val_doubles = [c for c in dbl if np.any((self.cond == c) & (self.set == "val"))]
        self.test_doubles = [c for c in dbl if np.any((self.cond == c) & (self.set == "test"))]
        self.singles = sorted({c for c, s, g in zip(self.cond, self.set, self.group)
                               if s == "train" and c != "ctrl" and "+" not in c})
        self.truth_path = os.path.join(screen, "latents.npy") if sim_opts else None
        self._cache = {}

    def _carve_val_doubles(self, seed):
        """split-full.tsv: pv-split's singles-to-doubles split with VAL_DOUBLE_FRAC of the doubles moved from test
        to val (never scored; used only for within-screen choices). split-train.tsv: the same with those doubles
        unused, so that training and checkpoint selection see exactly what the plain split gives them."""
        lines = open(f"{self.folder}/split-pv.tsv").read().splitlines()
        head = [l for l in lines if l.startswith("#")]
        hdr = [l for l in lines if not l.startswith("#")][0].split("\t")
        body = [l.split("\t") for l in lines if not l.startswith("#")][1:]
        ix = {h: i for i, h in enumerate(hdr)}
        dbl = sorted({r[ix["condition"]] for r in body if r[ix["group"]] == "double" and r[ix["set"]] == "test"})
        rng = np.random.default_rng(seed)
        nval = int(round(VAL_DOUBLE_FRAC * len(dbl))) if len(dbl) >= 6 else 0
        val = set(rng.choice(dbl, size=nval, replace=False)) if nval else set()
        for fname, vset in [("split-full.tsv", "val"), ("split-train.tsv", "")]:
            out = []
            for r in body:
                r = list(r)
                if r[ix["condition"]] in val:
                    r[ix["set"]] = vset
                out.append("\t".join(r))
            with open(f"{self.folder}/{fname}", "w") as f:
                f.write("\n".join(head + ["\t".join(hdr)] + out) + "\n")

    def mean(self, cond, sets=None):
        key = (cond, sets)
        if key not in self._cache:
            m = self.cond == cond
            if sets:
                m &= np.isin(self.set, sets)
            self._cache[key] = self.expr[m].mean(0)
        return self._cache[key]

    def additive_train(self, cond):
        """Exact additive baseline: training control mean + sum of the training singles' changes."""
        c = self.ctrl_train
        return c + sum(self.mean(k, ("train",)) - c for k in cond.split("+"))

    def additive_truth(self, cond):
        """interaction_r2's reference: all control cells + sum of the singles' changes over all their cells."""
        c = self.ctrl_all
        return c + sum(self.mean(k) - c for k in cond.split("+"))

    def de_genes(self, cond):
        if ("de", cond) not in self._cache:
            self._cache[("de", cond)] = self._de_genes(cond)
        return self._cache[("de", cond)]

    def _de_genes(self, cond):
        """Top-N_DE genes by |Welch t| of the condition's cells (all sets) against all control cells (GEARS)."""
        x, y = self.expr[self.cond == cond], self.expr[self.cond == "ctrl"]
        vx = x.var(0, ddof=1) / len(x) if len(x) > 1 else 0 * x[0]
        vy = y.var(0, ddof=1) / len(y) if len(y) > 1 else 0 * y[0]
        d = x.mean(0) - y.mean(0)
        se = np.sqrt(vx + vy)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(se > 0, d / se, np.where(d == 0, 0, np.inf * np.sign(d)))
        return np.argsort(-np.abs(t), kind="stable")[:N_DE]


def metrics(sc, cond, pred, truth=None):
    """mse, pearson_delta, mse_de, interaction_r2 of a predicted mean vector against the test cells' mean."""
    mu = sc.mean(cond, ("test",)) if truth is None else truth
    c = sc.ctrl_all
    de = sc.de_genes(cond)
    dp, dt = pred - c, mu - c
    pd = float(np.corrcoef(dp, dt)[0, 1]) if dp.std() > 0 and dt.std() > 0 else float("nan")
    a = sc.additive_truth(cond)
    r, rh = mu - a, pred - a
    return {"mse": float(np.mean((pred - mu) ** 2)), "pearson_delta": pd,
            "mse_de": float(np.mean((pred[de] - mu[de]) ** 2)),
            "interaction_r2": float(1 - np.sum((rh - r) ** 2) / np.sum(r ** 2))}


def ceiling(sc, cond, seed=0):
    """Half of the condition's test cells predicting the other half (the noise limit of each metric)."""
    idx = np.flatnonzero((sc.cond == cond) & (sc.set == "test"))
    rng = np.random.default_rng(seed)
    rng.shuffle(idx)
    h = len(idx) // 2
    return metrics(sc, cond, sc.expr[idx[:h]].mean(0), truth=sc.expr[idx[h:2 * h]].mean(0))


# ----------------------------------------------------------------------------------------------------------------
# Training and prediction of one model configuration x seed.


def train_predict(sc, binp, cfg_name, cfg, seed, conds, latents=False):
    """Trains (unless the model exists) and predicts the mean of every condition in `conds` (delta mode)."""
    d = f"{sc.folder}/{cfg_name}/seed{seed}"
    os.makedirs(d, exist_ok=True)
    model = f"{d}/model.npz"
    if not os.path.exists(model):
        t0 = time.time()
        run([f"{binp}/pv-train", "--threads", "1", "--ensemble", "1", *cfg.split(), "--seed", str(seed), "--out", model, "--quiet",
             sc.expr_path, f"{sc.folder}/split-train.tsv"], f"{d}/train.log")
        open(f"{d}/train.seconds", "w").write("%.1f\n" % (time.time() - t0))
    means_path = f"{d}/means.npz"
    if not os.path.exists(means_path):
        pdir = f"{d}/pred"
        extra = ["--latents", f"{d}/latents.tsv"] if latents else []
        run([f"{binp}/pv-predict", "--threads", "1", "--predict", "delta", "--cells-per-condition", str(PRED_CELLS),
             "--seed", str(seed), "--conditions", ",".join(conds), *extra, "--out", pdir, "--quiet", model,
             sc.expr_path, f"{sc.folder}/split-train.tsv"], f"{d}/predict.log")
        if os.path.exists(f"{pdir}/means.npy"):
            # pv-predict's own predicted means (its expectation over all training controls), as pv-score reads them.
            pred = np.load(f"{pdir}/means.npy").astype(np.float64)
            _, rows = read_tsv(f"{pdir}/means.tsv")
        else:
            pred = np.load(f"{pdir}/pred.npy").astype(np.float64)
            _, rows = read_tsv(f"{pdir}/pred.tsv")
        pc = np.array([r[1] for r in rows])
        np.savez(means_path, conds=np.array(conds), means=np.stack([pred[pc == c].mean(0) for c in conds]))
        os.remove(f"{pdir}/pred.npy")          # large; the means are what the benchmark needs
    z = np.load(means_path)
    return dict(zip(list(z["conds"]), z["means"]))


def identifiability(sc, d, binp=None):
    """MCC of learned z_resp vs true z_nu and R^2 of true z_iota on learned mu_inv, over every cell with latents,
    from `pv-score --latents` (Sources/PVShared/Score/IdentifiabilityReport.swift) and, independently, with scipy
    here: the two must agree (the benchmark stops otherwise)."""
    if not sc.truth_path or not os.path.exists(f"{d}/latents.tsv"):
        return None
    truth = np.load(sc.truth_path)
    sdir = os.path.dirname(sc.truth_path)
    hdr, rows = read_tsv(f"{d}/latents.tsv")
    bc_row = {b.strip(): i for i, b in enumerate(open(f"{sdir}/barcodes.tsv"))}
    keep = [i for i, r in enumerate(rows) if r[0] in bc_row]
    t = truth[[bc_row[rows[i][0]] for i in keep]].astype(np.float64)
    L = np.array([[float(v) for v in rows[i][3:]] for i in keep])
    inv = [j - 3 for j, h in enumerate(hdr) if h.startswith("mu_inv_")]
    resp = [j - 3 for j, h in enumerate(hdr) if h.startswith("z_resp_")]
    dN = int(np.load(f"{sdir}/truth.npz")["noise_sd"].shape[0])
    zt_n, zt_i, zl_n, zl_i = t[:, :dN], t[:, dN:], L[:, resp], L[:, inv]
    c = np.nan_to_num(np.abs(np.corrcoef(zt_n.T, zl_n.T)[:dN, dN:]))
    r_, k_ = linear_sum_assignment(c, maximize=True)
    X = np.hstack([np.ones((len(zl_i), 1)), zl_i])
    coef, *_ = np.linalg.lstsq(X, zt_i, rcond=None)
    res = zt_i - X @ coef
    r2 = float(np.mean(1 - (res ** 2).sum(0) / ((zt_i - zt_i.mean(0)) ** 2).sum(0)))
    out = {"mcc": float(c[r_, k_].mean()), "r2_inv": r2}
    if binp and os.path.exists(f"{binp}/pv-score"):
        run([f"{binp}/pv-score", "--latents", f"{d}/latents.tsv", "--true-latents", sc.truth_path,
             "--json", f"{d}/identifiability.json", "--quiet"], f"{d}/identifiability.log")
        j = json.load(open(f"{d}/identifiability.json"))
        if abs(j["mcc_resp"] - out["mcc"]) > 1e-5 or abs(j["r2_inv"] - out["r2_inv"]) > 1e-5:
            sys.exit("fidelity: pv-score --latents disagrees with scipy on %s: %s vs %s" % (d, j, out))
        out = {"mcc": j["mcc_resp"], "r2_inv": j["r2_inv"], "checked": "pv-score = scipy"}
    return out


# ----------------------------------------------------------------------------------------------------------------
# Variants built from the members' predicted means (no retraining).


def eb_interaction(members, sc, cond):
    """The ensemble's interaction term f(A+B) - f(A) - f(B) + f(0) per gene, shrunk by empirical Bayes: with member
    estimates I_m (m = 1..M), mean I and squared standard error v = var_m(I_m) / M per gene, a prior N(0, tau^2) over
    genes with tau^2 = max(0, mean(I^2) - mean(v)) gives the posterior mean I * tau^2 / (tau^2 + v). Genes where the
    members disagree are shrunk to additive. (In delta mode f(0) is the control cell itself, so f(0) cancels:
    I = pred(A+B) - pred(A) - pred(B) + control mean, which is what each member's means give.)"""
    ks = cond.split("+")
    I = np.stack([m[cond] - sum(m[k] for k in ks) + (len(ks) - 1) * sc.ctrl_train for m in members])
    M = len(members)
    Ib = I.mean(0)
    if M < 2:
        return Ib, Ib
    v = I.var(0, ddof=1) / M
    tau2 = max(0.0, float(np.mean(Ib ** 2) - np.mean(v)))
    return Ib, Ib * tau2 / (tau2 + v + 1e-30)


def fit_weights(X, y):
    """Least squares without intercept over the stacked validation genes x doubles."""
    w, *_ = np.linalg.lstsq(X, y, rcond=None)
    return w


def variants_for(sc, members, cfg):
    """Predicted means of each variant for every val and test double, from one configuration's seed members."""
    out = {}
    doubles = sc.val_doubles + sc.test_doubles
    c = sc.ctrl_train
    add = {d: sc.additive_train(d) for d in doubles}
    ens = {d: np.mean([m[d] for m in members], 0) for d in doubles}
    for s, m in enumerate(members):
        out[f"{cfg}/seed{s + 1}"] = {d: np.maximum(0, m[d]) for d in doubles}
    out[f"{cfg}-ens"] = {d: np.maximum(0, ens[d]) for d in doubles}
    raw, eb = {}, {}
    for d in doubles:
        Ib, Is = eb_interaction(members, sc, d)
        raw[d], eb[d] = np.maximum(0, add[d] + Ib), np.maximum(0, add[d] + Is)
    out[f"{cfg}-int-raw"] = raw
    # Model-calibrated damping: how much the ensemble's own double change is smaller or larger than the sum of its
    # own single changes (least-squares slope over genes), applied to the exact additive change. Uses no double data.
    damp = {}
    for d in doubles:
        ks = d.split("+")
        S = np.mean([sum(m[k] for k in ks) - (len(ks) - 1) * c for m in members], 0) - c
        k = float(S @ (ens[d] - c) / max(S @ S, 1e-30))
        damp[d] = np.maximum(0, c + k * (add[d] - c))
    out[f"{cfg}-damp-model"] = damp
    out[f"{cfg}-int-eb"] = eb
    if sc.val_doubles:
        # Stack additive and the ensemble mean, weights from the val doubles only: c + w1 (a - c) + w2 (D - c).
        X = np.concatenate([np.stack([add[d] - c, ens[d] - c], 1) for d in sc.val_doubles])
        y = np.concatenate([sc.mean(d, ("val",)) - c for d in sc.val_doubles])
        w = fit_weights(X, y)
        out[f"{cfg}-stack-val"] = {d: np.maximum(0, c + w[0] * (add[d] - c) + w[1] * (ens[d] - c)) for d in doubles}
        out[f"{cfg}-stack-val"]["_w"] = w
    return out


def baselines_for(sc):
    doubles = sc.val_doubles + sc.test_doubles
    c = sc.ctrl_train
    out = {"additive": {d: sc.additive_train(d) for d in doubles}}
    if sc.val_doubles:
        X = np.concatenate([sc.additive_train(d) - c for d in sc.val_doubles])
        y = np.concatenate([sc.mean(d, ("val",)) - c for d in sc.val_doubles])
        k = float(X @ y / (X @ X))
        out["additive-damped-val"] = {d: np.maximum(0, c + k * (sc.additive_train(d) - c)) for d in doubles}
        out["additive-damped-val"]["_w"] = np.array([k])
    return out


# ----------------------------------------------------------------------------------------------------------------
# Phase 2: the Swift flags (pv-train --ensemble, pv-predict --predict interaction --shrink val|eb) as prediction
# folders scored by pv-score, beside the Python variants above.


def merge_ensemble(paths, out):
    """The model file `pv-train --ensemble N --seed S` writes, from the N single-seed models of seeds S..S+N-1
    (EnsembleInteractionTests proves member k of --ensemble N is bit for bit the --ensemble 1 --seed S+k model):
    member 0's tensors and meta as they are, member k's tensors as m{k}/NAME, meta 'ensemble' and 'members'."""
    import zipfile
    zs = [zipfile.ZipFile(p) for p in paths]
    meta = json.loads(zs[0].read("meta.json"))
    metas = [json.loads(z.read("meta.json")) for z in zs]
    meta["ensemble"] = len(zs)
    meta["members"] = [{k: m[k] for k in ("seed", "selected", "history") if k in m} for m in metas]
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w") as w:
        for k, z in enumerate(zs):
            for n in z.namelist():
                if n.endswith(".npy"):
                    w.writestr(n if k == 0 else f"m{k}/{n}", z.read(n))
        w.writestr("meta.json", json.dumps(meta, sort_keys=True, indent=1))
    os.replace(tmp, out)


SWIFT_VARIANTS = {          # name: pv-predict options (pvae ensemble) or None (pv's additive baseline)
    "pv-int-val": ["--predict", "interaction", "--shrink", "val"],     # the defaults
    "pv-int-eb": ["--predict", "interaction", "--shrink", "eb"],
    "pv-ens-delta": ["--predict", "delta"],
}


def swift_records(sc, binp, cn, seeds):
    """Scores the Swift flags on the test doubles of `sc` with pv-score: the seeds' models merged into one ensemble
    file, predicted with each of SWIFT_VARIANTS on split-full.tsv (validation doubles in set val, read by --shrink
    val), pv's own additive baseline as the reference. Returns (screen, condition, variant, metrics) records and the
    fitted (kappa, lambda)."""
    d = f"{sc.folder}/{cn}/swift"
    os.makedirs(d, exist_ok=True)
    split = f"{sc.folder}/split-full.tsv"
    model = f"{d}/ensemble.npz"
    if not os.path.exists(model):
        merge_ensemble([f"{sc.folder}/{cn}/seed{s}/model.npz" for s in seeds], model)
    conds = ",".join(sc.test_doubles)
    add_model = f"{sc.folder}/additive.npz"
    if not os.path.exists(add_model):
        run([f"{binp}/pv-train", "--model", "additive", "--out", add_model, "--quiet", sc.expr_path, split], f"{d}/train-additive.log")
    preds = {"additive": (add_model, [])} | {v: (model, o) for v, o in SWIFT_VARIANTS.items()}
    weights = None
    for v, (m, opts) in preds.items():
        pdir = f"{d}/{v}" if v != "additive" else f"{sc.folder}/pred-additive"
        if not os.path.exists(f"{pdir}/means.npy"):
            run([f"{binp}/pv-predict", "--threads", "1", *opts, "--cells-per-condition", "50", "--conditions", conds,
                 "--out", pdir, m, sc.expr_path, split], f"{pdir}.log")
        for line in open(f"{pdir}/means.tsv"):
            if line.startswith("# interaction: shrink val, kappa"):
                w = line.split("kappa ")[1].split(",")
                weights = (float(w[0]), float(w[1].split("lambda ")[1]))
    score = f"{d}/scores.tsv"
    if not os.path.exists(score):
        run([f"{binp}/pv-score", "--out", score, "--reference", "additive",
             *[a for v in preds for a in ("--pred", f"{v}={(d + '/' + v) if v != 'additive' else sc.folder + '/pred-additive'}/pred.npy")],
             sc.expr_path, split], f"{d}/score.log")
    hdr, rows = read_tsv(score)
    ix = {h: i for i, h in enumerate(hdr)}
    recs = []
    for r in rows:
        if r[ix["condition"]] not in sc.test_doubles:
            continue
        m = {mt: float(r[ix[mt]]) if r[ix[mt]] not in ("", "nan", "NA") else float("nan") for mt in METRICS}
        name = r[ix["prediction"]]
        recs.append((sc.name, r[ix["condition"]], "pv-additive" if name == "additive" else name, m))
    return recs, weights


# ----------------------------------------------------------------------------------------------------------------
# Pooling and printing.

METRICS = ["mse", "pearson_delta", "mse_de", "interaction_r2"]


def boot_ci(diffs, strata, rng):
    """Mean of per-condition differences with a percentile bootstrap 95% interval, resampling conditions within each
    screen (stratum)."""
    diffs, strata = np.asarray(diffs), np.asarray(strata)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    sums = np.zeros(BOOT)
    for g in groups:
        sums += diffs[g[rng.integers(0, len(g), (BOOT, len(g)))]].sum(1)
    means = sums / len(diffs)
    return float(diffs.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def family(name):
    """'demo/seed2' -> 'demo' (single members are replicates of one variant)."""
    return name.split("/seed")[0] if "/seed" in name else name


def pooled_table(records, title, out):
    """records: (screen, condition, variant, metrics). Single-seed members are averaged per condition first (their
    mean metric over seeds); every variant is compared with additive on the same conditions."""
    rng = np.random.default_rng(0)
    per = {}
    for scn, cond, var, m in records:
        per.setdefault((family(var), scn, cond), []).append(m)
    per = {k: {mt: float(np.mean([m[mt] for m in v])) for mt in METRICS} for k, v in per.items()}
    variants = sorted({k[0] for k in per}, key=lambda v: (v not in ("additive", "ceiling"), v))
    conds = sorted({(k[1], k[2]) for k in per if k[0] == "additive"})
    lines = [title, "variant".ljust(26) + "".join(("d_" + m).rjust(31) for m in METRICS) + "   wins_mse  n"]
    base = {mt: np.array([per[("additive", s, c)][mt] for s, c in conds]) for mt in METRICS}
    lines.append("additive (absolute)".ljust(26) + "".join(("%.4f" % np.nanmean(base[m])).rjust(31) for m in METRICS))
    summary = {}
    for v in variants:
        if v == "additive" or not all((v, s, c) in per for s, c in conds):
            continue
        row, summary[v] = v.ljust(26), {}
        for mt in METRICS:
            d = np.array([per[(v, s, c)][mt] for s, c in conds]) - base[mt]
            ok = np.isfinite(d)
            m, lo, hi = boot_ci(d[ok], [s for (s, _), o in zip(conds, ok) if o], rng)
            summary[v][mt] = (m, lo, hi)
            row += ("%+.4f [%+.4f,%+.4f]" % (m, lo, hi)).rjust(31)
        wins = np.mean([per[(v, s, c)]["mse"] < per[("additive", s, c)]["mse"] for s, c in conds])
        row += "   %5.2f  %d" % (wins, len(conds))
        lines.append(row)
    text = "\n".join(lines)
    print(text)
    out.write(text + "\n\n")
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="CI-sized: two small screens, two seeds, short training")
    ap.add_argument("--bin", default=".build/release", help="folder of the built tools [.build/release]")
    ap.add_argument("--out", default=None, help="output folder [fidelity, or fidelity-quick with --quick]")
    ap.add_argument("--jobs", type=int, default=2, help="training processes at a time (one thread each) [2]")
    ap.add_argument("--configs", default=None, help="comma-separated subset of the model configurations")
    ap.add_argument("--screens", default=None, help="comma-separated subset of the screens")
    ap.add_argument("--no-norman", action="store_true", help="skip the Norman subset")
    ap.add_argument("--seeds", default=None, help="comma-separated training seeds [1,2,3; 1,2 with --quick]")
    ap.add_argument("--collect", action="store_true", help="train nothing: tabulate the models that exist")
    ap.add_argument("--norman", default="/work/shared/data/norman2019-subset", help="Norman subset folder")
    args = ap.parse_args()
    try:
        os.nice(10)
    except OSError:
        pass
    out = args.out or ("fidelity-quick" if args.quick else "fidelity")
    os.makedirs(out, exist_ok=True)
    screens = QUICK_SCREENS if args.quick else SCREENS
    configs = QUICK_CONFIGS if args.quick else CONFIGS
    if args.screens:
        screens = {k: v for k, v in screens.items() if k in args.screens.split(",")}
    if args.configs:
        # --quick's names (its small 'demo') only with --quick: otherwise 'demo' is make demo's training.
        pool = (CONFIGS | QUICK_CONFIGS if args.quick else CONFIGS) | EXTRA_CONFIGS
        configs = {k: v for k, v in pool.items() if k in args.configs.split(",")}
    seeds = QUICK_SEEDS if args.quick else SEEDS
    if args.seeds:
        seeds = [int(x) for x in args.seeds.split(",")]
    t0 = time.time()
    report = open(f"{out}/report.txt", "w")
    report.write("python3 bench/fidelity/fidelity.py " + " ".join(sys.argv[1:]) + "\n\n")

    sims = {n: Screen(n, f"{out}/{n}", args.bin, sim_opts=o, rng_seed=i) for i, (n, o) in enumerate(screens.items())}
    datasets = dict(sims)
    if not args.no_norman and os.path.exists(args.norman):
        datasets["norman"] = Screen("norman", f"{out}/norman", args.bin, data=args.norman, n_top=2000)

    # Seed-major order, so that an interrupted run (then --collect) has every screen and configuration at some seeds.
    jobs = []
    for s in seeds:
        for cn, cfg in configs.items():
            for sc in datasets.values():
                jobs.append((sc, cn, cfg, s, sc.singles + sc.val_doubles + sc.test_doubles))
    if args.collect:
        done = lambda j: os.path.exists(f"{j[0].folder}/{j[1]}/seed{j[3]}/model.npz")
        jobs = [j for j in jobs if done(j)]
    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        results = list(ex.map(lambda j: train_predict(j[0], args.bin, j[1], j[2], j[3], j[4], latents=j[0].truth_path is not None), jobs))
    members, member_seeds = {}, {}
    for (sc, cn, _, s, _), r in zip(jobs, results):
        members.setdefault((sc.name, cn), []).append(r)
        member_seeds.setdefault((sc.name, cn), []).append(s)
    # Keep the data sets where every configuration has at least two seeds (all of them unless --collect).
    need = min(2, len(seeds))
    datasets = {n: sc for n, sc in datasets.items() if all(len(members.get((n, cn), [])) >= need for cn in configs)}
    sims = {n: sc for n, sc in datasets.items() if n != "norman"}
    seed_note = "; ".join("%s %s" % (n, ",".join(str(len(member_seeds[(n, cn)])) for cn in configs)) for n in datasets)
    report.write("seeds per data set and configuration (%s): %s\n\n" % (",".join(configs), seed_note))
    print("seeds per data set and configuration (%s): %s" % (",".join(configs), seed_note))

    sim_records, norman_records, weights, ident = [], [], [], []
    for sc in datasets.values():
        preds = baselines_for(sc)
        for cn in configs:
            preds.update(variants_for(sc, members[(sc.name, cn)], cn))
            for s in member_seeds[(sc.name, cn)]:
                idn = identifiability(sc, f"{sc.folder}/{cn}/seed{s}", args.bin)
                if idn:
                    ident.append((sc.name, cn, s, idn))
        recs = sim_records if sc.name != "norman" else norman_records
        for cn in configs:
            if len(member_seeds[(sc.name, cn)]) == len(seeds):
                r, w = swift_records(sc, args.bin, cn, member_seeds[(sc.name, cn)])
                recs.extend((a, b, f"{cn}:{v}", m) for a, b, v, m in r)
                if w:
                    weights.append((sc.name, f"{cn}:pv-int-val", [round(w[0], 3), round(w[1], 3)]))
        for d in sc.test_doubles:
            recs.append((sc.name, d, "ceiling", ceiling(sc, d)))
            for v, p in preds.items():
                recs.append((sc.name, d, v, metrics(sc, d, p[d])))
        for v, p in preds.items():
            if "_w" in p:
                weights.append((sc.name, v, p["_w"].round(3).tolist()))

    head = "held-out doubles, difference to the exact additive baseline (variant - additive), mean [95% bootstrap]"
    # The Swift flags are scored by pv-score against pv's own additive baseline (clamped at 0, as every pv prediction):
    # their own table, compared with that baseline, beside the Python variants' table.
    def swift_only(recs):
        return [(a, b, "additive" if v.endswith(":pv-additive") else v, m) for a, b, v, m in recs if ":" in v]
    python_sim = [r for r in sim_records if ":" not in r[2]]
    summ = pooled_table(python_sim, f"SIMULATED ({len(sims)} screens x up to {len(seeds)} seeds; {head})", report)
    pooled_table(swift_only(sim_records), f"\nSIMULATED, the Swift flags scored by pv-score ({len(sims)} screens, one "
                 f"ensemble of seeds {','.join(map(str, seeds))} each; difference to pv's additive baseline, mean [95% "
                 f"bootstrap over doubles within screens])", report)
    if norman_records:
        pooled_table([r for r in norman_records if ":" not in r[2]], f"\nNORMAN subset ({head}; no val doubles, no tuning)", report)
        pooled_table(swift_only(norman_records), f"\nNORMAN subset, the Swift flags scored by pv-score (difference to pv's "
                     f"additive baseline; no val doubles: --shrink val falls back to eb)", report)
        per_double = ["\nNorman per double (mse, pearson_delta; seeds' mean for single members):"]
        for d in sorted({r[1] for r in norman_records}):
            vals = {}
            for _, c, v, m in norman_records:
                if c == d:
                    vals.setdefault(family(v), []).append(m)
            per_double.append("  %-18s " % d + "  ".join("%s %.4f/%.3f" % (v, np.mean([m["mse"] for m in ms]), np.mean([m["pearson_delta"] for m in ms]))
                                                      for v, ms in sorted(vals.items()) if v in ("additive", "ceiling") or v.endswith("-ens") or v.endswith("int-eb")))
        print("\n".join(per_double))
        report.write("\n".join(per_double) + "\n")
    diag = ["\ninteraction diagnostics per configuration (test doubles, mean over data sets' doubles): corr and size ratio"
            " of the ensemble's interaction term to the true deviation from additive; size ratio of its double change"
            " and of the exact additive change to the true change"]
    for cn in configs:
        for part, names in [("simulated", [n for n in datasets if n != "norman"]), ("norman", [n for n in datasets if n == "norman"])]:
            cs, rs, ds, adds = [], [], [], []
            for n in names:
                sc = datasets[n]
                for d in sc.test_doubles:
                    Ib, _ = eb_interaction(members[(n, cn)], sc, d)
                    mu = sc.mean(d, ("test",))
                    r = mu - sc.additive_truth(d)
                    D = np.mean([m[d] for m in members[(n, cn)]], 0)
                    cs.append(np.corrcoef(Ib, r)[0, 1]); rs.append(np.linalg.norm(Ib) / np.linalg.norm(r))
                    ds.append(np.linalg.norm(D - sc.ctrl_train) / np.linalg.norm(mu - sc.ctrl_all))
                    adds.append(np.linalg.norm(sc.additive_train(d) - sc.ctrl_train) / np.linalg.norm(mu - sc.ctrl_all))
            if cs:
                diag.append("  %-8s %-9s interaction corr %+.3f, size %.2fx; double change %.2fx (additive %.2fx)" % (
                    cn, part, np.mean(cs), np.median(rs), np.median(ds), np.median(adds)))
    print("\n".join(diag))
    report.write("\n".join(diag) + "\n")
    if weights:
        w = "\nwithin-screen weights fitted on val doubles: " + "; ".join("%s %s %s" % x for x in weights)
        print(w)
        report.write(w + "\n")
    if ident:
        lines = ["\nidentifiability (MCC of z_resp vs true z_nu; R^2 of true z_iota on mu_inv), mean over screens x seeds:"]
        for cn in configs:
            xs = [x[3] for x in ident if x[1] == cn]
            if xs:
                lines.append("  %-10s MCC %.3f (sd %.3f)  R2_inv %.3f (sd %.3f)" % (
                    cn, np.mean([x["mcc"] for x in xs]), np.std([x["mcc"] for x in xs]),
                    np.mean([x["r2_inv"] for x in xs]), np.std([x["r2_inv"] for x in xs])))
        # Per screen x seed, and the paired difference of each configuration to the first one (same screen, seed).
        by = {(x[0], x[1], x[2]): x[3] for x in ident}
        keys = sorted({(x[0], x[2]) for x in ident})
        lines.append("  per screen, seed: " + "; ".join(
            "%s s%d " % k + " ".join("%s %.3f/%.3f" % (cn, by[(k[0], cn, k[1])]["mcc"], by[(k[0], cn, k[1])]["r2_inv"])
                                     for cn in configs if (k[0], cn, k[1]) in by) for k in keys))
        first = list(configs)[0]
        for cn in list(configs)[1:]:
            pairs = [k for k in keys if (k[0], first, k[1]) in by and (k[0], cn, k[1]) in by]
            if len(pairs) >= 2:
                for m in ("mcc", "r2_inv"):
                    dv = np.array([by[(k[0], cn, k[1])][m] - by[(k[0], first, k[1])][m] for k in pairs])
                    half = stats.t.ppf(0.975, len(dv) - 1) * dv.std(ddof=1) / np.sqrt(len(dv))
                    lines.append("  %s - %s %-6s %+.3f [%+.3f, %+.3f] (mean over %d screen x seed pairs, 95%% t interval)" % (
                        cn, first, m, dv.mean(), dv.mean() - half, dv.mean() + half, len(dv)))
        print("\n".join(lines))
        report.write("\n".join(lines) + "\n")
    json.dump({"simulated": sim_records, "norman": norman_records, "identifiability": ident}, open(f"{out}/records.json", "w"))
    print("\n%.0f s; report in %s/report.txt" % (time.time() - t0, out))


EXTRA_CONFIGS = {
    "addud":  BASE + " --u-compose additive --decoder additive",
    "alpha0": BASE + " --u-compose mlp --alpha 0",
    "steps8k": "--steps 8000 --lr 1e-3 --u-compose mlp",
    "lr3e-4": "--steps 4000 --lr 3e-4 --u-compose mlp",
    "small":  BASE + " --u-compose mlp --latent-inv 10 --latent-resp 10",
    "addud-alpha0": BASE + " --u-compose additive --decoder additive --alpha 0",
}

if __name__ == "__main__":
    main()
