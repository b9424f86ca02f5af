#!/usr/bin/env python3
"""PyTorch reference implementation of PerturbedVAE (DESIGN.md §5), float32 on CPU.

It exists for two jobs: a gradient oracle for pv (bench/reference/check_gradients.py) and a speed yardstick
(bench/train/run.sh). Tensor names, shapes and loss reductions follow pv (Sources/PVShared/Model) exactly, so a pv model.npz
loads here and a model saved here loads in pv (Linear weights stored [in, out]: y = x·W + b).

Subcommands:
  pvae.py train  EXPR.npy SPLIT.tsv --out model.npz [--steps N | --epochs E] [--lr 1e-4] [--seed S] [--threads N]
  pvae.py bench  [--genes 5000] [--targets 100] [--steps 30] [--threads 2]   (training-step throughput, B=64)
  pvae.py loss   MODEL.npz BATCH.npz --out GRADS.npz   (loss terms and gradients for a fixed batch and fixed noises)
"""
import argparse
import json
import os
import sys
import time
import zipfile

import numpy as np
import torch

SLOPE = 0.2


def lrelu(x):
    return torch.nn.functional.leaky_relu(x, SLOPE)


class Lin(torch.nn.Module):
    """y = x·W + b with W stored [in, out] (pv's layout); PyTorch nn.Linear default initialisation."""

    def __init__(self, n_in, n_out, fan_in=None):
        super().__init__()
        bound = 1.0 / np.sqrt(max(fan_in if fan_in is not None else n_in, 1))
        self.W = torch.nn.Parameter(torch.empty(n_in, n_out).uniform_(-bound, bound))
        self.b = torch.nn.Parameter(torch.empty(n_out).uniform_(-bound, bound))

    def forward(self, x):
        return torch.addmm(self.b, x, self.W)


class Config:
    """Sizes and variants; the names match pv's PVConfig and meta.json."""

    def __init__(self, genes, targets, hidden=256, latent_inv=85, latent_resp=20, u_compose="mlp", decoder="mlp",
                 node_hidden=16):
        self.G, self.K, self.H = genes, targets, hidden
        self.dI, self.dN = latent_inv, latent_resp
        self.u_compose, self.decoder, self.S = u_compose, decoder, node_hidden

    @property
    def nL(self):
        return self.dN * (self.dN - 1) // 2

    def as_dict(self):
        return dict(genes=self.G, targets=self.K, hidden=self.H, latent_inv=self.dI, latent_resp=self.dN,
                    u_compose=self.u_compose, decoder=self.decoder, node_hidden=self.S)


class PVAE(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = self.cfg = cfg
        G, K, H, dI, dN = c.G, c.K, c.H, c.dI, c.dN
        self.enc1, self.enc2 = Lin(G, H), Lin(H, H)
        self.inv = Lin(H, 2 * dI)
        self.resp1, self.resp2 = Lin(H + K, H), Lin(H, 2 * dN)
        u_in = H if c.u_compose == "mlp" else K
        if c.u_compose == "mlp":
            self.utrunk = Lin(K, H)
        self.ulnn, self.ulni = Lin(u_in, c.nL), Lin(u_in, dN * dI)
        self.umu, self.ulogbeta = Lin(u_in, dN), Lin(u_in, dN)
        if c.decoder == "mlp":
            self.dec1, self.dec2, self.dec3 = Lin(dN + dI, H), Lin(H, H), Lin(H, G)
        else:
            self.decI1, self.decI2, self.decI3 = Lin(dI, H), Lin(H, H), Lin(H, G)
            S = c.S
            self.decN1W = torch.nn.Parameter(torch.empty(dN, S).uniform_(-1, 1))      # fan-in 1
            self.decN1b = torch.nn.Parameter(torch.empty(dN, S).uniform_(-1, 1))
            b2 = 1.0 / np.sqrt(S)
            self.decN2W = torch.nn.Parameter(torch.empty(dN * S, G).uniform_(-b2, b2))
        rows, cols = torch.tril_indices(dN, dN, offset=-1)   # row-major strict lower triangle: (1,0),(2,0),(2,1),...
        self.register_buffer("tril_r", rows, persistent=False)
        self.register_buffer("tril_c", cols, persistent=False)

    # ---- names as in model.npz -------------------------------------------------------------------------------
    def named_tensors(self):
        """(pv name, parameter) pairs in pv's storage order (PVConfig.tensors)."""
        c = self.cfg
        layers = ["enc1", "enc2", "inv", "resp1", "resp2"] + (["utrunk"] if c.u_compose == "mlp" else [])
        layers += ["ulnn", "ulni", "umu", "ulogbeta"]
        layers += ["dec1", "dec2", "dec3"] if c.decoder == "mlp" else ["decI1", "decI2", "decI3"]
        out = []
        for name in layers:
            lin = getattr(self, name)
            out += [(name + ".W", lin.W), (name + ".b", lin.b)]
        if c.decoder != "mlp":
            out += [("decN1.W", self.decN1W), ("decN1.b", self.decN1b), ("decN2.W", self.decN2W)]
        return out

    # ---- the model ---------------------------------------------------------------------------------------------
    def unets(self, U):
        """U: distinct labels [n, K] -> Λ_νν packed [n, nL], Λ_νι [n, dN, dI], μ_ν [n, dN], log β_ν [n, dN]."""
        t = lrelu(self.utrunk(U)) if self.cfg.u_compose == "mlp" else U
        return (self.ulnn(t), self.ulni(t).view(-1, self.cfg.dN, self.cfg.dI), self.umu(t), self.ulogbeta(t))

    def decode(self, z):
        c = self.cfg
        if c.decoder == "mlp":
            return self.dec3(lrelu(self.dec2(lrelu(self.dec1(z)))))
        zn, zi = z[:, :c.dN], z[:, c.dN:]
        base = self.decI3(lrelu(self.decI2(lrelu(self.decI1(zi)))))
        a = lrelu(zn.unsqueeze(-1) * self.decN1W + self.decN1b)          # [rows, dN, S]
        return base + a.reshape(z.shape[0], -1) @ self.decN2W

    def solve(self, lnn_rows, c_rows):
        """z = (I − Λ)⁻¹ c per row, Λ strictly lower triangular from the packed rows."""
        n, dN = c_rows.shape
        L = torch.zeros(n, dN, dN, dtype=c_rows.dtype)
        L = L.index_put((torch.arange(n).unsqueeze(1), self.tril_r.unsqueeze(0), self.tril_c.unsqueeze(0)), lnn_rows)
        A = torch.eye(dN, dtype=c_rows.dtype).expand(n, dN, dN) - L
        return torch.linalg.solve_triangular(A, c_rows.unsqueeze(-1), upper=False, unitriangular=True).squeeze(-1)

    def forward(self, x, u, eps_inv, eps_resp):
        """Rows of x with labels u [rows, K] and noises; returns the tensors the loss needs."""
        c = self.cfg
        h = lrelu(self.enc2(lrelu(self.enc1(x))))
        pi = self.inv(h)
        mu_i, lv_i = pi[:, :c.dI], pi[:, c.dI:]
        z_i = mu_i + torch.exp(0.5 * lv_i) * eps_inv
        q = self.resp2(lrelu(self.resp1(torch.cat([h, u], dim=1))))
        mu_q, lv_q = q[:, :c.dN], q[:, c.dN:]
        n_t = mu_q + torch.exp(0.5 * lv_q) * eps_resp
        U, idx = torch.unique(u, dim=0, return_inverse=True)   # u-networks once per distinct label
        lnn, lni, mu_n, lb = self.unets(U)
        cvec = n_t + torch.bmm(lni[idx], z_i.unsqueeze(-1)).squeeze(-1) + mu_n[idx]
        z_n = self.solve(lnn[idx], cvec) if c.dN > 1 else cvec
        xh = self.decode(torch.cat([z_n, z_i], dim=1))
        return dict(xh=xh, mu_i=mu_i, lv_i=lv_i, mu_q=mu_q, lv_q=lv_q, lb=lb[idx])

    def loss(self, x, u, eps_inv, eps_resp, x0, eps_inv0, eps_resp0, beta, alpha):
        """The loss of pv's PerturbedVAE; perturbed rows and control rows go through one stacked pass (u = 0 for controls)."""
        B = x.shape[0]
        u0 = torch.zeros_like(u)
        o = self.forward(torch.cat([x, x0]), torch.cat([u, u0]), torch.cat([eps_inv, eps_inv0]),
                         torch.cat([eps_resp, eps_resp0]))
        xh = o["xh"]
        mse = ((xh[:B] - x) ** 2).mean()
        mse0 = ((xh[B:] - x0) ** 2).mean()
        kln = kl_prior(o["mu_q"], o["lv_q"], o["lb"])
        kli = kl_prior(o["mu_i"], o["lv_i"], None)
        kl_resp, kl_resp0 = kln[:B].mean(), kln[B:].mean()
        kl_inv, kl_inv0 = kli[:B].mean(), kli[B:].mean()
        align = ((o["mu_i"][:B] - o["mu_i"][B:]) ** 2).sum(1).mean()
        total = mse + mse0 + beta * (kl_resp + kl_resp0) + beta * (kl_inv + kl_inv0) + alpha * align
        return total, dict(loss=total, mse=mse, mse0=mse0, kl_resp=kl_resp, kl_resp0=kl_resp0, kl_inv=kl_inv,
                           kl_inv0=kl_inv0, align=align)


    # ---- prediction (pv: Predict/PVPredictor.swift) ---------------------------------------------------------------
    def _latent_response(self, u, n, z_i, scale_by_prior=False):
        """z_ν = (I − Λ_νν(u))⁻¹ (n + Λ_νι(u) z_ι + μ_ν(u)) per row; with scale_by_prior, n is first multiplied by
        sqrt(β_ν(u)) (n then holds standard normals)."""
        U, idx = torch.unique(u, dim=0, return_inverse=True)
        lnn, lni, mu_n, lb = self.unets(U)
        if scale_by_prior:
            n = torch.exp(0.5 * lb[idx]) * n
        c = n + torch.bmm(lni[idx], z_i.unsqueeze(-1)).squeeze(-1) + mu_n[idx]
        return self.solve(lnn[idx], c) if self.cfg.dN > 1 else c

    def encode_mean(self, x):
        h = lrelu(self.enc2(lrelu(self.enc1(x))))
        return h, self.inv(h)[:, :self.cfg.dI]

    def predict_prior(self, x0, u, eps):
        """z_ι = μ_ι(x0), n = sqrt(β_ν(u))·ε, z_ν = A(u)⁻¹(n + Λ_νι z_ι + μ_ν), x̂ = f_dec([z_ν, z_ι])."""
        _, mu_i = self.encode_mean(x0)
        z_n = self._latent_response(u, eps, mu_i, scale_by_prior=True)
        return self.decode(torch.cat([z_n, mu_i], dim=1))

    def predict_delta(self, x0, u, eps):
        """x0 + f(u; ε, z_ι(x0)) − f(0; ε, z_ι(x0)), the same ε scaled by each condition's sqrt(β_ν)."""
        return x0 + self.predict_prior(x0, u, eps) - self.predict_prior(x0, torch.zeros_like(u), eps)

    def posterior_means(self, x, u):
        """μ_ι and z_ν with ñ = μ'(h, u) and z_ι = μ_ι (no noise)."""
        h, mu_i = self.encode_mean(x)
        mu_q = self.resp2(lrelu(self.resp1(torch.cat([h, u], dim=1))))[:, :self.cfg.dN]
        return mu_i, self._latent_response(u, mu_q, mu_i)


def kl_prior(mu, lv, lp):
    """Σ_dims KL(N(μ, e^lv) ‖ N(0, e^lp)) per row (lp None: standard normal prior)."""
    if lp is None:
        return 0.5 * (torch.exp(lv) + mu * mu - 1 - lv).sum(1)
    return 0.5 * (torch.exp(lv - lp) + mu * mu * torch.exp(-lp) - 1 - lv + lp).sum(1)


# ---- model files --------------------------------------------------------------------------------------------------
def read_model(path):
    """(PVAE, meta) from a pv model.npz; the config comes from meta.json where present, else from tensor shapes."""
    z = np.load(path, allow_pickle=False)
    meta = json.loads(bytes(z["meta.json"]).decode()) if "meta.json" in z.files else {}
    t = {n: z[n] for n in z.files if n != "meta.json"}
    cfg = config_from(t, meta)
    m = PVAE(cfg)
    names = dict(m.named_tensors())
    missing = sorted(set(names) - set(t))
    if missing:
        sys.exit(f"pvae.py: {path}: missing tensors {missing}")
    extra = sorted(set(t) - set(names))
    if extra:
        print(f"pvae.py: {path}: ignoring tensors {extra}", file=sys.stderr)
    with torch.no_grad():
        for n, p in names.items():
            a = t[n]
            if tuple(a.shape) != tuple(p.shape):
                sys.exit(f"pvae.py: {path}: tensor {n} has shape {a.shape}, expected {tuple(p.shape)}")
            if a.dtype != np.float32:
                sys.exit(f"pvae.py: {path}: tensor {n} has dtype {a.dtype}, expected float32")
            p.copy_(torch.from_numpy(np.ascontiguousarray(a)))
    return m, meta


def config_from(t, meta):
    def pick(*keys, default=None):
        for k in keys:
            if k in meta:
                return meta[k]
            for sub in ("config", "hyper", "hyperparameters"):
                if isinstance(meta.get(sub), dict) and k in meta[sub]:
                    return meta[sub][k]
        return default
    G = t["enc1.W"].shape[0]
    H = t["enc1.W"].shape[1]
    dI = t["inv.W"].shape[1] // 2
    dN = t["umu.W"].shape[1]
    K = t["resp1.W"].shape[0] - H
    u_compose = "mlp" if "utrunk.W" in t else "additive"
    decoder = "mlp" if "dec1.W" in t else "additive"
    S = t["decN1.W"].shape[1] if "decN1.W" in t else int(pick("node_hidden", "nodeHidden", default=16))
    return Config(G, K, H, dI, dN, u_compose, decoder, S)


def model_meta(cfg, genes=None, targets=None, **extra):
    """meta.json for a pvae model as pv writes it: kind, genes, targets, and the shape-fixing `hyper` entries."""
    hyper = dict(latent_inv=cfg.dI, latent_resp=cfg.dN, hidden=cfg.H, u_compose=cfg.u_compose, decoder=cfg.decoder,
                 node_hidden=cfg.S)
    hyper.update(extra.pop("hyper", {}))
    meta = dict(kind="pvae", genes=list(genes) if genes else [f"gene{i + 1}" for i in range(cfg.G)],
                targets=list(targets) if targets else [f"T{k}" for k in range(cfg.K)], hyper=hyper,
                tool="bench/reference/pvae.py")
    meta.update(extra)
    return meta


def write_model(model, path, meta):
    """Atomic write of a pv-compatible model.npz (float32 tensors [in,out] plus meta.json)."""
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for n, p in model.named_tensors():
            with zf.open(n + ".npy", "w") as f:
                np.lib.format.write_array(f, p.detach().numpy().astype(np.float32), allow_pickle=False)
        zf.writestr("meta.json", json.dumps(meta, sort_keys=True, indent=1))
    os.replace(tmp, path)


# ---- data ---------------------------------------------------------------------------------------------------------
def read_split(path):
    rows = []
    header = None
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if header is None:
                header = fields
                continue
            rows.append(dict(zip(header, fields)))
    return rows


def training_design(split):
    """Targets (genes with single-perturbation training cells, sorted), perturbed training rows with their gene
    indices, and control training rows."""
    train = [i for i, r in enumerate(split) if r["set"] == "train"]
    singles = sorted({split[i]["condition"] for i in train if split[i]["condition"] != "ctrl"
                      and "+" not in split[i]["condition"]})
    index = {g: k for k, g in enumerate(singles)}
    pert, labels, ctrl = [], [], []
    for i in train:
        cond = split[i]["condition"]
        if cond == "ctrl":
            ctrl.append(i)
            continue
        genes = cond.split("+")
        if all(g in index for g in genes):
            pert.append(i)
            labels.append([index[g] for g in genes])
    return singles, np.array(pert), labels, np.array(ctrl)


def anneal(t, T, beta, alpha):
    """β_t: 0 until 0.1·T then linear to β at T; α_t: 0 until 0.05·T then linear to α at 0.5·T, constant after."""
    b = 0.0 if t < 0.1 * T else beta * (t - 0.1 * T) / (0.9 * T)
    a = 0.0 if t < 0.05 * T else alpha * min(1.0, (t - 0.05 * T) / (0.45 * T))
    return b, a


def make_adam(model, lr):
    """Adam as fast as this torch offers on CPU: fused (one kernel over all tensors) when available."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(model.parameters(), lr=lr, foreach=True)


def train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    X = np.load(args.expr, mmap_mode="r")
    split = read_split(args.split)
    if len(split) != X.shape[0]:
        sys.exit(f"pvae.py: {args.split}: {len(split)} rows but {args.expr} has {X.shape[0]}")
    targets, pert, labels, ctrl = training_design(split)
    if len(pert) == 0 or len(ctrl) == 0:
        sys.exit("pvae.py: need perturbed and control training cells")
    K, G, B = len(targets), X.shape[1], args.batch
    U = np.zeros((len(pert), K), np.float32)
    for r, ks in enumerate(labels):
        U[r, ks] = 1
    Xp = torch.from_numpy(np.asarray(X[pert], dtype=np.float32))
    Xc = torch.from_numpy(np.asarray(X[ctrl], dtype=np.float32))
    Ut = torch.from_numpy(U)
    cfg = Config(G, K, args.hidden, args.latent_inv, args.latent_resp, args.u_compose, args.decoder, args.node_hidden)
    model = PVAE(cfg)
    if args.init:
        start, start_meta = read_model(args.init)
        if start.cfg.as_dict() != cfg.as_dict() or list(start_meta.get("targets", targets)) != targets:
            sys.exit(f"pvae.py: {args.init}: its configuration or targets differ from this run's")
        model.load_state_dict(start.state_dict())
    opt = make_adam(model, args.lr)
    per_epoch = max(1, (len(pert) + B - 1) // B)
    T = args.steps if args.steps else args.epochs * per_epoch
    history, t, epoch = [], 0, 0
    t0 = time.time()
    timed_from = None
    while t < T:
        order = rng.permutation(len(pert))
        partner = rng.integers(0, len(ctrl), size=len(pert))   # control partners redrawn each epoch
        sums = np.zeros(8)
        nb = 0
        for s in range(0, len(order), B):
            if t >= T:
                break
            rows = order[s:s + B]
            n = len(rows)
            beta, alpha = anneal(t, T, args.beta, args.alpha)
            x, u, x0 = Xp[rows], Ut[rows], Xc[partner[rows]]
            total, terms = model.loss(x, u, torch.randn(n, cfg.dI), torch.randn(n, cfg.dN), x0,
                                      torch.randn(n, cfg.dI), torch.randn(n, cfg.dN), beta, alpha)
            if not torch.isfinite(total):
                sys.exit(f"pvae.py: non-finite loss at epoch {epoch} step {t}")
            opt.zero_grad(set_to_none=False)
            total.backward()
            opt.step()
            if t + 1 == min(args.warmup, T - 1) or (timed_from is None and args.warmup <= 0):
                timed_from = (t + 1, time.perf_counter(), time.process_time())
            sums += np.array([float(v.detach()) for v in terms.values()])
            nb += 1
            t += 1
        h = dict(zip(["loss", "mse", "mse0", "kl_resp", "kl_resp0", "kl_inv", "kl_inv0", "align"], sums / max(nb, 1)))
        h.update(epoch=epoch, steps=t)
        history.append(h)
        if not args.quiet:
            print(f"epoch {epoch} step {t}/{T} " + " ".join(f"{k}={v:.4g}" for k, v in h.items()
                                                         if k not in ("epoch", "steps")), file=sys.stderr)
        epoch += 1
    elapsed = time.time() - t0
    if timed_from is not None and t > timed_from[0]:
        rate = (t - timed_from[0]) / (time.perf_counter() - timed_from[1])
        cpu = (t - timed_from[0]) / max(time.process_time() - timed_from[2], 1e-9)
        res = dict(impl="torch", torch=torch.__version__, threads=args.threads, genes=G, targets=K, batch=B,
                   steps_timed=t - timed_from[0], steps_per_s=rate, cells_per_s=rate * B, rows_per_s=rate * 2 * B,
                   steps_per_cpu_s=cpu)
        if args.json:
            print(json.dumps(res))
    genes_path = os.path.join(os.path.dirname(os.path.abspath(args.expr)), "genes.tsv")
    genes = read_gene_ids(genes_path, G)
    meta = model_meta(cfg, genes, targets, seed=args.seed, history=history,
                      hyper=dict(lr=args.lr, steps=T, batch=B, beta=args.beta, alpha=args.alpha))
    write_model(model, args.out, meta)
    print(f"trained {T} steps in {elapsed:.1f}s ({T / elapsed:.2f} steps/s) -> {args.out}", file=sys.stderr)


def read_gene_ids(path, G):
    """Gene names as pv-train reads them: column 'symbol' (else the first) of genes.tsv, else gene1..geneG."""
    if os.path.exists(path):
        lines = [ln.rstrip("\n").split("\t") for ln in open(path) if ln.strip() and not ln.startswith("#")]
        if lines:
            col = lines[0].index("symbol") if "symbol" in lines[0] else 0
            ids = [r[col] for r in lines[1:]]
            if len(ids) == G:
                return ids
    return [f"gene{i + 1}" for i in range(G)]


# ---- throughput ---------------------------------------------------------------------------------------------------
def random_labels(rng, n, K, doubles=0.5):
    """Labels like a Norman batch: singles and doubles over K targets."""
    U = np.zeros((n, K), np.float32)
    for r in range(n):
        ks = rng.choice(K, size=2 if rng.random() < doubles else 1, replace=False)
        U[r, ks] = 1
    return U


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    G, K, B = args.genes, args.targets, args.batch
    if args.expr:
        X = np.load(args.expr, mmap_mode="r")
        G = X.shape[1]
        n = min(X.shape[0], 4096)
        pool = torch.from_numpy(np.asarray(X[:n], dtype=np.float32))
    else:
        pool = torch.from_numpy(np.log1p(rng.poisson(0.5, size=(1024, G))).astype(np.float32))
    cfg = Config(G, K, args.hidden, args.latent_inv, args.latent_resp, args.u_compose, args.decoder, args.node_hidden)
    model = PVAE(cfg)
    opt = make_adam(model, 1e-4)
    labels = torch.from_numpy(random_labels(rng, 4096, K))
    distinct = []

    def step(i):
        rows = torch.from_numpy(rng.integers(0, pool.shape[0], size=B))
        rows0 = torch.from_numpy(rng.integers(0, pool.shape[0], size=B))
        u = labels[torch.from_numpy(rng.integers(0, labels.shape[0], size=B))]
        distinct.append(len(torch.unique(u, dim=0)) + 1)
        total, _ = model.loss(pool[rows], u, torch.randn(B, cfg.dI), torch.randn(B, cfg.dN), pool[rows0],
                              torch.randn(B, cfg.dI), torch.randn(B, cfg.dN), 1e-2, 0.05)
        opt.zero_grad(set_to_none=False)
        total.backward()
        opt.step()

    for i in range(args.warmup):
        step(i)
    distinct.clear()
    t0 = time.perf_counter()
    for i in range(args.steps):
        step(i)
    dt = time.perf_counter() - t0
    sps = args.steps / dt
    res = dict(impl="torch", torch=torch.__version__, threads=args.threads, genes=G, targets=K, batch=B,
               steps=args.steps, seconds=dt, steps_per_s=sps, cells_per_s=sps * B, rows_per_s=sps * 2 * B,
               distinct_labels=float(np.mean(distinct)))
    if args.json:
        print(json.dumps(res))
    else:
        print(f"torch {torch.__version__}, {args.threads} threads: G={G} K={K} B={B}: {sps:.2f} steps/s, "
              f"{sps * B:.0f} cells/s ({sps * 2 * B:.0f} rows/s incl. control partners), "
              f"{np.mean(distinct):.1f} distinct labels per step")


# ---- loss and gradients for one fixed batch (the oracle's torch side) ---------------------------------------------
def loss_and_grads(model, batch, double=False):
    """Loss terms and gradients of the total loss for a batch dict of numpy arrays (see check_gradients.py)."""
    if double:
        model = model.double()
    dt = torch.float64 if double else torch.float32
    b = {k: torch.from_numpy(np.asarray(v)).to(dt) for k, v in batch.items()}
    beta, alpha = float(batch["coef"][0]), float(batch["coef"][1])
    model.zero_grad(set_to_none=False)
    total, terms = model.loss(b["x"], b["u"], b["eps_inv"], b["eps_resp"], b["x0"], b["eps_inv0"], b["eps_resp0"],
                              beta, alpha)
    total.backward()
    out = {k: np.array([float(v.detach())]) for k, v in terms.items()}
    for n, p in model.named_tensors():
        out["grad." + n] = p.grad.detach().numpy().copy()
    return out


def loss_cmd(args):
    torch.set_num_threads(args.threads)
    model, _ = read_model(args.model)
    batch = dict(np.load(args.batch))
    out = loss_and_grads(model, batch, double=args.double)
    np.savez(args.out, **{k: v.astype(np.float64 if args.double else np.float32) for k, v in out.items()})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def arch(p):
        p.add_argument("--hidden", type=int, default=256)
        p.add_argument("--latent-inv", type=int, default=85)
        p.add_argument("--latent-resp", type=int, default=20)
        p.add_argument("--u-compose", choices=["mlp", "additive"], default="mlp")
        p.add_argument("--decoder", choices=["mlp", "additive"], default="mlp")
        p.add_argument("--node-hidden", type=int, default=16)
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--batch", type=int, default=64)

    p = sub.add_parser("train", help="train on expr.npy + split.tsv, write a pv-compatible model.npz")
    p.add_argument("expr")
    p.add_argument("split")
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=0)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--beta", type=float, default=1e-2)
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--warmup", type=int, default=5, help="steps before the throughput clock starts")
    p.add_argument("--init", default=None, help="start from the weights of this model.npz (e.g. pv-train --init-only)")
    p.add_argument("--json", action="store_true", help="print the measured step rate as JSON on stdout")
    arch(p)
    p.set_defaults(fn=train)

    p = sub.add_parser("bench", help="training-step throughput on random data (or --expr)")
    p.add_argument("--genes", type=int, default=5000)
    p.add_argument("--targets", type=int, default=100)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--expr", default=None)
    p.add_argument("--json", action="store_true")
    arch(p)
    p.set_defaults(fn=bench)

    p = sub.add_parser("loss", help="loss terms and gradients of MODEL.npz on BATCH.npz")
    p.add_argument("model")
    p.add_argument("batch")
    p.add_argument("--out", required=True)
    p.add_argument("--double", action="store_true", help="compute in float64")
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(fn=loss_cmd)

    args = ap.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
