"""Every loss of the book by name, in the one module that imports the modules defining them (and
is imported by none of them): the variants of Sections 2 and 4 and Chen & He's (`ssllib.losses`)
and Section 3's gradient surgery (`ssllib.gradients`).  Read `LOSSES` and `build_loss` from here.
"""
from __future__ import annotations

import inspect

import torch.nn as nn

from . import gradients  # noqa: F401  (its classes register themselves on import)
from .losses import LOSSES


def build_loss(cfg, num_images: int = 0) -> nn.Module:
    """The loss of `cfg.loss`, built with `cfg.options` plus the sizes it declares it needs."""
    cls = LOSSES[cfg.loss]
    sizes = {"dim": cfg.proj_dim, "hidden": cfg.pred_hidden, "num_images": num_images}
    wanted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in sizes.items() if k in wanted}, **cfg.options)
