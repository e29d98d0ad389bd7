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

from .decomposition import covariance
from .models import mlp_predictor

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
    Chen & He's ablations are options (their Sec. 4): stop_gradient=False (Fig. 2,
    collapses), symmetric=False (only D(p_a, z_b), "asym", 64.8% vs 68.1%) and
    similarity="cross_entropy" (D(p, z) = -softmax(z) . log softmax(p), 63.2%).
    `targets`: the z that the stop-gradient side uses, when they come from another encoder
    (Chen & He Sec. 5, k-step alternation: eta is computed by the encoder of k steps ago).
    """

    SIMILARITIES = ("cosine", "cross_entropy")

    def __init__(self, stop_gradient: bool = True, symmetric: bool = True, similarity: str = "cosine"):
        super().__init__()
        if similarity not in self.SIMILARITIES:
            raise ValueError(f"unknown similarity {similarity!r}; allowed: {', '.join(self.SIMILARITIES)}")
        self.stop_gradient, self.symmetric, self.similarity = stop_gradient, symmetric, similarity

    def D(self, p, z):
        z = z.detach() if self.stop_gradient else z
        if self.similarity == "cross_entropy":
            return -(F.softmax(z, dim=1) * F.log_softmax(p, dim=1)).sum(1).mean()
        return neg_cos(p, z)

    def forward(self, z, h, targets=None):
        """Views pair up as (0, 1), (2, 3), ...; the loss is the mean over pairs.  Two views is
        SimSiam; four views with symmetric=False is Chen & He's "asym 2x" (two pairs sampled per
        image, 67.3%), which sees as many (prediction, target) terms per image as the symmetric loss."""
        targets = z if targets is None else targets
        pairs = range(0, len(z) - 1, 2)
        return sum(self.pair(z[i], z[i + 1], targets[i], targets[i + 1], h) for i in pairs) / len(pairs)

    def pair(self, z_a, z_b, t_a, t_b, h):
        if not self.symmetric:
            return self.D(h(z_a), t_b)
        return self.D(h(z_a), t_b) / 2 + self.D(h(z_b), t_a) / 2


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


@register("inverse_predictor")
class InversePredictorLoss(nn.Module):
    """SimSiam with a trainable inverse predictor h^-1, Fig. 2(c) / Fig. 3, Algorithm 4.

    Three parts, with Algorithm 4's detaches (D(p, z) stops the gradient of its second argument):
      L_pred     = D(h(sg z_a), z_b)/2 + D(h(sg z_b), z_a)/2       trains h as in SimSiam
      L_inv_pred = D(h_inv(sg p_a), z_a)/2 + D(h_inv(sg p_b), z_b)/2 trains h_inv to map p back to z
      L_enc      = D(p_a, h_inv(p_b))/2 + D(p_b, h_inv(p_a))/2      trains the new encoder h(f(.))
    (Algorithm 4 prints the last term without /2; we keep the symmetric 1/2 of every other loss.)
    h_inv has the predictor's architecture and is trained with the encoder's learning rate.
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.h_inv = mlp_predictor(dim, hidden)

    def forward(self, z, h):
        z_a, z_b = z[0], z[1]
        p_a, p_b = h(z_a), h(z_b)
        d_p_a, d_p_b = h(z_a.detach()), h(z_b.detach())
        l_pred = neg_cos(d_p_a, z_b.detach()) / 2 + neg_cos(d_p_b, z_a.detach()) / 2
        inv_p_a, inv_p_b = self.h_inv(p_a.detach()), self.h_inv(p_b.detach())
        l_inv = neg_cos(inv_p_a, z_a.detach()) / 2 + neg_cos(inv_p_b, z_b.detach()) / 2
        l_enc = neg_cos(p_a, self.h_inv(p_b).detach()) / 2 + neg_cos(p_b, self.h_inv(p_a).detach()) / 2
        return l_pred + l_inv + l_enc


@register("moving_average")
class MovingAverageLoss(nn.Module):
    """Table 1 "moving average" / Appendix A.3 (Chen & He's proof of concept, Fig. 1b): no predictor;
    one stored target per training image,  eta_x <- m * eta_x + (1 - m) * F(T'(x)),  and
    L = -Z_a . sg(eta_x) / ||eta_x||, applied to both views.  m = 0.8 as in Chen & He.
    The first time an image is seen, eta_x is set to F(T'(x)).
    """

    needs_index = True

    def __init__(self, num_images: int, dim: int, momentum: float = 0.8):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("eta", torch.zeros(num_images, dim))
        self.register_buffer("seen", torch.zeros(num_images, dtype=torch.bool))

    def forward(self, z, h, index):
        z_a, z_b = z[0], z[1]
        with torch.no_grad():  # the moving-average target is outside the gradient path
            new = z_b.detach().float()
            m = torch.where(self.seen[index], self.momentum, 0.0)[:, None]
            self.eta[index] = m * self.eta[index] + (1 - m) * new
            self.seen[index] = True
        eta = self.eta[index].detach()
        return neg_cos(z_a, eta) / 2 + neg_cos(z_b, eta) / 2


@register("same_batch")
class SameBatchEOALoss(nn.Module):
    """Table 1 "same batch" / Appendix A.3: N augmentations of each image in one batch; z_1 is
    pulled to the detached mean of the other N-1:  L = -Z_1 . sg(mean_{i>=2} z_i) (normalised).
    Explicit expectation over augmentations with the latest model; collapses in the paper.
    """

    def forward(self, z, h):
        target = torch.stack(z[1:]).mean(0)
        return neg_cos(z[0], target.detach())


@register("decorrelation")
class DecorrelationLoss(nn.Module):
    """Algorithm 5 / Appendix A.6 (after Barlow Twins): the sum of squared off-diagonal entries of
    the batch covariance of the encoder output z, divided by d; averaged over the views.  Used
    alone in Figure 5(b)'s third phase.  -dL/dz = -4/(d(n-1)) (z - mean z) C_offdiag per view.
    `weight` scales it (A.6 gives none): on a collapsed z its gradient is ~100x the cosine loss's,
    which at SimSiam's learning rate diverges (our first Fig. 5(b) run did).
    """

    def __init__(self, weight: float = 1.0):
        super().__init__()
        self.weight = weight

    def forward(self, z, h):
        return self.weight * sum(covariance(v, normalize=False) for v in z) / len(z)


@register("bn_mse")
class BNAfterNormMSELoss(nn.Module):
    """Section 4, "BN and l2-normalisation": Naive Siamese (no predictor, no stop-gradient) with a
    parameter-free BN applied *after* the l2-normalisation, immediately before the MSE loss:
        u = BN(Z),  L = mean_i ||u_a,i - u_b,i||^2 / (2d)
    (||u||^2 is about d, so this is the cosine loss's 1 - cos scale).  The paper: BN prevents
    collapse only in this position, because it removes the centre that l2-normalisation creates.
    """

    def forward(self, z, h):
        u_a, u_b = (F.batch_norm(F.normalize(v, dim=1), None, None, training=True) for v in z[:2])
        return F.mse_loss(u_a, u_b) / 2
