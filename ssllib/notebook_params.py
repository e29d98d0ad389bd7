"""A notebook's papermill parameters checked before anything runs (`chapter.run` and the pages that
read every experiment call these): one ConfigError line naming the bad value and the allowed ones."""
from __future__ import annotations

from .config import PROFILES, ConfigError
from .data import DATASETS


def check_parameters(profile, dataset, epochs, device, seeds, force, allow_train) -> None:
    """A notebook's `parameters` (papermill -p ...) checked before anything runs: ConfigError, one
    line naming the bad value and the allowed ones."""
    import math

    def bad(name, value, allowed):
        raise ConfigError(f"bad parameter {name}={value!r}; allowed: {allowed}")

    if not isinstance(profile, str) or profile not in PROFILES:
        bad("profile", profile, ", ".join(sorted(PROFILES)))
    if not isinstance(dataset, str) or dataset not in DATASETS:
        bad("dataset", dataset, ", ".join(DATASETS))
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, (int, float))
                               or not math.isfinite(epochs) or epochs < 0):
        bad("epochs", epochs, "None or a finite number >= 0")
    if not isinstance(device, str) or not (device in ("auto", "cpu", "cuda") or device.startswith("cuda:")):
        bad("device", device, "auto, cpu, cuda, cuda:N")
    if seeds is not None and (not isinstance(seeds, (list, tuple)) or not all(
            isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**31 for x in seeds)):
        bad("seeds", seeds, "None or a list of integers in [0, 2**31), e.g. [0, 1]")
    for name, value in (("force", force), ("allow_train", allow_train)):
        if not isinstance(value, bool):
            bad(name, value, "True, False")


def check_injected(cells=None) -> None:
    """The names papermill injected (`-p name value`) checked against the notebook's own
    `parameters` cell: papermill only warns about an unknown one and the notebook would run with
    the default, so a misspelt name is one ConfigError naming it and the allowed ones.  `cells`:
    the sources run so far (default: IPython's `In`; nothing to check outside a kernel)."""
    import re

    if cells is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        cells = shell.user_ns.get("In", []) if shell is not None else []
    declared = next((c for c in cells if c.lstrip().startswith("# parameters\n")), None)
    injected = next((c for c in reversed(cells) if c.lstrip().startswith("# Parameters\n")), None)
    if declared is None or injected is None:
        return
    names = lambda src: re.findall(r"^([A-Za-z_]\w*)\s*=", src, re.M)
    unknown = [n for n in names(injected) if n not in names(declared)]
    if unknown:
        raise ConfigError(f"unknown parameter {unknown[0]!r}; allowed: {', '.join(names(declared))}")
