"""Li et al.'s label-free collapse metric on matrices with known spectra (exact values)."""
import math

import torch

from ssllib.evaluate import effective_rank, knn_accuracy, linear_probe_accuracy, spectral_auc


def with_singular_values(s, n=200, seed=0):
    """An n x d matrix whose centred version has exactly the singular values s."""
    d = len(s)
    g = torch.Generator().manual_seed(seed)
    u, _ = torch.linalg.qr(torch.randn(n, d, generator=g, dtype=torch.float64))
    u = u - u.mean(0)  # columns stay orthogonal to the ones vector after re-orthonormalising
    u, _ = torch.linalg.qr(u)
    v, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return u @ torch.diag(torch.tensor(s, dtype=torch.float64)) @ v.T + 5.0  # + an offset to centre away


def test_isotropic_spectrum_gives_d_plus_1_over_2d():
    d = 16
    assert math.isclose(spectral_auc(with_singular_values([1.0] * d)), (d + 1) / (2 * d), rel_tol=1e-9)
    assert math.isclose(effective_rank(with_singular_values([1.0] * d)), d, rel_tol=1e-9)


def test_rank_one_is_fully_collapsed():
    x = with_singular_values([3.0] + [0.0] * 15)
    assert math.isclose(spectral_auc(x), 1.0, rel_tol=1e-9)
    assert math.isclose(effective_rank(x), 1.0, rel_tol=1e-6)


def test_rank_k_equal_values():
    d, k = 16, 4
    x = with_singular_values([2.0] * k + [0.0] * (d - k))
    # explvar = i/k for i < k, then 1: mean = (sum_{i=1..k} i/k + (d - k)) / d
    expected = ((k + 1) / 2 + d - k) / d
    assert math.isclose(spectral_auc(x), expected, rel_tol=1e-9)
    assert math.isclose(effective_rank(x), k, rel_tol=1e-6)


def test_auc_rises_as_variance_concentrates():
    aucs = [spectral_auc(with_singular_values([a ** i for i in range(12)])) for a in (1.0, 0.8, 0.5, 0.2)]
    assert aucs == sorted(aucs)


def test_probes_separate_separable_classes():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(200) % 4
    x = torch.nn.functional.one_hot(y, 4).float() * 3 + torch.randn(200, 4, generator=g) * 0.3
    assert knn_accuracy(x[:100], y[:100], x[100:], y[100:], 4, k=10) == 1.0
    assert linear_probe_accuracy(x[:100], y[:100], x[100:], y[100:], 4) == 1.0
