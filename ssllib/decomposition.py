"""The paper's vector decomposition (Section 3.1) and collapse indicators.

For a batch of representations z (n, d), with Z = z / ||z||:
    centre    o_z = (1/M) sum_m Z_m                  (batch approximation of E[Z])
    residual  r   = Z - o_z                          so that Z = o_z + r
    m_o = ||o_z|| / mean ||Z||,  m_r = mean ||r|| / mean ||Z||    (||Z|| = 1 after normalisation)
    z_std = mean over dimensions of the per-dimension std of Z   (Chen & He's collapse indicator:
            about 1/sqrt(d) when healthy, 0 when collapsed)
    covariance = sum of squared off-diagonal covariance of Z / d  (Algorithm 5)
    covariance_z = the same on z as the projector outputs it (per-dimension scale kept by its
            final BN), the quantity the de-correlation loss of Algorithm 5 minimises
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# A run counts as collapsed when the residual is under a tenth of the representation: every
# output then lies in a narrow cone around the centre o_z (m_o -> 1, m_r -> 0, Section 3.1).
COLLAPSE_M_R = 0.1


def decompose(z: torch.Tensor, normalize: bool = True):
    """Returns (centre o_z of shape (d,), residual r of shape (n, d)) of the l2-normalised z."""
    Z = F.normalize(z, dim=1) if normalize else z
    centre = Z.mean(0)
    return centre, Z - centre


def m_o(z: torch.Tensor) -> torch.Tensor:
    Z = F.normalize(z, dim=1)
    centre, _ = decompose(Z, normalize=False)
    return centre.norm() / Z.norm(dim=1).mean()


def m_r(z: torch.Tensor) -> torch.Tensor:
    Z = F.normalize(z, dim=1)
    _, residual = decompose(Z, normalize=False)
    return residual.norm(dim=1).mean() / Z.norm(dim=1).mean()


def z_std(z: torch.Tensor) -> torch.Tensor:
    return F.normalize(z, dim=1).std(0).mean()


def centred_offdiag_covariance(Z: torch.Tensor):
    """(Z - mean Z, the batch covariance with its diagonal zeroed): Algorithm 5's two pieces."""
    n = Z.shape[0]
    Zc = Z - Z.mean(0)
    cov = Zc.T @ Zc / (n - 1)
    return Zc, cov - torch.diag(torch.diagonal(cov))


def covariance(z: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """Algorithm 5: sum of squared off-diagonal entries of the batch covariance, divided by d."""
    Z = F.normalize(z, dim=1) if normalize else z
    _, off = centred_offdiag_covariance(Z)
    return off.pow(2).sum() / Z.shape[1]


@torch.no_grad()
def decomposition_metrics(z: torch.Tensor) -> dict:
    z = z.float()
    d = z.shape[1]
    s = z_std(z).item()
    return {"z_std": s, "z_std_sqrt_d": s * math.sqrt(d), "m_o": m_o(z).item(), "m_r": m_r(z).item(),
            "covariance": covariance(z).item(), "covariance_z": covariance(z, normalize=False).item()}


@torch.no_grad()
def centre_products(z: torch.Tensor, p: torch.Tensor) -> dict:
    """Figure 5(a), Section 3.3: the centres o_z of Z and o_p of P = h(z)/||h(z)||, as the three
    numbers every eta-curve is made of, and the two zero crossings the paper reads off.

    SimSiam: o_e = o_z - o_p and cos(o_e - eta_p o_p, o_p) = 0 at eta_p = o_e.o_p / ||o_p||^2
    (paper: about -0.5, o_e holds a negative o_p: de-centring).  Mirror SimSiam: o_e = o_p - o_z and
    cos(o_e - eta_z o_z, o_z) = 0 at eta_z = o_e.o_z / ||o_z||^2 (paper: about 0.2: centring).
    """
    o_z, o_p = F.normalize(z.float(), dim=1).mean(0), F.normalize(p.float(), dim=1).mean(0)
    zz, pp, zp = (o_z @ o_z).item(), (o_p @ o_p).item(), (o_z @ o_p).item()
    def ratio(a, b):  # a zero centre (an all-zero output after divergence) has no eta
        return a / b - 1 if b else float("nan")
    return {"o_z_sq": zz, "o_p_sq": pp, "o_zp": zp, "eta_p": ratio(zp, pp), "eta_z": ratio(zp, zz)}


def eta_cosine(eta, o_z_sq: float, o_p_sq: float, o_zp: float, mirror: bool = False):
    """cos(o_e - eta o_ref, o_ref) of Figure 5(a)'s x-axis sweep, from `centre_products`' numbers:
    SimSiam (o_ref = o_p, o_e = o_z - o_p) or, with mirror=True, Mirror SimSiam (o_ref = o_z,
    o_e = o_p - o_z).  Works on numbers or numpy arrays of eta."""
    if mirror:  # o_e = o_p - o_z, reference o_z
        ee, er, rr = o_p_sq - 2 * o_zp + o_z_sq, o_zp - o_z_sq, o_z_sq
    else:       # o_e = o_z - o_p, reference o_p
        ee, er, rr = o_z_sq - 2 * o_zp + o_p_sq, o_zp - o_p_sq, o_p_sq
    num = er - eta * rr
    return num / ((ee - 2 * eta * er + eta ** 2 * rr) ** 0.5 * rr ** 0.5)


def is_collapsed(m_r_value: float) -> bool:
    return bool(m_r_value < COLLAPSE_M_R)


@torch.no_grad()
def bias_centre_metrics(bias: torch.Tensor, z_a: torch.Tensor, z_b: torch.Tensor, a8: bool = True) -> dict:
    """Table 6 and Appendix A.8 for a predictor with an output bias b.

    bias_centre_cos: cosine similarity between b and the centre o_z of Z (paper: 0.99 for a single
    bias, 0.89 for the MLP's last bias).  For p_a = Z_a + b, A.8 (Eq. 12) predicts
    b = ((1 - m) / m) o_z with m = cossim(Z_a, Z_b) / ||p_a|| (batch mean): we report the predicted
    coefficient and the measured one, (b . o_z) / ||o_z||^2.
    """
    Z_a, Z_b = F.normalize(z_a.float(), dim=1), F.normalize(z_b.float(), dim=1)
    centre = Z_a.mean(0)
    b = bias.float()
    out = {"bias_centre_cos": F.cosine_similarity(b, centre, dim=0).item()}
    if a8:
        m = ((Z_a * Z_b).sum(1) / (Z_a + b).norm(dim=1)).mean()
        out |= {"a8_predicted_coef": ((1 - m) / m).item(),
                "a8_measured_coef": (b @ centre / centre.pow(2).sum()).item()}
    return out
