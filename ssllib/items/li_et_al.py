"""Li et al. (2022): partial collapse measured without labels (the spectral AUC),
across encoder width and training-set size."""
from __future__ import annotations

from ..experiment_spec import Experiment

SECTION = ("Li et al. (2022)", "a label-free collapse metric")

# The paper's numbers, typed once, here, and labelled as the paper's (never measured by us)
LI_ET_AL = {  # Li et al. (2022) state directions, not numbers:
    "sweep": "higher AUC for small model x large data",
    "forecast": "higher AUC, lower accuracy",
}


SWEEP_IMAGES = (5000, 15000, 50000)


def sweep_sizes(images_div: int, steps: int, batch: int) -> dict:
    """Each cell of the sweep trains the same number of steps: epochs = steps x batch / images."""
    return {f"w{w}_n{n}": dict(train_subset=n // images_div,
                               epochs=round(steps * batch / (n // images_div), 4))
            for w in (4, 8, 16) for n in SWEEP_IMAGES}

ITEMS = {
    "collapse_sweep": Experiment(
        name="collapse_sweep",
        paper=LI_ET_AL,
        title="Li et al.: partial collapse vs encoder width and training-set size",
        variants={f"w{w}_n{n}": dict(width=w) for w in (4, 8, 16) for n in SWEEP_IMAGES},
        section=SECTION, notebook="collapse_metric.ipynb",
        item="Li et al.", judge="sweep",
        scale={"cpu": dict(warmup_epochs=0.0)},
        # the training-set size is what the sweep varies, so it is set per profile: every cell
        # of a profile trains the same number of steps (epochs = steps x batch / images)
        variant_scale={
            "smoke": sweep_sizes(images_div=50, steps=4, batch=32),
            "cpu": sweep_sizes(images_div=1, steps=146, batch=256),
            "gpu": sweep_sizes(images_div=1, steps=9760, batch=512),
            "paper": sweep_sizes(images_div=1, steps=195000, batch=256),
        },
    ),
}
