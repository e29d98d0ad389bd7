"""Section 3.1: Z = o + r, m_o / m_r on hand-made batches, Algorithm 5, Eq. 3."""
import math

import torch
import torch.nn.functional as F

from ssllib import decomposition as dec


def test_centre_plus_residual_is_the_normalised_vector():
    z = torch.randn(32, 8) * 3 + 1
    centre, residual = dec.decompose(z)
    assert torch.allclose(centre + residual, F.normalize(z, dim=1), atol=1e-6)
    assert torch.allclose(residual.mean(0), torch.zeros(8), atol=1e-6)


def test_identical_vectors_are_fully_collapsed():
    z = torch.tensor([[3.0, 4.0]]).repeat(10, 1)
    assert math.isclose(dec.m_o(z).item(), 1.0, abs_tol=1e-6)
    assert math.isclose(dec.m_r(z).item(), 0.0, abs_tol=1e-6)
    assert dec.z_std(z).item() == 0.0
    assert dec.is_collapsed(dec.m_r(z).item())


def test_opposite_vectors_have_no_centre():
    z = torch.tensor([[2.0, 0.0], [-5.0, 0.0]])
    assert math.isclose(dec.m_o(z).item(), 0.0, abs_tol=1e-6)
    assert math.isclose(dec.m_r(z).item(), 1.0, abs_tol=1e-6)
    assert not dec.is_collapsed(dec.m_r(z).item())


def test_hand_made_batch_values():
    # Z = (1,0) and (0,1): o = (.5,.5), ||o|| = 1/sqrt2, each ||r|| = 1/sqrt2
    z = torch.tensor([[7.0, 0.0], [0.0, 0.5]])
    assert math.isclose(dec.m_o(z).item(), 1 / math.sqrt(2), rel_tol=1e-6)
    assert math.isclose(dec.m_r(z).item(), 1 / math.sqrt(2), rel_tol=1e-6)


def test_isotropic_outputs_have_std_one_over_sqrt_d():
    d = 64
    z = torch.randn(20000, d)
    assert abs(dec.z_std(z).item() * math.sqrt(d) - 1.0) < 0.02


def test_covariance_matches_algorithm_5_literally():
    Z = F.normalize(torch.randn(50, 6) @ torch.randn(6, 6), dim=1)
    N, D = Z.shape
    Za = Z - Z.mean(dim=0)
    cov = Za.T @ Za / (N - 1)
    diag = torch.eye(D)
    expected = cov[~diag.bool()].pow_(2).sum() / D
    assert torch.allclose(dec.covariance(Z, normalize=False), expected)
    assert dec.covariance(torch.randn(5000, 4) * torch.tensor([1.0, 2, 3, 4])).item() < 1e-3


def test_eq3_gradient_of_cosine_loss_is_the_other_view():
    """Eq. 3: -dL/dZ_a = Z_b for L = -Z_a . Z_b (on the normalised vectors)."""
    Za = F.normalize(torch.randn(4, 5), dim=1).requires_grad_()
    Zb = F.normalize(torch.randn(4, 5), dim=1)
    (-(Za * Zb).sum()).backward()
    assert torch.allclose(-Za.grad, Zb)


def test_a8_bias_metrics_on_a_bias_equal_to_the_centre_direction():
    torch.manual_seed(0)
    z_a = torch.randn(64, 8) + torch.tensor([3.0] + [0.0] * 7)
    z_b = z_a + 0.1 * torch.randn(64, 8)
    centre = F.normalize(z_a, dim=1).mean(0)
    out = dec.bias_centre_metrics(0.7 * centre, z_a, z_b)
    assert math.isclose(out["bias_centre_cos"], 1.0, rel_tol=1e-5)
    assert math.isclose(out["a8_measured_coef"], 0.7, rel_tol=1e-5)
    Z_a, Z_b = F.normalize(z_a, dim=1), F.normalize(z_b, dim=1)
    m = ((Z_a * Z_b).sum(1) / (Z_a + 0.7 * centre).norm(dim=1)).mean()
    assert math.isclose(out["a8_predicted_coef"], ((1 - m) / m).item(), rel_tol=1e-5)
