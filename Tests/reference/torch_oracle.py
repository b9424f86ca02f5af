#!/usr/bin/env python3
"""Writes known-answer fixtures for pv's gradient oracle from the PyTorch reference (bench/reference/pvae.py), so a
Swift test can check `pv-train --grad-check` without Python:

    python3 Tests/reference/torch_oracle.py        # writes Tests/PVSharedTests/Fixtures/torch_oracle/

For each variant (mlp: --u-compose mlp --decoder mlp; additive: both additive) it writes
  VARIANT-model.npz  a pv model file (G=12 genes, K=5 targets, H=8, d_inv=5, d_resp=4; nn.Linear initialisation with a
                     fixed seed, then perturbed so no tensor sits at its initial scale),
  VARIANT-batch.npz  x, x0 [6,12], u [6,5] (a repeated single, doubles, an all-zero row), eps_inv, eps_resp, eps_inv0,
                     eps_resp0, coef = (beta, alpha) = (0.5, 0.8),
  VARIANT-grads.npz  loss, mse, mse0, kl_resp, kl_resp0, kl_inv, kl_inv0, align ([1] each) and grad.NAME for every
                     tensor, computed by torch autograd in float64 and stored as float32.
A test runs `pv-train --grad-check VARIANT-batch.npz --out OUT.npz VARIANT-model.npz` and compares OUT with
VARIANT-grads.npz: max|pv − ref| / max|ref| per tensor within 1e-4, terms within 1e-5 relative.
"""
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench", "reference"))
import pvae  # noqa: E402

G, K, H, DI, DN, B = 12, 5, 8, 5, 4, 6
OUT = os.path.join(ROOT, "Tests", "PVSharedTests", "Fixtures", "torch_oracle")


def main():
    os.makedirs(OUT, exist_ok=True)
    for variant, uc, dec in (("mlp", "mlp", "mlp"), ("additive", "additive", "additive")):
        torch.manual_seed(2024)
        rng = np.random.default_rng(2024)
        model = pvae.PVAE(pvae.Config(G, K, H, DI, DN, uc, dec, node_hidden=3))
        with torch.no_grad():
            for _, p in model.named_tensors():
                p.add_(0.3 * torch.randn_like(p) * p.abs().max())
        genes = [f"G{j}" for j in range(G)]
        targets = [f"T{k}" for k in range(K)]
        pvae.write_model(model, os.path.join(OUT, f"{variant}-model.npz"),
                         pvae.model_meta(model.cfg, genes, targets, tool="Tests/reference/torch_oracle.py"))
        u = np.zeros((B, K), np.float32)
        for r, ks in enumerate([[0], [0], [2], [0, 1], [3, 4], []]):
            u[r, ks] = 1
        f = np.float32
        batch = dict(x=np.log1p(rng.poisson(2.0, (B, G))).astype(f), x0=np.log1p(rng.poisson(2.0, (B, G))).astype(f),
                     u=u, eps_inv=rng.standard_normal((B, DI)).astype(f),
                     eps_resp=rng.standard_normal((B, DN)).astype(f),
                     eps_inv0=rng.standard_normal((B, DI)).astype(f),
                     eps_resp0=rng.standard_normal((B, DN)).astype(f), coef=np.array([0.5, 0.8], f))
        np.savez(os.path.join(OUT, f"{variant}-batch.npz"), **batch)
        m64, _ = pvae.read_model(os.path.join(OUT, f"{variant}-model.npz"))
        ref = pvae.loss_and_grads(m64, batch, double=True)
        np.savez(os.path.join(OUT, f"{variant}-grads.npz"), **{k: v.astype(np.float32) for k, v in ref.items()})
        print(f"{variant}: loss {ref['loss'][0]:.6f}, {sum(k.startswith('grad.') for k in ref)} gradients -> {OUT}")


if __name__ == "__main__":
    main()
