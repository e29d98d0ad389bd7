"""Section 3 gradient-component losses (Fig. 4, Tables 3-4), Table 1 and Fig. 3 losses:
autograd gradients equal the paper's stated negative gradients, and the surgery is exact."""
import pytest
import torch
import torch.nn.functional as F

from ssllib.config import ConfigError, profile_config
from ssllib.loss_registry import LOSSES


def tangent_grad(x, target, scale):
    """dL/dx for L = -scale * sum_i <X_i, target_i>, X = x/||x||: the paper's negative gradient
    `target` on X, projected on the sphere's tangent plane and divided by ||x||."""
    X = F.normalize(x, dim=1)
    t = target - (X * target).sum(1, keepdim=True) * X
    return -scale * t / x.norm(dim=1, keepdim=True)


def leaves(n=6, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, d, generator=g).requires_grad_() for _ in range(2)]


@pytest.mark.parametrize("component", ["centre", "residual"])
def test_fig4_single_component_gradient(component):
    z_a, z_b = leaves()
    LOSSES["gradient_component"](component)([z_a, z_b], None).backward()
    Z = F.normalize(z_a.detach(), dim=1)
    o = Z.mean(0, keepdim=True)
    target = o.expand_as(Z) if component == "centre" else Z - o
    assert torch.allclose(z_a.grad, tangent_grad(z_a.detach(), target, 1 / (2 * len(Z))), atol=1e-6)


def test_fig4_random_component_is_unit_and_fresh():
    loss = LOSSES["gradient_component"]("random")
    z = torch.randn(8, 4)
    t1, t2 = loss.target(z), loss.target(z)
    assert torch.allclose(t1.norm(dim=1), torch.ones(8)) and not torch.allclose(t1, t2)


def test_table3_removing_r_e_is_de_centering():
    z_a, z_b = leaves()
    LOSSES["triplet"](keep_o_e=True, keep_r_e=False)([z_a, z_b], None).backward()
    Z_b = F.normalize(z_b.detach(), dim=1)
    target = Z_b - Z_b.mean(0, keepdim=True)  # Z_b + o_e with o_e = -o_z
    assert torch.allclose(z_a.grad, tangent_grad(z_a.detach(), target, 1 / (2 * len(Z_b))), atol=1e-6)


def test_table3_full_triplet_uses_a_random_other_image():
    Z_b = F.normalize(torch.randn(7, 5), dim=1)
    neg = Z_b - LOSSES["triplet"]().target(Z_b)  # = Z_n
    match = (neg[:, None] - Z_b[None]).abs().amax(-1) < 1e-6
    assert match.sum(1).eq(1).all() and not match.diagonal().any()  # a permutation, no fixed point
    o_e = (-neg).mean(0)
    only_r = LOSSES["triplet"](keep_o_e=False).target(Z_b)
    assert torch.allclose(only_r.mean(0), Z_b.mean(0), atol=1e-6)  # r_e has no centre
    assert torch.allclose(o_e, -Z_b.mean(0), atol=1e-6)           # o_e = -o_z


class Linear(torch.nn.Linear):
    pass


def test_table4_surgery_with_both_parts_is_simsiam_exactly():
    z_a, z_b = leaves()
    h = Linear(5, 5)
    LOSSES["simsiam_surgery"]()([z_a, z_b], h).backward()
    ga, gw = z_a.grad.clone(), h.weight.grad.clone()
    z_a.grad = None
    h.weight.grad = None
    LOSSES["simsiam"]()([z_a, z_b], h).backward()
    assert torch.allclose(ga, z_a.grad, atol=1e-6) and torch.allclose(gw, h.weight.grad, atol=1e-6)


@pytest.mark.parametrize("keep_o_e, keep_r_e", [(True, False), (False, True), (False, False)])
def test_table4_gradient_on_p_a_is_p_b_plus_kept_parts(keep_o_e, keep_r_e):
    z_a, z_b = leaves()
    outputs = []
    def h(z):
        p = z * 2 + 0.3
        p.retain_grad()
        outputs.append(p)
        return p
    LOSSES["simsiam_surgery"](keep_o_e, keep_r_e)([z_a, z_b], h).backward()
    p_a, p_b = outputs
    Z_b, P_b = F.normalize(z_b.detach(), dim=1), F.normalize(p_b.detach(), dim=1)
    g_e = Z_b - P_b
    o_e = g_e.mean(0, keepdim=True)
    target = P_b + keep_o_e * o_e + keep_r_e * (g_e - o_e)
    assert torch.allclose(p_a.grad, tangent_grad(p_a.detach(), target, 1 / (2 * len(Z_b))), atol=1e-6)


def test_fig3_inverse_predictor_algorithm4_detaches():
    from ssllib.models import mlp_predictor

    torch.manual_seed(0)
    z_a, z_b = leaves(n=8, d=6)
    h = mlp_predictor(6, 3)
    loss = LOSSES["inverse_predictor"](dim=6, hidden=3)
    loss([z_a, z_b], h).backward()
    grad_inv = [p.grad.clone() for p in loss.h_inv.parameters()]
    # h_inv learns from L_inv_pred alone: its gradient equals that of D(h_inv(sg p), sg z) terms
    for p in loss.h_inv.parameters():
        p.grad = None
    from ssllib.losses import neg_cos
    p_a, p_b = h(z_a).detach(), h(z_b).detach()
    (neg_cos(loss.h_inv(p_a), z_a.detach()) / 2 + neg_cos(loss.h_inv(p_b), z_b.detach()) / 2).backward()
    for g, p in zip(grad_inv, loss.h_inv.parameters()):
        assert torch.allclose(g, p.grad, atol=1e-6)


def test_table1_moving_average_target_bank():
    loss = LOSSES["moving_average"](num_images=10, dim=3, momentum=0.8)
    idx = torch.tensor([1, 4])
    z1 = [torch.randn(2, 3, requires_grad=True), torch.randn(2, 3)]
    loss(z1, None, index=idx)
    assert torch.allclose(loss.eta[idx], z1[1]) and loss.seen.sum() == 2  # first sight: copy
    z2 = [torch.randn(2, 3, requires_grad=True), torch.randn(2, 3)]
    loss(z2, None, index=idx).backward()
    expected = 0.8 * z1[1] + 0.2 * z2[1]
    assert torch.allclose(loss.eta[idx], expected)
    E = F.normalize(expected, dim=1)
    assert torch.allclose(z2[0].grad, tangent_grad(z2[0].detach(), E, 1 / 4), atol=1e-6)


def test_table1_same_batch_pulls_first_view_to_mean_of_others():
    zs = [torch.randn(4, 3, requires_grad=True) for _ in range(5)]
    LOSSES["same_batch"]()(zs, None).backward()
    assert all(z.grad is None for z in zs[1:])  # sg on the average
    target = F.normalize(torch.stack([z.detach() for z in zs[1:]]).mean(0), dim=1)
    assert torch.allclose(zs[0].grad, tangent_grad(zs[0].detach(), target, 1 / 4), atol=1e-6)


def test_bad_loss_options_are_one_clear_error():
    with pytest.raises(ConfigError, match="allowed option keys: component"):
        profile_config("smoke", loss="gradient_component", options={"colour": 1})
    with pytest.raises(ConfigError, match="allowed: centre, residual, random"):
        profile_config("smoke", loss="gradient_component", options={"component": "middle"})
