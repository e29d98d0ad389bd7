"""timm-style: one test that builds every registered part and runs it forward and backward."""
import pytest
import torch

from ssllib import models
from ssllib.config import profile_config
from ssllib.losses import LOSSES, build_loss


@pytest.mark.parametrize("name", sorted(models.ENCODERS))
def test_every_encoder(name):
    net = models.ENCODERS[name](8)
    out = net(torch.randn(4, 3, 32, 32))
    assert out.shape == (4, net.out_dim)
    out.sum().backward()


@pytest.mark.parametrize("name", sorted(models.PREDICTORS))
def test_every_predictor_maps_d_to_d(name):
    h = models.PREDICTORS[name](16, 4)
    assert h(torch.randn(6, 16)).shape == (6, 16)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_trains_through_the_full_model(loss):
    cls = LOSSES[loss]
    assert cls.__doc__ and any(w in cls.__doc__ for w in ("Eq.", "Algorithm", "Table", "Figure", "Section"))
    cfg = profile_config("smoke", loss=loss, predictor="none" if loss == "naive_siamese" else "mlp",
                         width=4, proj_hidden=32, proj_dim=32, pred_hidden=8)
    net = models.build_model(cfg)
    loss_fn = build_loss(cfg, num_images=10)
    feats, z = net([torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)])
    assert feats[0].shape == (4, 32) and z[0].shape == (4, 32)
    extra = {"index": torch.arange(4)} if getattr(loss_fn, "needs_index", False) else {}
    value = loss_fn(z, net.predictor, **extra)
    assert value.dim() == 0 and torch.isfinite(value)
    value.backward()
    assert net.backbone.stem[0].weight.grad.abs().sum() > 0


def test_resnet18_has_the_standard_parameter_count_at_width_64():
    n = sum(p.numel() for p in models.resnet18(64).parameters())
    assert 11.1e6 < n < 11.2e6  # CIFAR ResNet-18 without the fc layer: 11.17M


def test_every_experiment_variant_is_seconds_long_at_smoke():
    from ssllib.experiments import EXPERIMENTS, make_config
    from ssllib.train import schedule

    for name, exp in EXPERIMENTS.items():
        for variant in exp.variants:
            cfg = make_config(name, variant, "smoke")
            n = cfg.train_subset or 50000
            assert schedule(cfg, n)[1] <= 16, (name, variant)
            assert cfg.width <= 16 and cfg.batch_size * cfg.n_views <= 1024, (name, variant)


def test_every_experiment_builds_at_every_profile():
    from ssllib.config import PROFILES
    from ssllib.experiments import EXPERIMENTS, make_config

    for profile in PROFILES:
        for name, exp in EXPERIMENTS.items():
            for variant in exp.variants:
                cfg = make_config(name, variant, profile)
                assert (cfg.experiment, cfg.variant) == (name, variant)
    paper = make_config("table2", "simsiam", "paper")
    assert (paper.width, paper.proj_dim, paper.pred_hidden, paper.batch_size, paper.epochs) == (64, 2048, 512, 256, 1000)
