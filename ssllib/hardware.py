"""What the machine is and what it computes fast: the device, the CPU's model and native bf16
support (as torch reports them), the fast-path features `cfg.fast` turns on, and the load on the
cores.  Every result's provenance records these."""
from __future__ import annotations

import os

import torch


class DeviceError(ValueError):
    """A device that is not one, or not on this machine: one line naming it and the allowed ones."""


def pick_device(device: str = "auto") -> torch.device:
    """`auto` (CUDA when there is one), `cpu`, `cuda` or `cuda:N`; anything else, or CUDA on a machine
    without it, is one DeviceError line."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise DeviceError(f"unknown device {device!r}; allowed: auto, cpu, cuda, cuda:N")
    if dev.type == "cuda" and (not torch.cuda.is_available() or (dev.index or 0) >= torch.cuda.device_count()):
        raise DeviceError(f"device {device!r} is not on this machine ({torch.cuda.device_count()} CUDA devices); "
                          "use --device cpu or auto")
    return dev


def cpu_capabilities() -> dict | None:
    """torch's mapping of the CPU's features and name (torch >= 2.10), or None on older torch."""
    caps = getattr(torch.cpu, "get_capabilities", None)
    return dict(caps()) if caps is not None else None


def cpu_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512_BF16 or AMX-BF16), as torch reports it."""
    c = cpu_capabilities()
    if c is not None:
        return bool(c.get("avx512_bf16") or c.get("amx_bf16"))
    return any(getattr(torch.cpu, name, lambda: False)()  # torch 2.3-2.9
               for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def fast_features(mode: str, device: torch.device) -> dict:
    """What `cfg.fast` turns on for this device.  "auto" is bf16 autocast + channels_last where the
    hardware computes bf16 natively (a recent GPU, or a CPU with AVX512_BF16 / AMX: ~2.2x faster
    there, benchmarks/cpu_step.py) and plain fp32 elsewhere; "bf16" forces it, "off" never."""
    cuda = device.type == "cuda"
    native = torch.cuda.is_bf16_supported() if cuda else device.type == "cpu" and cpu_native_bf16()
    bf16 = mode == "bf16" or (mode in ("auto", "compile") and native)
    return {"channels_last": bf16, "bf16_autocast": bf16, "fused_sgd": cuda and mode != "off",
            "compile": mode == "compile"}


def cpu_model() -> str:
    """The CPU's model name (torch's view where it has one, else /proc/cpuinfo, else platform)."""
    name = (cpu_capabilities() or {}).get("cpu_name")
    if not name:
        try:
            with open("/proc/cpuinfo") as f:
                name = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
        except OSError:
            name = None
    import platform
    return name or platform.processor() or platform.machine()


def device_name(device: torch.device) -> str:
    """What trained: the GPU's name and its host's CPU, or the CPU with its native bf16 support."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (host: {cpu_model()}, {os.cpu_count()} cores)"
    bf16 = "native bf16" if cpu_native_bf16() else "no native bf16"
    return f"cpu ({cpu_model()}, {bf16}, {os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def load_average() -> float | None:
    """The machine's 1-minute load average (how many runnable processes shared the cores)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def make_sgd(groups: list[dict], fused: bool, **kw) -> torch.optim.SGD:
    """SGD, fused into one kernel where this torch and device support it."""
    if fused:
        try:
            return torch.optim.SGD(groups, fused=True, **kw)
        except (TypeError, RuntimeError):  # older torch, or a device without the fused kernel
            pass
    return torch.optim.SGD(groups, **kw)
