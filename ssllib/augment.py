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
    w = torch.tensor(_GRAY, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    r, g, b = x.unbind(1)
    maxc, _ = x.max(1)
    minc, _ = x.min(1)
    delta = maxc - minc
    s = torch.where(maxc > 0, delta / maxc.clamp_min(1e-12), torch.zeros_like(maxc))
    d = delta.clamp_min(1e-12)
    h = torch.where(maxc == r, ((g - b) / d) % 6,
                    torch.where(maxc == g, (b - r) / d + 2, (r - g) / d + 4)) / 6
    h = torch.where(delta > 0, h, torch.zeros_like(h))
    return torch.stack([h, s, maxc], 1)


def hsv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    # standard formula: channel n in (5, 3, 1) for (r, g, b)
    h, s, v = (t.unsqueeze(1) for t in x.unbind(1))
    n = torch.tensor([5.0, 3.0, 1.0], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    k = (n + h * 6) % 6
    return v - v * s * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


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
    n, dev = x.shape[0], x.device
    view = lambda t: t.view(n, 1, 1, 1)  # noqa: E731
    apply = view(torch.rand(n, generator=g, device=dev) < p)
    bf = view(_u(n, 1 - b, 1 + b, g, dev))
    cf = view(_u(n, 1 - c, 1 + c, g, dev))
    sf = view(_u(n, 1 - s, 1 + s, g, dev))
    hf = _u(n, -hue, hue, g, dev).view(n, 1, 1)
    y = (x * bf).clamp(0, 1)
    mean = grayscale(y).mean((2, 3), keepdim=True)
    y = ((y - mean) * cf + mean).clamp(0, 1)
    gray = grayscale(y)
    y = ((y - gray) * sf + gray).clamp(0, 1)
    hsv = rgb_to_hsv(y)
    hsv = torch.stack([(hsv[:, 0] + hf) % 1.0, hsv[:, 1], hsv[:, 2]], 1)
    y = hsv_to_rgb(hsv).clamp(0, 1)
    return torch.where(apply, y, x)


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
