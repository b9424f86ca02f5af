#!/usr/bin/env python3
"""Known answers for pv-score (Sources/PVShared/Score), computed independently with numpy/scipy.

Writes under Tests/PVSharedTests/Fixtures/score/:
  expr.npy, genes.tsv, split.tsv                 the truth (cells x genes, float32)
  good/pred.npy, good/pred.tsv                   a prediction close to the truth
  ctrl/pred.npy, ctrl/pred.tsv                   control cells as the prediction
  extra/pred.npy, extra/pred.tsv                 like good, plus condition C that the truth lacks
  nan/pred.npy, nan/pred.tsv                     like good, with one NaN (row 5, gene 7)
  means/pred.npy, pred.tsv, means.npy, means.tsv good's cells with predicted means of their own (pv-predict's layout)
  expected.tsv                                   every metric per prediction and condition (--l2-genes 10)
  expected_groups.tsv                            metric means per prediction and group (over defined values)
  expected_nochange.tsv                          mse, pearson_delta, interaction_r2 of "no change" (mu_hat = c)
  expected_paired.tsv                            good against the reference ctrl: n, win rate, mean difference
  expected_de.tsv                                top-20 DE genes per condition
Run from the repository root:  python3 Tests/reference/make_score_fixture.py

Definitions (DESIGN.md §6), for condition p:
  truth cells   rows of split set `test` with condition p, in file order; predicted cells: rows of pred.npy named by
                pred.tsv for p, in pred.tsv order.  mu_hat, mu: their means.  c: mean of ALL control cells (any set),
                as GEARS' deeper_analysis uses adata.obs.condition == 'ctrl'.
  DE genes      GEARS get_DE_genes: scanpy rank_genes_groups(method 't-test' = Welch, reference = control,
                rankby_abs=True) on the full data: p's cells of every set against all control cells. Variances are
                unbiased (ddof 1; 0 for a single cell); a gene with zero variance in both groups scores 0 when the
                means agree (scanpy turns NaN into 0) and +-inf when they differ (ranked first). Ties in |t| are
                broken by gene index here (scanpy's argsort is not stable). Top n_de = 20.
  r2            sklearn r2_score(y_true=mu, y_pred=mu_hat) over all genes (1 if mu is constant and matched, else 0).
  blocks        discrepancy-VAE (uhlerlab/discrepancy_vae notebooks/plot_samples.ipynb): consecutive blocks of 32
                predicted vs 32 true cells (block i pairs cells 32i..32i+31 of each); nb = min(n_pred, n_true) // 32
                blocks; with fewer than 32 cells on either side, one block of min(n_pred, n_true) cells. Per-block
                values are averaged.
  r2_dvae       per block max(r2_score(y_true=mean(pred block), y_pred=mean(true block)), 0) (arguments swapped and
                clipped as discrepancy-VAE does), averaged.
  rmse_norm     per block sqrt(mean((pred - true)^2) / mean(true^2)), averaged.
  mmd           per block discrepancy-VAE MMD_loss(fix_sigma=1000, kernel_num=10, kernel_mul=2)(pred, true):
                K(a,b) = sum_{i=0..9} exp(-||a-b||^2 / (1000 / 2^5 * 2^i)), biased estimate
                mean(K_xx) + mean(K_yy) - 2 mean(K_xy) over the stacked 2b x 2b kernel matrix, diagonals included.
  mse           mean over genes (mu_hat - mu)^2;  mse_de over the DE genes.
  pearson_delta Pearson(mu_hat - c, mu - c) over all genes (0 when undefined, as GEARS); _de over the DE genes.
  l2_top1000    ||mu_hat - mu||_2 over the N genes with the highest control mean c (ties: lower index first);
                N = 1000, here --l2-genes 10.
  direction_de  fraction of DE genes with sign(mu_hat - c) == sign(mu - c) (numpy sign, 0 matches 0).
  mu_hat        from means.npy (rows named by means.tsv) when the prediction has one, else the cells' mean; the
                block metrics always read the cells.
  mae           mean over genes |mu_hat - mu| (cell-eval mae: sklearn mean_absolute_error of the means).
  pds           cell-eval 0.8 discrimination_score_l1 (metrics/_anndata.py): predicted change d_k = mu_hat_k - c,
                true changes t_j = mu_j - c of every scored condition j; L1 distances |d_k - t_j|_1 over the genes
                whose name differs from the condition's; rank = position of k in the ascending (stable) argsort;
                pds = 1 - rank / K.
  interaction   for a combination whose single genes all have cells (any set): a = c + sum_k (mu_k - c) with mu_k the
                mean of ALL cells of single k; r = mu - a, r_hat = mu_hat - a; interaction_r2 = 1 - |r_hat - r|^2 /
                |r|^2, pearson_interaction = corr(r_hat, r) (undefined -> empty). Singles: empty.
  groups        means over the conditions where the metric is defined (empty when none).
  paired        per condition diff = metric(good) - metric(ctrl); win = diff better in the metric's direction (tie
                0.5); win rate = mean(win); mean difference = mean(diff).
"""
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "PVSharedTests", "Fixtures", "score")
N_DE, L2_GENES, BLOCK = 20, 10, 32
METRICS = ["r2", "r2_dvae", "rmse_norm", "mmd", "mse", "mae", "mse_de", "pearson_delta", "pearson_delta_de",
           "l2_top1000", "direction_de", "pds", "interaction_r2", "pearson_interaction"]
HIGHER = {"r2", "r2_dvae", "pearson_delta", "pearson_delta_de", "direction_de", "pds", "interaction_r2",
          "pearson_interaction"}
HEADLINE = ["mse", "mae", "pearson_delta", "pds", "interaction_r2"]

rng = np.random.default_rng(2026)
G = 40
genes = [f"G{i:02d}" for i in range(G)]
base = rng.uniform(0.2, 2.5, G)
base[0] = 0.0
eff = {"A": rng.normal(0, 0.6, G), "B": rng.normal(0, 0.6, G)}
eff["A+B"] = eff["A"] + eff["B"] + rng.normal(0, 0.3, G)
for e in eff.values():
    e[0] = 0.0

def cells(cond, n):
    x = base + (eff[cond] if cond != "ctrl" else 0) + rng.normal(0, 0.5, (n, G))
    x[:, 0] = 0.0                       # zero variance everywhere: t = NaN -> 0
    x[:, 1] = 1.0 if cond == "B" else (0.0 if cond == "ctrl" else x[:, 1])  # zero variance in B and ctrl: t = inf
    return x

layout = [("ctrl", "train", 40, "ctrl"), ("A", "train", 10, "single"), ("ctrl", "test", 10, "ctrl"),
          ("A", "test", 35, "single"), ("B", "test", 70, "single"), ("A+B", "test", 20, "double"),
          ("B", "val", 5, "single")]
X, split = [], []
for cond, s, n, grp in layout:
    X.append(cells(cond, n))
    split += [(f"{cond}-{s}-{i}", cond, cond, s, grp) for i in range(n)]
X = np.vstack(X).astype(np.float32)
conds = np.array([r[2] for r in split]); sets = np.array([r[3] for r in split])
groups = {r[2]: r[4] for r in split}
Xd = X.astype(np.float64)

def write_split():
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, "expr.npy"), X)
    with open(os.path.join(OUT, "split.tsv"), "w") as f:
        f.write("# fixture split\nbarcode\tlabel\tcondition\tset\tgroup\n")
        for r in split:
            f.write("\t".join(r) + "\n")
    with open(os.path.join(OUT, "genes.tsv"), "w") as f:
        f.write("gene_id\tsymbol\tmean\tdispersion\thighly_variable\n")
        for i, gname in enumerate(genes):
            f.write(f"ENSG{i:05d}\t{gname}\t0\t0\tTrue\n")

def write_pred(name, parts, nan_at=None):
    d = os.path.join(OUT, name); os.makedirs(d, exist_ok=True)
    P = np.vstack([p for _, p in parts]).astype(np.float32)
    if nan_at is not None:
        P[nan_at] = np.nan
    np.save(os.path.join(d, "pred.npy"), P)
    with open(os.path.join(d, "pred.tsv"), "w") as f:
        f.write(f"# fixture prediction {name}\nrow\tcondition\tcontrol_barcode\n")
        r = 0
        for cond, p in parts:
            for _ in range(p.shape[0]):
                f.write(f"{r}\t{cond}\tctrl-train-{r % 40}\n"); r += 1
    return P

test_conds = ["A", "B", "A+B"]
ctrl_cells = Xd[conds == "ctrl"]
n_pred = {"A": 40, "B": 64, "A+B": 20}
good = [(c, Xd[(conds == c) & (sets == "test")].mean(0) + 0.8 * rng.normal(0, 0.5, (n_pred[c], G))
         + 0.2 * rng.normal(0, 1, G)) for c in test_conds]
ctrlp = [(c, ctrl_cells[rng.choice(len(ctrl_cells), n_pred[c], replace=True)]) for c in test_conds]
# Conditions written in a different order from the truth's, to show order does not matter.
good = [good[2], good[0], good[1]]
extra = good + [("C", ctrl_cells[:5])]
write_split()
preds = {"good": write_pred("good", good), "ctrl": write_pred("ctrl", ctrlp)}
write_pred("extra", extra)
write_pred("nan", good, nan_at=(5, 7))
# "means": good's cells and a means.npy whose rows (in another order) are the truth means plus noise.
write_pred("means", good)
means_pred = {c: (Xd[(conds == c) & (sets == "test")].mean(0) + rng.normal(0, 0.15, G)).astype(np.float32).astype(np.float64)
              for c in test_conds}
means_pred["A"] = np.maximum(means_pred["A"], 0)
means_order = ["B", "A+B", "A"]
np.save(os.path.join(OUT, "means", "means.npy"), np.vstack([means_pred[c] for c in means_order]).astype(np.float32))
with open(os.path.join(OUT, "means", "means.tsv"), "w") as f:
    f.write("# fixture means\nrow\tcondition\n" + "".join(f"{i}\t{c}\n" for i, c in enumerate(means_order)))
pred_rows = {"good": good, "ctrl": ctrlp, "means": good}

# ---- reference metrics ----
def r2_score(y_true, y_pred):
    num = ((y_true - y_pred) ** 2).sum()
    den = ((y_true - y_true.mean()) ** 2).sum()
    if den == 0:
        return 1.0 if num == 0 else 0.0
    return 1.0 - num / den

def pearson(a, b):
    a = a - a.mean(); b = b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return 0.0 if den == 0 else float((a * b).sum() / den)

def mmd(x, y):
    t = np.vstack([x, y])
    d2 = ((t[:, None, :] - t[None, :, :]) ** 2).sum(2)
    base_bw = 1000.0 / 2 ** (10 // 2)
    k = sum(np.exp(-d2 / (base_bw * 2 ** i)) for i in range(10))
    n = x.shape[0]
    return float(np.mean(k[:n, :n] + k[n:, n:] - k[:n, n:] - k[n:, :n]))

def welch_t(a, b):
    na, nb = len(a), len(b)
    ma, mb = a.mean(0), b.mean(0)
    va = a.var(0, ddof=1) if na > 1 else np.zeros(a.shape[1])
    vb = b.var(0, ddof=1) if nb > 1 else np.zeros(b.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (ma - mb) / np.sqrt(va / na + vb / nb)
    t[np.isnan(t)] = 0.0
    return t

c = ctrl_cells.mean(0)
de = {}
for p in test_conds:
    t = welch_t(Xd[conds == p], ctrl_cells)
    order = sorted(range(G), key=lambda j: (-abs(t[j]), j))
    de[p] = order[:N_DE]
l2_idx = sorted(range(G), key=lambda j: (-c[j], j))[:L2_GENES]

# Cross-check the DE ranking with scanpy itself (GEARS' code path) when it is installed.
try:
    import anndata, scanpy as sc, warnings
    warnings.filterwarnings("ignore")
    ad = anndata.AnnData(X.copy())
    ad.var_names = genes
    ad.obs["condition"] = conds
    sc.tl.rank_genes_groups(ad, groupby="condition", reference="ctrl", rankby_abs=True, n_genes=G,
                            use_raw=False, method="t-test")
    for p in test_conds:
        names = list(ad.uns["rank_genes_groups"]["names"][p][:N_DE])
        assert names == [genes[j] for j in de[p]], (p, names, [genes[j] for j in de[p]])
    print("DE ranking agrees with scanpy", sc.__version__)
except ImportError:
    print("scanpy not installed: DE ranking not cross-checked")

def pearson_or_nan(a, b):
    a = a - a.mean(); b = b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float("nan") if den == 0 else float((a * b).sum() / den)

def additive_ref(p):
    singles = p.split("+")
    if len(singles) < 2 or not all((conds == g).any() for g in singles):
        return None
    return c + sum(Xd[conds == g].mean(0) - c for g in singles)

def interaction(mu_hat, mu, a):
    if a is None:
        return float("nan"), float("nan")
    r, r_hat = mu - a, mu_hat - a
    den = (r * r).sum()
    return (1 - ((r_hat - r) ** 2).sum() / den if den > 0 else float("nan")), pearson_or_nan(r_hat, r)

def discrimination(pred_changes, true_changes, names):
    K = len(names)
    out = []
    for k in range(K):
        keep = [g for g in range(G) if genes[g] != names[k]]
        d = np.abs(true_changes[:, keep] - pred_changes[k, keep]).sum(1)
        rank = int(np.flatnonzero(np.argsort(d, kind="stable") == k)[0])
        out.append(1 - rank / K)
    return out

# The identity behind interaction_r2 on a hand example: r_hat - r = mu_hat - mu, so interaction_r2 > 0 exactly
# when the prediction's squared error is below the additive reference's.
_mu, _a = np.array([1.0, 2.0, 0.5]), np.array([1.5, 1.0, 0.5])
for _mh in [np.array([1.2, 1.8, 0.6]), np.array([2.0, 0.5, 0.0]), _a]:
    _r2, _ = interaction(_mh, _mu, _a)
    assert (_r2 > 0) == (((_mh - _mu) ** 2).sum() < ((_a - _mu) ** 2).sum()), (_mh, _r2)
assert abs(interaction(np.array([1.2, 1.8, 0.6]), _mu, _a)[0] - (1 - 0.09 / 1.25)) < 1e-12

rows = []
for name in ["good", "ctrl", "means"]:
    parts = dict(pred_rows[name])
    mu_hats = {}
    for p in test_conds:
        P = parts[p].astype(np.float32).astype(np.float64)
        mu_hats[p] = means_pred[p] if name == "means" else P.mean(0)
    pds = discrimination(np.array([mu_hats[p] - c for p in test_conds]),
                         np.array([Xd[(conds == p) & (sets == "test")].mean(0) - c for p in test_conds]), test_conds)
    for pi, p in enumerate(test_conds):
        P = parts[p].astype(np.float32).astype(np.float64)
        T = Xd[(conds == p) & (sets == "test")]
        mu_hat, mu = mu_hats[p], T.mean(0)
        m = min(len(P), len(T)); nb = m // BLOCK
        blocks = [(i * BLOCK, (i + 1) * BLOCK) for i in range(nb)] if nb > 0 else [(0, m)]
        r2d = np.mean([max(r2_score(P[a:b].mean(0), T[a:b].mean(0)), 0.0) for a, b in blocks])
        rmse = np.mean([np.sqrt(np.mean((P[a:b] - T[a:b]) ** 2) / np.mean(T[a:b] ** 2)) for a, b in blocks])
        mm = np.mean([mmd(P[a:b], T[a:b]) for a, b in blocks])
        D = de[p]
        v = {"r2": r2_score(mu, mu_hat), "r2_dvae": r2d, "rmse_norm": rmse, "mmd": mm,
             "mse": np.mean((mu_hat - mu) ** 2), "mse_de": np.mean((mu_hat[D] - mu[D]) ** 2),
             "pearson_delta": pearson(mu_hat - c, mu - c), "pearson_delta_de": pearson(mu_hat[D] - c[D], mu[D] - c[D]),
             "l2_top1000": np.sqrt(((mu_hat[l2_idx] - mu[l2_idx]) ** 2).sum()),
             "direction_de": np.mean(np.sign(mu_hat[D] - c[D]) == np.sign(mu[D] - c[D])),
             "mae": np.mean(np.abs(mu_hat - mu)), "pds": pds[pi]}
        v["interaction_r2"], v["pearson_interaction"] = interaction(mu_hat, mu, additive_ref(p))
        rows.append((name, p, groups[p], len(T), v))

def fmt(x):
    return "" if np.isnan(x) else repr(float(x))

def defined_mean(vals):
    vals = [x for x in vals if not np.isnan(x)]
    return float(np.mean(vals)) if vals else float("nan")

with open(os.path.join(OUT, "expected.tsv"), "w") as f:
    f.write("prediction\tcondition\tgroup\tn_cells\treplicate\t" + "\t".join(METRICS) + "\n")
    for name, p, g, n, v in rows:
        f.write(f"{name}\t{p}\t{g}\t{n}\t1\t" + "\t".join(fmt(v[m]) for m in METRICS) + "\n")
with open(os.path.join(OUT, "expected_groups.tsv"), "w") as f:
    f.write("prediction\tgroup\tn_conditions\t" + "\t".join(METRICS) + "\n")
    for name in ["good", "ctrl", "means"]:
        for g in ["all", "double", "single"]:
            sel = [v for nm, p, gg, n, v in rows if nm == name and (g == "all" or gg == g)]
            f.write(f"{name}\t{g}\t{len(sel)}\t" + "\t".join(fmt(defined_mean([v[m] for v in sel])) for m in METRICS) + "\n")
with open(os.path.join(OUT, "expected_nochange.tsv"), "w") as f:
    f.write("condition\tmse\tpearson_delta\tinteraction_r2\n")
    for p in test_conds:
        mu = Xd[(conds == p) & (sets == "test")].mean(0)
        f.write(f"{p}\t{fmt(np.mean((c - mu) ** 2))}\t0.0\t{fmt(interaction(c, mu, additive_ref(p))[0])}\n")
with open(os.path.join(OUT, "expected_paired.tsv"), "w") as f:
    f.write("prediction\tgroup\tmetric\tn_conditions\twin_rate\tmean_difference\n")
    byc = {(nm, p): v for nm, p, gg, n, v in rows}
    for g in ["all", "double", "single"]:
        for m in HEADLINE:
            cs = [p for p in test_conds if (g == "all" or groups[p] == g)
                  and not np.isnan(byc[("good", p)][m]) and not np.isnan(byc[("ctrl", p)][m])]
            if not cs:
                continue
            diff = np.array([byc[("good", p)][m] - byc[("ctrl", p)][m] for p in cs])
            win = np.where(diff == 0, 0.5, (diff > 0) if m in HIGHER else (diff < 0))
            f.write(f"good\t{g}\t{m}\t{len(cs)}\t{fmt(win.mean())}\t{fmt(diff.mean())}\n")
with open(os.path.join(OUT, "expected_de.tsv"), "w") as f:
    f.write("condition\tgenes\n")
    for p in sorted(test_conds):
        f.write(p + "\t" + ",".join(genes[j] for j in de[p]) + "\n")
print("wrote", os.path.normpath(OUT))
