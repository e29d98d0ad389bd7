"""Sections 3.3-3.5 and 4: Figure 5(a)'s eta, InfoNCE's Eq. 6 split, Algorithm 5's loss and
Figure 5(c)'s alignment, the BN-after-l2 loss, and the phase schedule of Figure 5(b)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ssllib.config import ConfigError, profile_config
from ssllib.decomposition import centre_products, covariance, eta_cosine
from ssllib.gradients import decorrelation_alignment, decorrelation_direction, infonce_extra_gradient
from ssllib.loss_registry import LOSSES

from test_gradients import leaves, tangent_grad


def test_fig5a_eta_is_where_the_cosine_crosses_zero():
    g = torch.Generator().manual_seed(0)
    z, p = torch.randn(64, 8, generator=g) + 1.0, torch.randn(64, 8, generator=g) + 0.5
    c = centre_products(z, p)
    o_z, o_p = F.normalize(z, dim=1).mean(0), F.normalize(p, dim=1).mean(0)
    for eta, mirror, o_e, ref in ((c["eta_p"], False, o_z - o_p, o_p), (c["eta_z"], True, o_p - o_z, o_z)):
        assert abs(F.cosine_similarity(o_e - eta * ref, ref, dim=0).item()) < 1e-5
        for x in (-1.0, 0.3, 2.0):  # the closed-form curve equals the direct cosine everywhere
            direct = F.cosine_similarity(o_e - x * ref, ref, dim=0).item()
            assert eta_cosine(x, c["o_z_sq"], c["o_p_sq"], c["o_zp"], mirror=mirror) == pytest.approx(direct, abs=1e-5)
    curve = eta_cosine(np.linspace(-2, 2, 5), c["o_z_sq"], c["o_p_sq"], c["o_zp"])
    assert np.all(np.diff(curve) < 0)  # decreasing in eta: one crossing


def test_infonce_keeping_r_e_has_exactly_the_infonce_gradient():
    z_a, z_b = leaves(n=7, d=5)
    tau = 0.3
    LOSSES["infonce"](tau=tau)([z_a, z_b], None).backward()
    ref_a, ref_b = (v.detach().clone().requires_grad_() for v in (z_a, z_b))
    A, B = F.normalize(ref_a, dim=1), F.normalize(ref_b, dim=1)
    labels = torch.arange(7)
    ref = tau * (F.cross_entropy(A @ B.T / tau, labels) + F.cross_entropy(B @ A.T / tau, labels)) / 2
    ref.backward()
    assert torch.allclose(z_a.grad, ref_a.grad, atol=1e-6) and torch.allclose(z_b.grad, ref_b.grad, atol=1e-6)


def test_infonce_without_r_e_pulls_the_anchor_to_Z_b_minus_the_centre():
    z_a, z_b = leaves(n=7, d=5)
    z_b.requires_grad_(False)  # only the anchor role of z_a remains in the side (a -> b) ...
    loss = LOSSES["infonce"](tau=0.3, keep_r_e=False)
    loss.one_side(z_a, z_b).backward()
    Z_b = F.normalize(z_b, dim=1)
    target = Z_b - Z_b.mean(0, keepdim=True)  # Eq. 6 with r_e removed: Z_b + o_e, o_e = -o_z
    assert torch.allclose(z_a.grad, tangent_grad(z_a.detach(), target, 1 / 7), atol=1e-6)


def test_eq6_split_sums_to_the_weighted_negatives_and_r_e_vanishes_at_high_tau():
    Z_a, Z_b = (F.normalize(v.detach(), dim=1) for v in leaves(n=9, d=4))
    o_e, r_e = infonce_extra_gradient(Z_a, Z_b, 0.2)
    lam = torch.softmax(Z_a @ Z_b.T / 0.2, dim=1)
    assert torch.allclose(o_e + r_e, -lam @ Z_b, atol=1e-6)  # G_e = -sum_i lambda_i Z_i
    assert torch.allclose(o_e, -Z_b.mean(0).expand_as(o_e))  # o_e = -o_z
    _, r_flat = infonce_extra_gradient(Z_a, Z_b, 1e6)  # uniform weights: no residual part
    assert r_flat.abs().max() < 1e-5


def test_algorithm5_loss_gradient_equals_the_closed_form():
    z_a, z_b = leaves(n=10, d=6)
    LOSSES["decorrelation"]()([z_a, z_b], None).backward()
    assert torch.allclose(-z_a.grad, decorrelation_direction(z_a.detach()) / 2, atol=1e-6)
    assert covariance(torch.randn(4000, 3), normalize=False) < 0.01  # independent dims: ~0
    x = torch.randn(500, 1)
    assert covariance(x.repeat(1, 3), normalize=False) > 1.5  # identical dims: 2 per dim


def test_fig5c_alignment_reports_every_tau_as_a_cosine():
    z_a, z_b = (v.detach() for v in leaves(n=32, d=8))
    out = decorrelation_alignment(z_a, z_b, taus=(0.1, 1.0))
    assert set(out) == {"decor_cos_r_e_tau0.1", "decor_cos_o_e_tau0.1", "decor_cos_r_e_tau1",
                        "decor_cos_o_e_tau1"}
    assert all(-1 <= v <= 1 for v in out.values())


def test_bn_after_l2_loss_sees_a_centred_batch():
    z_a, z_b = leaves(n=16, d=4)
    shifted = [z_a + 5.0, z_b + 5.0]  # a large common centre: BN after l2 removes it
    loss = LOSSES["bn_mse"]()
    assert loss(shifted, None).item() > 0.05
    same = loss([z_a, z_a], None)
    assert same.item() == pytest.approx(0.0, abs=1e-9)
    loss([z_a, z_b], None).backward()
    assert torch.isfinite(z_a.grad).all() and z_a.grad.abs().sum() > 0


def test_phases_switch_the_loss_at_their_fractions(tiny):
    from ssllib.data import synthetic
    from ssllib.train import Trainer, lr_factor
    cfg = tiny.replace(lr_schedule="constant", train_subset=128, batch_size=16,
                       phases=[["simsiam", 0.5], ["naive_siamese", 0.25], ["decorrelation", 0.25]])
    t = Trainer(cfg, synthetic())
    names = []
    for step in range(t.total):
        t.step = step
        names.append(type(t.current_loss()).name)
    assert names == ["simsiam"] * 4 + ["naive_siamese"] * 2 + ["decorrelation"] * 2
    row = t.train_step()  # the last step: logged, with its phase
    assert row["phase"] == 2
    assert lr_factor(5, 8, 1, "constant") == 1.0 and lr_factor(5, 8, 1, "cosine") < 1.0


@pytest.mark.parametrize("phases, bad", [([["nope", 1.0]], "nope"), ([["simsiam", 0.5]], "sum to 1")])
def test_bad_phases_give_one_clear_error(phases, bad):
    with pytest.raises(ConfigError, match=bad) as e:
        profile_config("smoke", phases=phases)
    assert "\n" not in str(e.value)


def test_projector_without_final_bn_ends_in_a_biased_fc():
    from ssllib.models import build_model
    last = build_model(profile_config("smoke", proj_last_bn=False)).projector[-1]
    assert isinstance(last, torch.nn.Linear) and last.bias is not None


def test_a_diverging_run_stops_with_one_clear_error(tiny):
    from ssllib.data import synthetic
    from ssllib.train import Trainer, TrainingDiverged
    # a finite weight too large for float32: the loss is inf at the first step (an inf weight is refused)
    cfg = tiny.replace(loss="decorrelation", options={"weight": 1e300})
    with pytest.raises(TrainingDiverged, match="step 0"):
        Trainer(cfg, synthetic()).train_step()


def test_phase_options_reach_their_loss(tiny):
    from ssllib.data import synthetic
    from ssllib.train import Trainer
    cfg = tiny.replace(phases=[["simsiam", 0.5], ["decorrelation", 0.5, {"weight": 0.01}]])
    assert Trainer(cfg, synthetic()).loss_fn[1].weight == 0.01
