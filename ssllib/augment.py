"""SimSiam / solo-learn augmentation (Appendix A.1), batched on tensors on the training device.

Every sample draws its own parameters, exactly like torchvision's per-image transforms:
RandomResizedCrop(32, scale=(0.2, 1.0), bicubic) -> RandomHorizontalFlip(0.5) ->
RandomApply(ColorJitter(0.4, 0.4, 0.4, 0.1), p=0.8) -> RandomGrayscale(0.2) -> Normalize.
Crop and flip are one affine warp (`affine_grid` + `grid_sample`); the colour operations are
broadcast arithmetic.  Documented difference to torchvision: the four jitter operations are always
applied in the order brightness, contrast, saturation, hue (torchvision shuffles the order).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.247, 0.243, 0.261)
_GRAY = (0.299, 0.587, 0.114)


def _u(n, lo, hi, g, device):
    return torch.rand(n, generator=g, device=device) * (hi - lo) + lo


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma, (n, 3, H, W) -> (n, 1, H, W) (torchvision weighs red 0.2989)."""
    return _GRAY[0] * x[:, 0:1] + _GRAY[1] * x[:, 1:2] + _GRAY[2] * x[:, 2:3]


def adjust_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """torchvision's adjust_hue per sample (RGB -> HSV, h += shift (n,) in turns, -> RGB) in closed form.

    With v = max, delta = max - min (so v*s = delta) and h6 = 6h in [0, 6) from the usual
    piecewise formula, the HSV -> RGB step is  c_n = v - delta * clamp(min(k, 4 - k), 0, 1),
    k = (n + h6) mod 6 with n = 5, 3, 1 for r, g, b.  Hue and saturation are never materialised;
    where delta = 0 the hue is irrelevant (c_n = v).  A test compares it with torchvision.
    """
    r, g, b = x.unbind(1)
    maxc, minc = x.amax(1), x.amin(1)  # amax/amin: max(dim) also computes indices, ~10x slower
    delta = maxc - minc
    is_r, is_g = r == maxc, g == maxc
    # which channel holds the max, as 0/1 floats: arithmetic on them is ~2x faster than torch.where
    max_r = is_r.to(x.dtype)
    max_g = (~is_r & is_g).to(x.dtype)
    max_b = 1 - max_r - max_g
    num = (g - b).mul_(max_r).add_((b - r).mul_(max_g)).add_((r - g).mul_(max_b))
    sector = max_g.mul_(2).add_(max_b.mul_(4))  # 0, 2, 4: max in r, g, b
    h6 = num.div_(delta.clamp_min(1e-12)).add_(sector).add_(6 * shift.view(-1, 1, 1))
    h6 = h6.sub_(torch.floor(h6 / 6).mul_(6))  # wrap into [0, 6) once, on one channel
    n = torch.tensor([5.0, 3.0, 1.0], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    k = h6.unsqueeze(1) + n                     # in [n, n + 6): at most one period to take off
    k = k.sub_((k >= 6).to(x.dtype).mul_(6))
    return k.sub_(2).abs_().neg_().add_(2).clamp_(0, 1).mul_(delta.unsqueeze(1)).neg_().add_(maxc.unsqueeze(1))


def crop_flip_params(n: int, g: torch.Generator, device, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3),
                     tries: int = 10) -> torch.Tensor:
    """Affine matrices (n, 2, 3) for RandomResizedCrop + horizontal flip, in grid_sample coordinates.

    Like torchvision: up to `tries` (area, aspect) draws per sample, the first that fits is used,
    else the whole image.  Sizes are fractions of the side, centres uniform where the crop fits.
    """
    area = _u(n * tries, *scale, g, device).view(n, tries)
    log_r = _u(n * tries, math.log(ratio[0]), math.log(ratio[1]), g, device).view(n, tries)
    r = torch.exp(log_r)
    w, h = torch.sqrt(area * r), torch.sqrt(area / r)
    fits = (w <= 1) & (h <= 1)
    first = torch.argmax(fits.int(), 1)                    # first fitting try (0 if none fits)
    pick = lambda t: t.gather(1, first[:, None]).squeeze(1)  # noqa: E731
    any_fit = fits.any(1)
    w = torch.where(any_fit, pick(w), torch.ones(n, device=device))
    h = torch.where(any_fit, pick(h), torch.ones(n, device=device))
    cx = (torch.rand(n, generator=g, device=device) * 2 - 1) * (1 - w)   # centre in [-1+w, 1-w]
    cy = (torch.rand(n, generator=g, device=device) * 2 - 1) * (1 - h)
    flip = torch.where(torch.rand(n, generator=g, device=device) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0], theta[:, 0, 2] = w * flip, cx
    theta[:, 1, 1], theta[:, 1, 2] = h, cy
    return theta


def color_jitter(x: torch.Tensor, g: torch.Generator, b=0.4, c=0.4, s=0.4, hue=0.1, p=0.8):
    """RandomApply(ColorJitter(b, c, s, hue), p): parameters are drawn for every sample, the
    arithmetic is done only on the ~80% that are jittered."""
    n, dev = x.shape[0], x.device
    apply = torch.rand(n, generator=g, device=dev) < p
    bf, cf, sf = (_u(n, 1 - f, 1 + f, g, dev) for f in (b, c, s))
    hf = _u(n, -hue, hue, g, dev)
    idx = apply.nonzero().squeeze(1)
    per = lambda t: t[idx].view(-1, 1, 1, 1)  # noqa: E731
    y = (x[idx] * per(bf)).clamp_(0, 1)
    mean = grayscale(y).mean((2, 3), keepdim=True)
    y = y.sub_(mean).mul_(per(cf)).add_(mean).clamp_(0, 1)
    gray = grayscale(y)
    y = y.sub_(gray).mul_(per(sf)).add_(gray).clamp_(0, 1)
    out = x.clone()
    out[idx] = adjust_hue(y, hf[idx]).clamp_(0, 1)
    return out


def random_grayscale(x: torch.Tensor, g: torch.Generator, p=0.2):
    apply = (torch.rand(x.shape[0], generator=g, device=x.device) < p).view(-1, 1, 1, 1)
    return torch.where(apply, grayscale(x).expand_as(x), x)


def normalize(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(CIFAR_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def simsiam_augment(images: torch.Tensor, g: torch.Generator, out_size: int = 32,
                    normalized: bool = True) -> torch.Tensor:
    """One augmented view of a uint8 batch (n, 3, H, W) -> float32 (n, 3, out, out)."""
    x = images.float().div_(255)
    n = x.shape[0]
    theta = crop_flip_params(n, g, x.device)
    grid = F.affine_grid(theta, (n, 3, out_size, out_size), align_corners=False)
    x = F.grid_sample(x, grid, mode="bicubic", padding_mode="border", align_corners=False)
    x = x.clamp(0, 1)
    x = color_jitter(x, g)
    x = random_grayscale(x, g)
    return normalize(x) if normalized else x


def eval_transform(images: torch.Tensor) -> torch.Tensor:
    """No augmentation for evaluation: scale to [0, 1] and normalise."""
    return normalize(images.float().div(255))
