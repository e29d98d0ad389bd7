"""Evaluation of a frozen backbone: kNN monitor, linear probe, and label-free spectrum metrics.

- `knn_accuracy`: weighted kNN on cosine similarity (k=200, temperature 0.1), the usual SSL monitor
  (Wu et al. 2018; solo-learn's kNN callback), recorded as `knn_acc`; and the same vote with
  solo-learn's `WeightedKNNClassifier` defaults (k=20, temperature 0.07), recorded as `knn20_acc`:
  with CIFAR-100's 10,000-image bank (about 100 images a class) 200 neighbours let other classes
  outvote a class, 20 give each class a fair vote (plan amendment of 2026-12-07).
- `linear_probe_accuracy`: a linear classifier on standardised frozen features, full-batch.
- `spectral_auc` and `effective_rank`: Li et al. (ECCV 2022) label-free collapse metric, as their
  public code computes it: backbone features centred, singular values S sorted descending,
  explvar = cumsum(S) / sum(S), AUC = mean(explvar); ~0.5 = spread evenly, 1 = one direction.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .augment import eval_transform

FAIR_KNN = dict(k=20, temperature=0.07)  # solo-learn's WeightedKNNClassifier defaults: `knn20_acc`


@torch.no_grad()
def extract_features(backbone: torch.nn.Module, images: torch.Tensor, batch_size: int,
                     device) -> torch.Tensor:
    was_training = backbone.training
    backbone.eval()
    out = [backbone(eval_transform(images[i:i + batch_size].to(device))).float().cpu()
           for i in range(0, len(images), batch_size)]
    backbone.train(was_training)
    return torch.cat(out)


@torch.no_grad()
def knn_accuracy(train_f, train_y, test_f, test_y, num_classes: int, k: int = 200,
                 temperature: float = 0.1, chunk: int = 1024) -> float:
    train_f, test_f = F.normalize(train_f, dim=1), F.normalize(test_f, dim=1)
    k = min(k, len(train_f))
    correct = 0
    for i in range(0, len(test_f), chunk):
        sim = test_f[i:i + chunk] @ train_f.T
        w, idx = sim.topk(k, dim=1)
        votes = torch.zeros(len(sim), num_classes)
        votes.scatter_add_(1, train_y[idx], (w / temperature).exp())
        correct += (votes.argmax(1) == test_y[i:i + chunk]).sum().item()
    return correct / len(test_f)


def linear_probe_accuracy(train_f, train_y, test_f, test_y, num_classes: int, steps: int = 300,
                          lr: float = 0.01, weight_decay: float = 5e-4, seed: int = 0) -> float:
    """Full-batch Adam on standardised frozen features; returns top-1 accuracy on the test features."""
    mean, std = train_f.mean(0), train_f.std(0) + 1e-6
    xtr, xte = (train_f - mean) / std, (test_f - mean) / std
    g = torch.Generator().manual_seed(seed)
    head = torch.nn.Linear(xtr.shape[1], num_classes)
    with torch.no_grad():
        head.weight.copy_(torch.randn(head.weight.shape, generator=g) * 0.01)
        head.bias.zero_()
    opt = torch.optim.Adam(head.parameters(), lr=lr, weight_decay=weight_decay)
    with torch.enable_grad():
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(head(xtr), train_y).backward()
            opt.step()
    with torch.no_grad():
        return (head(xte).argmax(1) == test_y).float().mean().item()


def singular_values(features: torch.Tensor) -> torch.Tensor:
    x = features.double()
    return torch.linalg.svdvals(x - x.mean(0))  # descending


def spectral_auc(features: torch.Tensor) -> float:
    s = singular_values(features)
    explvar = torch.cumsum(s, 0) / s.sum()
    return explvar.mean().item()


def effective_rank(features: torch.Tensor) -> float:
    """exp(entropy) of the singular values normalised to sum 1 (Roy & Vetterli, 2007)."""
    s = singular_values(features)
    p = s / s.sum()
    p = p[p > 0]
    return torch.exp(-(p * p.log()).sum()).item()


def evaluate_backbone(backbone, data, cfg, device, seed: int = 0):
    """All final metrics that need the frozen backbone.

    Returns (metrics, singular values of the test features, (test features, test labels)).
    """
    g = torch.Generator().manual_seed(seed + 12345)  # fixed evaluation subsets per seed
    def subset(n_total, n):
        return torch.randperm(n_total, generator=g)[:n] if 0 < n < n_total else torch.arange(n_total)
    tr = subset(len(data.train_y), cfg.eval_train_size)
    te = subset(len(data.test_y), cfg.eval_test_size)
    bs = max(cfg.batch_size, 256)
    f_tr = extract_features(backbone, data.train_x[tr], bs, device)
    f_te = extract_features(backbone, data.test_x[te], bs, device)
    y_tr, y_te = data.train_y[tr], data.test_y[te]
    metrics = {
        "knn_acc": 100 * knn_accuracy(f_tr, y_tr, f_te, y_te, data.num_classes, cfg.knn_k),
        "knn20_acc": 100 * knn_accuracy(f_tr, y_tr, f_te, y_te, data.num_classes, **FAIR_KNN),
        "linear_acc": 100 * linear_probe_accuracy(f_tr, y_tr, f_te, y_te, data.num_classes, seed=seed),
        "spectral_auc": spectral_auc(f_te),
        "effective_rank": effective_rank(f_te),
        "eval_train_images": len(tr), "eval_test_images": len(te),
    }
    return metrics, singular_values(f_te).float(), (f_te, y_te)


@torch.no_grad()
def calibrate_bn(backbone: torch.nn.Module, train_x: torch.Tensor, n_images: int, seed: int) -> None:
    """Recompute the backbone's BN running statistics as the exact average over `n_images`
    training images (eval transform, no gradient step): the fair random-encoder control of Table 2,
    whose BN layers otherwise hold their initial mean 0 / variance 1 at evaluation."""
    bns = [m for m in backbone.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(train_x), generator=g)[:n_images].to(train_x.device)
    backbone.train()
    for i in range(0, len(idx), 256):
        backbone(eval_transform(train_x[idx[i:i + 256]]))
    for bn in bns:
        bn.momentum = 0.1
