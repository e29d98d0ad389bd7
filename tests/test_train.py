"""The training loop: schedule, and kill-and-resume reproducing the uninterrupted run."""
import math

import torch

from ssllib.config import config_hash
from ssllib.data import synthetic
from ssllib.train import Trainer, lr_factor, schedule


def test_warmup_then_cosine_to_zero():
    assert lr_factor(0, 100, 10) == 0.1 and lr_factor(9, 100, 10) == 1.0
    assert lr_factor(10, 100, 10) == 1.0
    assert math.isclose(lr_factor(55, 100, 10), 0.5, abs_tol=1e-9)
    assert lr_factor(99, 100, 10) < 0.01


def test_predictor_lr_is_fixed_and_encoder_lr_decays(tiny):
    t = Trainer(tiny.replace(warmup_epochs=0.0), synthetic())
    for step in range(t.total):  # set every step: the factor must not compound
        t.step = step
        t.set_lr()
        enc, pred, probe = t.opt.param_groups
        assert pred["lr"] == t.lr
        assert math.isclose(enc["lr"], t.lr * lr_factor(step, t.total, t.warmup), rel_tol=1e-12)
        assert math.isclose(probe["lr"], tiny.probe_lr * lr_factor(step, t.total, t.warmup))
    assert enc["lr"] < t.lr
    assert schedule(tiny, 128) == (8, 8, 0)


def test_kill_and_resume_equals_uninterrupted(tiny, tmp_path):
    data = synthetic()
    straight = Trainer(tiny, data).fit(progress=False)
    ckpt = tmp_path / "run.pt"
    assert Trainer(tiny, data).fit(ckpt, progress=False, max_steps=5) is None  # "killed" at step 5
    saved = torch.load(ckpt, weights_only=False)
    assert saved["step"] == 4  # the last checkpoint before the kill
    resumed_trainer = Trainer(tiny, data)
    resumed = resumed_trainer.fit(ckpt, progress=False)
    assert resumed.info["resumed_at_step"] == 4
    assert [r["step"] for r in resumed.curve] == [r["step"] for r in straight.curve]
    for a, b in zip(resumed.curve, straight.curve):
        assert math.isclose(a["loss"], b["loss"], rel_tol=1e-5, abs_tol=1e-6)
    for k in ("linear_acc", "knn_acc", "m_o", "m_r", "z_std"):
        assert math.isclose(resumed.metrics[k], straight.metrics[k], rel_tol=1e-5, abs_tol=1e-6), k


def test_checkpoint_of_another_config_is_not_resumed(tiny, tmp_path):
    data = synthetic()
    ckpt = tmp_path / "run.pt"
    Trainer(tiny, data).fit(ckpt, progress=False, max_steps=5)
    other = Trainer(tiny.replace(seed=1), data)
    assert not other.load(ckpt) and other.step == 0
    ckpt.write_bytes(b"half-written")
    assert not Trainer(tiny, data).load(ckpt)


def test_collapse_metrics_are_logged_every_log_every_steps(tiny):
    res = Trainer(tiny.replace(log_every=3), synthetic()).fit(progress=False)
    assert [r["step"] for r in res.curve] == [0, 3, 6, 7]
    assert {"z_std", "m_o", "m_r", "covariance", "loss", "lr"} <= set(res.curve[0])


def test_fast_path_matches_plain_fp32_within_bf16_noise(tiny):
    """Issue 8: channels_last + bf16 autocast (forced on CPU here; the GPU default) trains the
    same thing as plain fp32: same loss curve and collapse indicators up to bf16 rounding."""
    from ssllib.train import fast_features

    assert fast_features("auto", torch.device("cpu")) == {
        "channels_last": False, "bf16_autocast": False, "fused_sgd": False, "compile": False}
    cfg = tiny.replace(log_every=1)
    runs = {(mode, seed): Trainer(cfg.replace(fast=mode, seed=seed), synthetic()).fit(progress=False)
            for mode, seed in (("off", 0), ("bf16", 0), ("off", 1))}
    assert runs["bf16", 0].info["fast"]["bf16_autocast"] and not runs["off", 0].info["fast"]["bf16_autocast"]
    plain, fast, other_seed = (runs[k].curve for k in (("off", 0), ("bf16", 0), ("off", 1)))
    assert len(plain) == len(fast) == 8
    assert 0 < abs(plain[0]["loss"] - fast[0]["loss"]) < 0.01  # really bf16, and close before drift

    def gap(a, b, key):
        return sum(abs(x[key] - y[key]) for x, y in zip(a, b)) / len(a)
    for key in ("loss", "m_r", "m_o"):  # "within noise": closer than a different seed is
        assert gap(plain, fast, key) < gap(plain, other_seed, key), key
    assert config_hash(cfg.replace(fast="off")) == config_hash(cfg.replace(fast="bf16"))


def test_a_fixed_random_predictor_stays_at_its_initialisation(tiny):
    """Chen & He Table 1(b): the predictor is not optimised, yet the encoder trains through it."""
    t = Trainer(tiny.replace(predictor_trainable=False), synthetic())
    before = [p.detach().clone() for p in t.model.predictor.parameters()]
    stem = t.model.backbone.stem[0].weight.detach().clone()
    for _ in range(2):
        t.train_step()
    assert all(torch.equal(a, b) for a, b in zip(before, t.model.predictor.parameters()))
    assert not torch.equal(stem, t.model.backbone.stem[0].weight)


def test_k_step_alternation_with_k_1_is_simsiam_and_resumes(tiny, tmp_path):
    """Chen & He Sec. 5: targets from an encoder refreshed every step are SimSiam's own z, so
    k = 1 trains exactly like SimSiam; k = 3 keeps its target encoder across a resume."""
    plain = Trainer(tiny, synthetic()).fit(progress=False).curve
    k1 = Trainer(tiny.replace(target_every=1), synthetic()).fit(progress=False).curve
    assert [r["loss"] for r in plain] == [r["loss"] for r in k1]
    cfg = tiny.replace(target_every=3, ckpt_every=2)
    whole = Trainer(cfg, synthetic()).fit(progress=False).curve
    ckpt = tmp_path / "k3.pt"
    assert Trainer(cfg, synthetic()).fit(ckpt, progress=False, max_steps=5) is None
    resumed = Trainer(cfg, synthetic()).fit(ckpt, progress=False).curve
    assert [r["loss"] for r in whole] == [r["loss"] for r in resumed]
    assert [r["loss"] for r in whole] != [r["loss"] for r in plain]


def test_k_step_every_epoch_refreshes_at_epoch_boundaries(tiny):
    """Chen & He's "1-epoch" alternation: target_every="epoch" is k = the steps of one epoch."""
    cfg = tiny.replace(epochs=2, target_every="epoch")
    t = Trainer(cfg, synthetic())
    assert 1 < t.per_epoch < t.total  # the target is refreshed once after the first
    by_epoch = t.fit(progress=False).curve
    by_steps = Trainer(cfg.replace(target_every=t.per_epoch), synthetic()).fit(progress=False).curve
    assert [r["loss"] for r in by_epoch] == [r["loss"] for r in by_steps]
