"""The training loop: schedule, and kill-and-resume reproducing the uninterrupted run."""
import math

import pytest

import torch
import torch.nn.functional as F

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
    # bit-exact: the same kernels on the same machine compute the same numbers
    assert resumed.curve == straight.curve
    assert resumed.metrics == straight.metrics


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


def one_step(cfg) -> dict:
    """One training step from the config's initial state: the logged row, the representations z
    the loss saw, the loss's gradient dL/dz, and each head's parameter gradient."""
    t = Trainer(cfg, synthetic())
    seen = {}

    def keep_z(module, args):
        seen["z"] = args[0]
        for v in args[0]:
            v.retain_grad()
    t.loss_fn.register_forward_pre_hook(keep_z)
    row = t.train_step()

    def flat(tensors):
        return torch.cat([v.flatten() for v in tensors]) if tensors else torch.zeros(0)
    return dict(row=row, fast=t.fast, z=flat([v.detach() for v in seen["z"]]),
                dz=flat([v.grad if v.grad is not None else torch.zeros_like(v) for v in seen["z"]]),
                **{name: flat([p.grad for p in getattr(t.model, name).parameters() if p.grad is not None])
                   for name in ("projector", "predictor")})


def bf16_equivalent(ref: dict, fast: dict) -> list[str]:
    """Why `fast` is not the step `ref` computed up to bf16 rounding ([] if it is).

    bf16 keeps 8 significant bits (unit roundoff u = 2^-8); each layer adds a relative error of a
    few u, so after ~20 layers z is within ~10-20 u of fp32 (measured: ~15 u, cosine 0.998), the
    cosine loss moves by that much times its gradient (<< 1e-2), and gradients, which pass back
    through the same layers, keep a cosine >= ~0.96 with fp32's at the heads and at z.  The bounds
    below leave a factor of ~2-4 on those errors.  They are one-step bounds from the arithmetic,
    not from a trajectory, so they do not depend on the CPU's kernels (checked under
    ATEN_CPU_CAPABILITY=default, avx2 and avx512).  The backbone's own gradient is not compared:
    it passes back through 17 bf16 convolutions of a width-8 net (cosine 0.85-0.9 with fp32), which
    separates poorly from a wrong computation; dL/dz and the heads decide.
    """
    def cos(key):
        a, b = ref[key], fast[key]
        return F.cosine_similarity(a, b, dim=0).item() if a.shape == b.shape and a.numel() else float("nan")
    faults = []
    if not abs(ref["row"]["loss"] - fast["row"]["loss"]) < 1e-2:
        faults.append(f"loss {fast['row']['loss']:.4f} vs {ref['row']['loss']:.4f}")
    for key in ("m_o", "m_r"):
        if not abs(ref["row"][key] - fast["row"][key]) < 1e-2:
            faults.append(f"{key} {fast['row'][key]:.4f} vs {ref['row'][key]:.4f}")
    if not cos("z") > 0.99:
        faults.append(f"z cosine {cos('z'):.3f}")
    for key in ("dz", "projector", "predictor"):
        if not cos(key) > 0.9:  # nan (a missing gradient) fails too
            faults.append(f"{key} gradient cosine {cos(key):.3f}")
    return faults


def test_fast_path_computes_the_fp32_step_up_to_bf16_rounding(tiny):
    """Channels_last + bf16 autocast (forced on CPU here) computes the same training
    step as plain fp32, within bounds that follow from bf16's precision; a fast path that computed
    something else (no stop-gradient, no predictor, one loss direction) fails the same check."""
    cfg = tiny.replace(batch_size=64, width=8, log_every=1)
    ref, fast = one_step(cfg.replace(fast="off")), one_step(cfg.replace(fast="bf16"))
    assert fast["fast"]["bf16_autocast"] and not ref["fast"]["bf16_autocast"]
    assert 0 < (ref["z"] - fast["z"]).abs().max() < 1  # really computed in bf16, and close
    assert bf16_equivalent(ref, fast) == []
    for wrong in (dict(options={"stop_gradient": False}), dict(predictor="none"),
                  dict(options={"symmetric": False})):
        assert bf16_equivalent(ref, one_step(cfg.replace(fast="bf16", **wrong))), wrong
    assert config_hash(cfg.replace(fast="off")) == config_hash(cfg.replace(fast="bf16"))


def test_auto_uses_bf16_exactly_where_the_hardware_has_it():
    from ssllib.hardware import cpu_native_bf16, fast_features

    cpu = torch.device("cpu")
    assert fast_features("auto", cpu)["bf16_autocast"] == cpu_native_bf16()
    assert fast_features("bf16", cpu)["bf16_autocast"] and not fast_features("off", cpu)["bf16_autocast"]
    assert not fast_features("auto", cpu)["fused_sgd"]


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


def test_learning_curve_evaluates_on_schedule_and_survives_a_kill(tiny, tmp_path):
    """kNN / linear every `eval_every` epochs, from step 0 to the end; evaluating does
    not change training, and a killed run resumes with its curve so far."""
    cfg = tiny.replace(epochs=2.0, eval_every=0.5)
    plain = Trainer(tiny.replace(epochs=2.0), synthetic()).fit(progress=False)
    whole = Trainer(cfg, synthetic()).fit(progress=False)
    assert [e["step"] for e in whole.evals] == [0, 4, 8, 12, 16]
    assert [r["loss"] for r in whole.curve] == [r["loss"] for r in plain.curve]
    # the final evaluation is the curve's last point (evaluated once), and what a run without it gets
    assert {k: whole.metrics[k] for k in ("knn_acc", "linear_acc")} == {
        k: whole.evals[-1][k] for k in ("knn_acc", "linear_acc")} == {k: plain.metrics[k] for k in ("knn_acc", "linear_acc")}
    assert whole.metrics["online_linear_acc"] == plain.metrics["online_linear_acc"]
    ckpt = tmp_path / "curve.pt"
    assert Trainer(cfg, synthetic()).fit(ckpt, progress=False, max_steps=7) is None
    resumed = Trainer(cfg, synthetic()).fit(ckpt, progress=False)
    assert resumed.evals == whole.evals


def test_on_a_gpu_the_loss_check_waits_for_a_step_that_synchronises_anyway(tiny):
    """No per-step host sync on a GPU.  With the device's type set to cuda (the check
    only reads it), a nan loss at a step that does not log is remembered on the device, not raised;
    the next logging step raises, naming the interval.  On a CPU it raises at once."""
    import types

    from ssllib.data import synthetic
    from ssllib.train import TrainingDiverged

    trainer = Trainer(tiny, synthetic())
    nan, one = torch.tensor(float("nan")), torch.tensor(1.0)
    with pytest.raises(TrainingDiverged, match="at step 0"):
        trainer.check_finite(nan, due=False)
    trainer.device = types.SimpleNamespace(type="cuda")
    trainer.check_finite(one, due=True)
    trainer.step = 3
    trainer.check_finite(nan, due=False)  # remembered, not raised
    trainer.step = 4
    trainer.check_finite(one, due=False)
    trainer.step = 5
    with pytest.raises(TrainingDiverged, match="between steps 0 and 5"):
        trainer.check_finite(one, due=True)


def test_a_resume_across_a_change_of_arithmetic_is_in_the_record(tiny, tmp_path):
    """A run begun in one arithmetic and resumed in another recorded only the
    last; each stretch of training is now listed (from which step, device, processes, arithmetic)."""
    data = synthetic()
    ckpt = tmp_path / "run.pt"
    first = tiny.replace(fast="off")
    assert Trainer(first, data).fit(ckpt, progress=False, max_steps=5) is None
    resumed = Trainer(first.replace(fast="bf16"), data).fit(ckpt, progress=False)  # fast is not in the key
    segments = resumed.info["segments"]
    assert [s["from_step"] for s in segments] == [0, 4]
    assert [s["arithmetic"] for s in segments] == ["fp32", "bf16 autocast"]
    assert all(s["processes"] == 1 for s in segments)
    # the top-level fields say the run is mixed, and of what (issue 42: they named the last segment)
    assert resumed.info["arithmetic"] == "mixed: fp32 from step 0; bf16 autocast from step 4"
    assert resumed.info["processes"] == 1
    assert Trainer(tiny, data).fit(progress=False).info["segments"][0]["from_step"] == 0
