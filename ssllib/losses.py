"""The paper's loss variants, one small class each, registered by name.

Every loss takes the projections `z` of the views (list of (n, d) tensors, the output of the
paper's encoder f = backbone + projector) and the predictor `h`, and returns a scalar.  Where the
predictor is applied and where the gradient stops is the whole difference between the variants,
so each `.detach()` is written out where it happens.

Notation (Section 2): Z = z / ||z||, P = p / ||p||, p = h(z), sg = stop-gradient.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

LOSSES: dict = {}


def register(name: str):
    def deco(cls):
        cls.name = name
        LOSSES[name] = cls
        return cls
    return deco


def neg_cos(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """D(a, b) = -mean_i <a_i/||a_i||, b_i/||b_i||>.  No hidden stop-gradient: callers detach."""
    return -(F.normalize(a, dim=1) * F.normalize(b, dim=1)).sum(1).mean()


@register("simsiam")
class SimSiamLoss(nn.Module):
    """SimSiam, Eq. 2 / Fig. 1(a):  L = -(P_a . sg(Z_b) + P_b . sg(Z_a)) / 2.

    Negative gradient on P_a (Eq. 4): Z_b / 2 per sample (the 1/2 is the symmetrisation).
    """

    def forward(self, z, h):
        z_a, z_b = z[0], z[1]
        p_a, p_b = h(z_a), h(z_b)
        return neg_cos(p_a, z_b.detach()) / 2 + neg_cos(p_b, z_a.detach()) / 2


@register("naive_siamese")
class NaiveSiameseLoss(nn.Module):
    """Naive Siamese, Eq. 1 / Fig. 2(a):  L = -Z_a . Z_b, no predictor, no stop-gradient.

    Negative gradient on Z_a (Eq. 3): Z_b (and symmetrically Z_a on Z_b).  Collapses.
    """

    def forward(self, z, h):
        return neg_cos(z[0], z[1])


@register("mirror_simsiam")
class MirrorSimSiamLoss(nn.Module):
    """Mirror SimSiam, Fig. 1(c), Algorithm 2:  L = -(sg-input P_b . Z_a + sg-input P_a . Z_b) / 2.

    p = h(z.detach()): the predictor sees a stopped input but still receives gradient, and the
    encoder is trained towards the predictor's output (GP and SGP reversed).  Collapses.
    """

    def forward(self, z, h):
        z_a, z_b = z[0], z[1]
        p_b, p_a = h(z_b.detach()), h(z_a.detach())
        return neg_cos(z_a, p_b) / 2 + neg_cos(z_b, p_a) / 2


@register("symmetric_predictor")
class SymmetricPredictorLoss(nn.Module):
    """Symmetric Predictor, Fig. 2(b), Algorithm 3:  L = -(P_a . sg(P_b) + P_b . sg(P_a)) / 2.

    The predictor is on both paths, so h(f(.)) is just a bigger encoder: Naive-Siamese-like
    symmetry in P, with negative gradient P_b / 2 on P_a.  Collapses.
    """

    def forward(self, z, h):
        p_a, p_b = h(z[0]), h(z[1])
        return neg_cos(p_a, p_b.detach()) / 2 + neg_cos(p_b, p_a.detach()) / 2


def build_loss(cfg) -> nn.Module:
    return LOSSES[cfg.loss](**cfg.options) if cfg.options else LOSSES[cfg.loss]()
