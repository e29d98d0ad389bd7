"""Input pipeline and training step, ours vs the conventional way, measured in the same run.

    .venv/bin/python benchmarks/input_pipeline.py [--batches 8] [--device auto]

Baseline: torchvision's PIL transforms with the same SimSiam augmentation (A.1) behind a
DataLoader with as many workers as cores, producing two-view batches of 256 images.
Ours: `ssllib.augment.simsiam_augment` on an in-memory uint8 tensor, batched on the device.
Also the cpu profile's training step, to put the augmentation's share of a step in numbers.
Prints ratios and writes results/benchmarks/input_pipeline-<device>.json.  Nothing here is
estimated: a measurement that was not taken is reported as null with the reason.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ssllib.augment import CIFAR_MEAN, CIFAR_STD, simsiam_augment  # noqa: E402
from ssllib.config import profile_config  # noqa: E402
from ssllib.data import load_dataset  # noqa: E402
from ssllib.loss_registry import build_loss  # noqa: E402
from ssllib.models import build_model  # noqa: E402
from ssllib.hardware import device_name, pick_device  # noqa: E402

BATCH = 256


class TwoViewPIL(torch.utils.data.Dataset):
    """The conventional pipeline: uint8 array -> PIL image -> torchvision transforms, twice."""

    def __init__(self, images: torch.Tensor):
        from torchvision import transforms as T

        self.images = images.permute(0, 2, 3, 1).numpy()
        self.transform = T.Compose([
            T.RandomResizedCrop(32, scale=(0.2, 1.0), interpolation=T.InterpolationMode.BICUBIC),
            T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
            T.RandomGrayscale(p=0.2),
            T.ToTensor(),
            T.Normalize(CIFAR_MEAN, CIFAR_STD),
        ])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        from PIL import Image

        img = Image.fromarray(self.images[i])
        return self.transform(img), self.transform(img)


def time_baseline(images: torch.Tensor, batches: int) -> float:
    workers = os.cpu_count() or 1
    loader = torch.utils.data.DataLoader(TwoViewPIL(images), batch_size=BATCH, shuffle=True,
                                         num_workers=workers, drop_last=True, persistent_workers=False)
    it = iter(loader)
    next(it)  # worker start-up is not counted
    t0 = time.perf_counter()
    for _ in range(batches):
        a, b = next(it)
    return batches * BATCH * 2 / (time.perf_counter() - t0)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_ours(images: torch.Tensor, batches: int, device) -> float:
    x_all = images.to(device)
    g = torch.Generator(device=device).manual_seed(0)
    idx = torch.randint(0, len(x_all), (batches + 1, BATCH), device=device)
    simsiam_augment(x_all[idx[0]], g)
    sync(device)
    t0 = time.perf_counter()
    for i in range(1, batches + 1):
        x = x_all[idx[i]]
        simsiam_augment(x, g), simsiam_augment(x, g)  # the two views of a step
    sync(device)
    return batches * BATCH * 2 / (time.perf_counter() - t0)


def time_train_step(images: torch.Tensor, steps: int, device) -> tuple[float, float]:
    """(two-view images/s of a cpu-profile SimSiam step without augmentation, peak memory MB)."""
    cfg = profile_config("cpu")
    model = build_model(cfg).to(device)
    loss_fn = build_loss(cfg)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator(device=device).manual_seed(0)
    x = images[:BATCH].to(device)
    views = [simsiam_augment(x, g), simsiam_augment(x, g)]
    def step():
        _, z = model(views)
        opt.zero_grad()
        loss_fn(z, model.predictor).backward()
        opt.step()
    step()
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    rate = steps * BATCH * 2 / (time.perf_counter() - t0)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return rate, peak


def write_json(result: dict, name: str, out_dir: str | None = None) -> Path:
    """<out_dir or results/benchmarks>/<name>, written to a temporary file and renamed (never
    half-written)."""
    out = Path(out_dir or ROOT / "results" / "benchmarks") / name
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(tmp, out)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3, help="timings per side; the best is kept")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--dataset", default="cifar10", help="cifar10, or synthetic for a plumbing check")
    ap.add_argument("--out", default=None, help="folder for the JSON (default results/benchmarks)")
    args = ap.parse_args()
    device = pick_device(args.device)
    data = load_dataset(args.dataset, args.data_dir)
    images = data.train_x[:20000]
    # best of `repeats` for both sides alike: a shared 2-core machine has noisy neighbours
    baseline = max(time_baseline(images, args.batches) for _ in range(args.repeats))
    ours = max(time_ours(images, args.batches, device) for _ in range(args.repeats))
    step_rate, peak = time_train_step(images, args.steps, device)
    aug_share = step_rate / (ours + step_rate)  # augmentation time / (augmentation + step) time
    result = {
        "device": device_name(device), "python": platform.python_version(), "torch": torch.__version__,
        "cpu_count": os.cpu_count(), "batch": BATCH, "views": 2, "batches": args.batches,
        "repeats": args.repeats,
        "data_source": data.source,
        "baseline_torchvision_pil_dataloader_images_per_s": baseline,
        "ours_batched_tensor_images_per_s": ours,
        "speedup_vs_baseline": ours / baseline,
        "cpu_profile_train_step_images_per_s": step_rate,
        "augmentation_share_of_step": aug_share,
        "peak_memory_mb": peak,
        "gpu_epoch_seconds": None,
        "gpu_note": "not measured: no GPU was lent to the session that ran this benchmark"
                    if device.type != "cuda" else "see benchmarks/gpu_epoch.py",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = write_json(result, f"input_pipeline-{device.type}.json", args.out)
    print(f"device: {result['device']}")
    print(f"two-view augmentation, batch {BATCH}:")
    print(f"  baseline torchvision PIL + DataLoader({os.cpu_count()} workers): {baseline:9.0f} images/s")
    print(f"  ours, batched on tensors:                       {ours:9.0f} images/s  "
          f"= {ours / baseline:.1f}x the baseline")
    print(f"cpu-profile SimSiam step (no augmentation): {step_rate:.0f} images/s, peak {peak:.0f} MB")
    print(f"augmentation share of a training step with ours: {100 * aug_share:.1f}%")
    print(f"GPU epoch time: {result['gpu_note']}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
