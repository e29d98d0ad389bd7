"""The batched augmentation: per-sample parameters, dtype/shape/range, reproducibility."""
import torch

from ssllib import augment


def images(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8)


def test_shape_dtype_range():
    x = images()
    out = augment.simsiam_augment(x, torch.Generator().manual_seed(0), normalized=False)
    assert out.shape == (16, 3, 32, 32) and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1
    norm = augment.simsiam_augment(x, torch.Generator().manual_seed(0))
    mean = torch.tensor(augment.CIFAR_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(augment.CIFAR_STD).view(1, 3, 1, 1)
    assert torch.allclose(norm, (out - mean) / std, atol=1e-5)


def test_each_sample_draws_its_own_parameters():
    x = images(1).repeat(64, 1, 1, 1)  # 64 copies of one image
    out = augment.simsiam_augment(x, torch.Generator().manual_seed(0))
    flat = out.flatten(1)
    distinct = (flat[:, None] - flat[None]).abs().amax(-1) > 1e-3
    assert distinct.sum() == 64 * 63  # every pair of different copies differs
    theta = augment.crop_flip_params(1000, torch.Generator().manual_seed(1), "cpu")
    scale = theta[:, 0, 0].abs() * theta[:, 1, 1]  # crop area as a fraction of the image
    assert 0.19 < scale.min() and scale.max() <= 1.0 + 1e-6
    flipped = (theta[:, 0, 0] < 0).float().mean()
    assert 0.4 < flipped < 0.6


def test_same_generator_state_gives_same_views():
    x = images()
    a = augment.simsiam_augment(x, torch.Generator().manual_seed(3))
    b = augment.simsiam_augment(x, torch.Generator().manual_seed(3))
    c = augment.simsiam_augment(x, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_color_jitter_equals_torchvision_per_sample():
    """With the parameters it draws, each jittered sample is torchvision's adjust_brightness ->
    contrast -> saturation -> hue (our fixed order); the others are left untouched."""
    import torchvision.transforms.functional as TF

    x = torch.rand(64, 3, 8, 8)
    x[0] = 0.5                      # grey: no hue
    x[1, 1] = x[1, 0]               # r = g: ties at the maximum
    out = augment.color_jitter(x, torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)  # draw the same parameters in the same order
    apply = torch.rand(64, generator=g) < 0.8
    bf, cf, sf = (torch.rand(64, generator=g) * 0.8 + 0.6 for _ in range(3))
    hf = torch.rand(64, generator=g) * 0.2 - 0.1
    assert 0 < apply.sum() < 64
    for i in range(64):
        if not apply[i]:
            assert torch.equal(out[i], x[i])
            continue
        y = TF.adjust_saturation(TF.adjust_contrast(TF.adjust_brightness(x[i], bf[i].item()), cf[i].item()),
                                 sf[i].item())
        assert torch.allclose(out[i], TF.adjust_hue(y, hf[i].item()), atol=1e-3), i  # 0.299 vs 0.2989
    hue_only = augment.adjust_hue(x, hf)
    ref = torch.stack([TF.adjust_hue(x[i], hf[i].item()) for i in range(64)])
    assert torch.allclose(hue_only, ref, atol=1e-5)
    assert torch.allclose(augment.adjust_hue(x, torch.zeros(64)), x, atol=1e-5)  # shift 0: identity


def test_grayscale_probability():
    y = augment.random_grayscale(torch.rand(4000, 3, 2, 2), torch.Generator().manual_seed(0))
    gray = (y[:, 0] == y[:, 1]).all(-1).all(-1) & (y[:, 1] == y[:, 2]).all(-1).all(-1)
    assert 0.17 < gray.float().mean() < 0.23


def test_identity_crop_reproduces_the_image():
    x = images(2).float() / 255
    theta = torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]).repeat(2, 1, 1)
    grid = torch.nn.functional.affine_grid(theta, (2, 3, 32, 32), align_corners=False)
    out = torch.nn.functional.grid_sample(x, grid, mode="bicubic", align_corners=False)
    assert torch.allclose(out, x, atol=1e-4)
