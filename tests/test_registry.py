"""timm-style: one test that builds every registered part and runs it forward and backward."""
import pytest
import torch

from ssllib import models
from ssllib.config import profile_config
from ssllib.loss_registry import LOSSES, build_loss


@pytest.mark.parametrize("name", sorted(models.ENCODERS))
def test_every_encoder(name):
    net = models.ENCODERS[name](8)
    x = torch.randn(4, 3, 32, 32, requires_grad=True)
    out = net(x)
    assert out.shape == (4, net.out_dim)
    out.sum().backward()
    assert x.grad.abs().sum() > 0  # the features depend on the image (and train, if they have weights)


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
                assert cfg.batch_size <= (cfg.train_subset or 50000), (profile, name, variant)
    paper = make_config("table2", "simsiam", "paper")
    assert (paper.width, paper.proj_dim, paper.pred_hidden, paper.batch_size, paper.epochs) == (64, 2048, 512, 256, 1000)


def test_the_controls_evaluate_without_a_training_step():
    """Random encoder as initialised, with calibrated BN statistics, and raw pixels."""
    from ssllib.config import profile_config
    from ssllib.data import synthetic
    from ssllib.train import Trainer

    cfg = profile_config("smoke", dataset="synthetic", epochs=0.0, train_subset=128,
                         eval_train_size=128, eval_test_size=64, knn_k=5)
    plain = Trainer(cfg, synthetic())
    calibrated = Trainer(cfg.replace(bn_calibration=128), synthetic())
    plain.fit(progress=False), calibrated.fit(progress=False)
    bn = [m for m in calibrated.model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)][0]
    fresh = [m for m in plain.model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)][0]
    assert torch.equal(fresh.running_mean, torch.zeros_like(fresh.running_mean))
    assert not torch.equal(bn.running_mean, fresh.running_mean) and bn.num_batches_tracked > 0
    assert torch.equal(calibrated.model.backbone.stem[0].weight, plain.model.backbone.stem[0].weight)
    pixels = Trainer(cfg.replace(encoder="pixels"), synthetic())
    res = pixels.fit(progress=False)
    assert pixels.model.backbone.out_dim == 3072 and res.info["steps"] == 0
    from ssllib.augment import eval_transform
    x = synthetic().test_x[:4]
    assert torch.equal(pixels.model.backbone(eval_transform(x)), eval_transform(x).flatten(1))
    assert 0 <= res.metrics["knn_acc"] <= 100 and 0 <= res.metrics["linear_acc"] <= 100
