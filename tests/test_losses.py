"""Each loss's gradient equals the paper's formula, and the stop-gradients sit where the paper puts
them (Eq. 1-4, Algorithms 1-3).

For L = -mean_i <A_i, B_i> with A = a/||a||, the gradient on the unnormalised a_i is
    dL/da_i = -(1/n) (I - A_i A_i^T) B_i / ||a_i||
i.e. the paper's negative gradient on the normalised vector (B_i, Eq. 3/4) projected on the
tangent plane of the sphere and scaled by 1/||a_i||.
"""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from ssllib.loss_registry import LOSSES

from test_gradients import tangent_grad


def grad_formula(a, target, n, scale=1.0):
    """The formula above for L = -scale * mean_i <A_i, B_i>, B = target / ||target||."""
    return tangent_grad(a.detach(), F.normalize(target.detach(), dim=1), scale / n)


class Recording(nn.Module):
    """A linear predictor h that keeps its outputs p (with their gradients) and inputs."""

    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.outputs, self.inputs = [], []

    def forward(self, z):
        p = self.fc(z)
        p.retain_grad()
        self.inputs.append(z)
        self.outputs.append(p)
        return p


def setup(d=6, n=5):
    torch.manual_seed(1)
    z_a, z_b = torch.randn(n, d, requires_grad=True), torch.randn(n, d, requires_grad=True)
    return z_a, z_b, Recording(d), n


def test_simsiam_eq2_eq4_gradient_and_stop_gradient():
    z_a, z_b, h, n = setup()
    LOSSES["simsiam"]()([z_a, z_b], h).backward()
    p_a, p_b = h.outputs
    # Eq. 4: the negative gradient on P_a is Z_b (x 1/2 for the symmetrised loss)
    assert torch.allclose(p_a.grad, grad_formula(p_a, z_b, n, 0.5), atol=1e-6)
    assert torch.allclose(p_b.grad, grad_formula(p_b, z_a, n, 0.5), atol=1e-6)
    # sg(Z_b): z reaches the loss only through the predictor, z_a.grad = W^T p_a.grad
    assert torch.allclose(z_a.grad, p_a.grad @ h.fc.weight, atol=1e-6)
    assert torch.allclose(z_b.grad, p_b.grad @ h.fc.weight, atol=1e-6)


def test_naive_siamese_eq1_eq3_gradient_flows_to_both_views():
    z_a, z_b, h, n = setup()
    LOSSES["naive_siamese"]()([z_a, z_b], h).backward()
    assert not h.outputs  # no predictor
    assert torch.allclose(z_a.grad, grad_formula(z_a, z_b, n), atol=1e-6)
    assert torch.allclose(z_b.grad, grad_formula(z_b, z_a, n), atol=1e-6)


def test_mirror_simsiam_algorithm2_reverses_the_paths():
    z_a, z_b, h, n = setup()
    LOSSES["mirror_simsiam"]()([z_a, z_b], h).backward()
    p_b, p_a = h.outputs
    assert all(not z.requires_grad for z in h.inputs)  # h(z.detach())
    # the encoder output is pulled to the predictor output: -dL/dZ_a = P_b / 2
    assert torch.allclose(z_a.grad, grad_formula(z_a, p_b, n, 0.5), atol=1e-6)
    assert torch.allclose(z_b.grad, grad_formula(z_b, p_a, n, 0.5), atol=1e-6)
    # ... and the predictor is still trained, towards Z: -dL/dP_b = Z_a / 2
    assert torch.allclose(p_b.grad, grad_formula(p_b, z_a, n, 0.5), atol=1e-6)
    assert h.fc.weight.grad is not None and h.fc.weight.grad.abs().sum() > 0


def test_symmetric_predictor_algorithm3_gradient():
    z_a, z_b, h, n = setup()
    LOSSES["symmetric_predictor"]()([z_a, z_b], h).backward()
    p_a, p_b = h.outputs
    # D(p_a, p_b)/2 + D(p_b, p_a)/2 with the second argument detached: -dL/dP_a = P_b / 2
    assert torch.allclose(p_a.grad, grad_formula(p_a, p_b, n, 0.5), atol=1e-6)
    assert torch.allclose(p_b.grad, grad_formula(p_b, p_a, n, 0.5), atol=1e-6)
    assert torch.allclose(z_a.grad, p_a.grad @ h.fc.weight, atol=1e-6)


def test_chen_he_loss_options_change_only_what_they_name():
    """Seed 001's ablations as SimSiam options: no stop-gradient lets the target side get a
    gradient; asymmetric keeps only D(p_a, z_b); cross-entropy uses -softmax(z).log softmax(p)."""
    g = torch.Generator().manual_seed(0)
    z_a, z_b = (torch.randn(5, 6, generator=g).requires_grad_() for _ in range(2))
    h = nn.Identity()
    LOSSES["simsiam"](symmetric=False)([z_a, z_b], h).backward()
    assert z_b.grad is None and z_a.grad.abs().sum() > 0  # only p_a is on a gradient path
    z_a.grad = None
    LOSSES["simsiam"](stop_gradient=False, symmetric=False)([z_a, z_b], h).backward()
    assert z_b.grad is not None and z_b.grad.abs().sum() > 0
    ce = LOSSES["simsiam"](similarity="cross_entropy", symmetric=False)([z_a, z_b], h)
    ref = -(F.softmax(z_b, 1) * F.log_softmax(z_a, 1)).sum(1).mean()
    assert torch.allclose(ce, ref)
    with pytest.raises(ValueError, match="cross_entropy"):
        LOSSES["simsiam"](similarity="dot")


def test_asym_2x_is_the_mean_of_two_asymmetric_pairs():
    """Chen & He's "asym 2x": four views make two pairs (0, 1), (2, 3); each is asymmetric, and
    the gradient on each prediction side is Eq. 4's Z_target / 2 (half from the pair mean)."""
    torch.manual_seed(3)
    z = [torch.randn(5, 6, requires_grad=True) for _ in range(4)]
    asym = LOSSES["simsiam"](symmetric=False)
    loss = asym(z, nn.Identity())
    ref = (asym(z[:2], nn.Identity()) + asym(z[2:], nn.Identity())) / 2
    assert torch.allclose(loss, ref)
    loss.backward()
    for i, j in ((0, 1), (2, 3)):
        assert torch.allclose(z[i].grad, grad_formula(z[i], z[j], 5, scale=0.5), atol=1e-6)
        assert z[j].grad is None  # the target side of each pair is stopped


def test_head_bn_variants_chen_he_table3():
    from ssllib.config import profile_config
    from ssllib.models import build_model
    bns = {v: sum(isinstance(m, nn.BatchNorm1d) for m in [*build_model(profile_config("smoke", head_bn=v)).projector,
                                                          *build_model(profile_config("smoke", head_bn=v)).predictor])
           for v in ("none", "hidden", "default", "all")}
    assert bns == {"none": 0, "hidden": 3, "default": 4, "all": 5}  # Chen & He Table 3 (a)-(d)


def test_table5_tanh_fc_clamps_its_weight_as_the_authors_do():
    """The authors' One FC overwrites W by tanh(0.5 W) at each forward and then applies it, outside
    autograd: after a forward the stored weight is the clamped one, the output uses it, and a
    backward through two forwards (two views) runs."""
    import torch

    from ssllib.models import PREDICTORS

    h = PREDICTORS["tanh_clamped_fc"](8, 4)
    w0 = h.weight.detach().clone()
    z = torch.randn(5, 8, requires_grad=True)
    p = h(z)
    assert torch.allclose(h.weight, torch.tanh(0.5 * w0)) and torch.allclose(p, z @ torch.tanh(0.5 * w0).T)
    (h(z).sum() + p.sum()).backward()
    assert h.weight.grad is not None and z.grad is not None
    assert not any(b is not None for b in [getattr(h, "bias", None)])  # Tanh(FC): no bias


def test_the_reference_head_ends_in_an_affine_free_bn_and_is_a_new_config():
    import torch.nn as nn

    from ssllib.config import config_hash, profile_config
    from ssllib.models import build_model

    ours, ref = profile_config("smoke"), profile_config("smoke", proj_last_bn_affine=False)
    last = [build_model(c).projector[-1] for c in (ours, ref)]
    assert isinstance(last[1], nn.BatchNorm1d) and not last[1].affine and last[0].affine
    assert config_hash(ours) == config_hash(profile_config("smoke"))  # the old hashes stand
    assert config_hash(ref) != config_hash(ours)
