"""Section 3's gradient-component losses: each sets the negative gradient on the normalised
output to a chosen vector by a dot product with a stopped target,  L = -X . sg(target),
so that -dL/dX = target (Eq. 3).  Variants are options of one class each.

Notation (Section 3.1): Z = z/||z||, centre o_z = batch mean of Z, residual r = Z - o_z;
an extra gradient G_e splits into its batch centre o_e and residual r_e = G_e - o_e.
All losses are symmetrised over the two views (each view's term weighted 1/2).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .decomposition import centred_offdiag_covariance
from .losses import register


def dot_to(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """-mean_i <X_i, sg(target_i)> with X = x/||x||: the negative gradient on X_i is target_i / n."""
    return -(F.normalize(x, dim=1) * target.detach()).sum(1).mean()


def split_extra(g_e: torch.Tensor):
    """(o_e, r_e): the batch centre of the extra gradient and its residual, G_e = o_e + r_e."""
    o_e = g_e.mean(0, keepdim=True)
    return o_e, g_e - o_e


@register("gradient_component")
class GradientComponentLoss(nn.Module):
    """Figure 4 / Conjecture 1 (Section 3.1): train with a single gradient component.

    component="centre":   L = -Z_a . sg(o_z)        expected: m_o rises, m_r falls
    component="residual": L = -Z_a . sg(Z_a - o_z)  expected: m_r rises, m_o falls
    component="random":   L = -Z_a . sg(u), u a fresh random unit vector per sample
                          expected: little influence on the trend
    """

    COMPONENTS = ("centre", "residual", "random")

    def __init__(self, component: str = "centre"):
        super().__init__()
        if component not in self.COMPONENTS:
            raise ValueError(f"unknown component {component!r}; allowed: {', '.join(self.COMPONENTS)}")
        self.component = component

    def target(self, z: torch.Tensor) -> torch.Tensor:
        Z = F.normalize(z, dim=1)
        centre = Z.mean(0, keepdim=True)
        if self.component == "centre":
            return centre.expand_as(Z)
        if self.component == "residual":
            return Z - centre
        return F.normalize(torch.randn_like(Z), dim=1)

    def forward(self, z, h):
        return sum(dot_to(v, self.target(v)) for v in z[:2]) / 2


@register("triplet")
class TripletComponentLoss(nn.Module):
    """Table 3 (Section 3.2), the toy triplet without clipping:  L = -Z_a . sg(Z_b - Z_n),
    Z_n the output of a random other image of the batch.  Basic gradient Z_b, extra G_e = -Z_n,
    so o_e = -o_z (de-centering) and r_e = -(Z_n - o_z).

    keep_o_e / keep_r_e select the target  Z_b + [o_e] + [r_e]:  both (baseline, 36.21%),
    o_e only ("removing r_e", 47.41%), r_e only ("removing o_e", collapses).
    """

    def __init__(self, keep_o_e: bool = True, keep_r_e: bool = True):
        super().__init__()
        self.keep_o_e, self.keep_r_e = keep_o_e, keep_r_e

    def target(self, Z_pos: torch.Tensor) -> torch.Tensor:
        n = Z_pos.shape[0]
        shift = int(torch.randint(1, n, ()).item()) if n > 1 else 0  # never the image itself
        Z_neg = Z_pos.roll(shift, dims=0)
        o_e, r_e = split_extra(-Z_neg)
        return Z_pos + self.keep_o_e * o_e + self.keep_r_e * r_e

    def forward(self, z, h):
        Z_a, Z_b = (F.normalize(v, dim=1) for v in z[:2])
        return dot_to(z[0], self.target(Z_b)) / 2 + dot_to(z[1], self.target(Z_a)) / 2


@register("simsiam_surgery")
class SimSiamSurgeryLoss(nn.Module):
    """Table 4 (Section 3.3, Eq. 4): SimSiam's negative gradient on P_a is Z_b = P_b + G_e with
    G_e = Z_b - P_b; its centre o_e = o_z - o_p and residual r_e = G_e - o_e.  The target is
    P_b + [o_e] + [r_e]:  both = SimSiam exactly (66.62%), o_e only (48.08%), r_e only (66.15%),
    neither = -P_a . sg(P_b), which collapses.
    """

    def __init__(self, keep_o_e: bool = True, keep_r_e: bool = True):
        super().__init__()
        self.keep_o_e, self.keep_r_e = keep_o_e, keep_r_e

    def target(self, z_other: torch.Tensor, p_other: torch.Tensor) -> torch.Tensor:
        Z, P = F.normalize(z_other, dim=1), F.normalize(p_other, dim=1)
        o_e, r_e = split_extra(Z - P)
        return P + self.keep_o_e * o_e + self.keep_r_e * r_e

    def forward(self, z, h):
        z_a, z_b = z[0], z[1]
        p_a, p_b = h(z_a), h(z_b)
        return dot_to(p_a, self.target(z_b, p_b)) / 2 + dot_to(p_b, self.target(z_a, p_a)) / 2


@register("infonce")
class InfoNCEComponentLoss(nn.Module):
    """InfoNCE (Eq. 5, Section 3.5 / A.7) with its extra gradient split as in Eq. 6.

    Anchor Z_a, candidates the other view's batch Z_b (positive on the diagonal), weights
    lambda_i = softmax_i(Z_a . Z_b,i / tau).  The negative gradient on the anchor is
    (1/tau) (Z_b - sum_i lambda_i Z_b,i) = (1/tau) (Z_b + o_e + r_e),  o_e = -o_z,
    r_e = -sum_i lambda_i r_i.  keep_r_e=False drops r_e from the anchor's gradient (Figure 6's
    "InfoNCE w/o r_e"); the candidates' own gradient is kept either way.  The loss is multiplied by
    tau (Eq. 6: "1/tau can be adjusted through learning rate"), so that tau changes only the
    weights lambda and not the step size.  Symmetrised over the two views.
    """

    def __init__(self, tau: float = 0.2, keep_r_e: bool = True):
        super().__init__()
        if not tau > 0:
            raise ValueError(f"bad tau {tau!r}: must be > 0")
        self.tau, self.keep_r_e = tau, keep_r_e

    def one_side(self, z_anchor, z_cand):
        A, C = F.normalize(z_anchor, dim=1), F.normalize(z_cand, dim=1)
        labels = torch.arange(len(A), device=A.device)
        logits = A @ C.T / self.tau
        value = F.cross_entropy(logits, labels) * self.tau
        cand = F.cross_entropy(A.detach() @ C.T / self.tau, labels) * self.tau  # gradient to C only
        o_e, r_e = infonce_extra_gradient(A.detach(), C.detach(), self.tau)
        anchor = dot_to(z_anchor, C + o_e + self.keep_r_e * r_e)             # gradient to A only
        return value.detach() + (cand - cand.detach()) + (anchor - anchor.detach())

    def forward(self, z, h):
        return (self.one_side(z[0], z[1]) + self.one_side(z[1], z[0])) / 2


def infonce_extra_gradient(Z_a: torch.Tensor, Z_b: torch.Tensor, tau: float):
    """Eq. 6: (o_e, r_e) of InfoNCE's extra gradient on the anchors Z_a, candidates Z_b (rows):
    o_e = -o_z (the candidates' centre) and r_e_k = -sum_i lambda_ki r_i."""
    lam = torch.softmax(Z_a @ Z_b.T / tau, dim=1)
    centre = Z_b.mean(0, keepdim=True)
    return -centre.expand_as(Z_a), -(lam @ Z_b - centre)


def decorrelation_direction(Z: torch.Tensor) -> torch.Tensor:
    """-d(Algorithm 5 loss)/dZ in closed form: -4/(d(n-1)) (Z - mean Z) C_offdiag."""
    n, d = Z.shape
    Zc, off = centred_offdiag_covariance(Z)
    return -4 / (d * (n - 1)) * Zc @ off


FIG5C_TAUS = (0.05, 0.1, 0.2, 0.5, 1.0)


@torch.no_grad()
def decorrelation_alignment(z_a: torch.Tensor, z_b: torch.Tensor, taus=FIG5C_TAUS) -> dict:
    """Figure 5(c): mean over anchors of the cosine between InfoNCE's r_e (and o_e) on Z_a and the
    de-correlation loss's negative gradient on Z_a, for each temperature tau.  The paper: high for
    a wide range of tau, highest around 0.1-0.2 (r_e de-correlates)."""
    Z_a, Z_b = F.normalize(z_a.float(), dim=1), F.normalize(z_b.float(), dim=1)
    g = decorrelation_direction(Z_a)
    out = {}
    for tau in taus:
        o_e, r_e = infonce_extra_gradient(Z_a, Z_b, tau)
        out[f"decor_cos_r_e_tau{tau:g}"] = F.cosine_similarity(r_e, g, dim=1).mean().item()
        out[f"decor_cos_o_e_tau{tau:g}"] = F.cosine_similarity(o_e, g, dim=1).mean().item()
    return out
