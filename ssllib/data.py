"""Datasets as in-memory uint8 tensors, with their provenance.

Where the images come from, in order:
1. CIFAR-10 or CIFAR-100 from the offline archives `cifar10-jpeg.tar.xz` / `cifar100.tar.xz`
   (JPEG quality 75, ImageFolder layout; CIFAR-100's `classes.tsv` gives the 20 coarse labels),
   found through `$SSLLIB_DATA_DIR`, `--data-dir`, or `../shared/data` beside the repository.
   Each archive's sha256 is checked, and it is decoded once into a cache file under
   `$SSLLIB_CACHE` (default `~/.cache/ssllib`); nothing decoded is ever written into the repository.
2. torchvision's CIFAR-10 / CIFAR-100 download (the official pixels; needs a network) into
   `$SSLLIB_CACHE/torchvision`.
3. Otherwise: one clear error saying both ways failed.
`synthetic` is a tiny random dataset for the tests only.
"""
from __future__ import annotations

import hashlib
import io
import os
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .integrity import DIGEST_KEY, check_sealed, one_line, sealed
from .storage import atomic_torch_save, remove_stale_temps

ARCHIVE = "cifar10-jpeg.tar.xz"
ARCHIVE_SHA256 = "d7e5cf3d40e6038bc96c4efbb6f4611aaa7a8584d3140fb954bab4d5aebcba32"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                   "truck")


# CIFAR-100's superclass of each fine label 0-99 (the official table; classes.tsv in the offline
# archive gives the same), for the torchvision download, which keeps the fine labels only
CIFAR100_COARSE_OF_FINE = (
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3, 3, 14, 9, 18, 7, 11, 3, 9, 7, 11, 6, 11, 5, 10, 7, 6, 13, 15, 3, 15,
    0, 11, 1, 10, 12, 14, 16, 9, 11, 5, 5, 19, 8, 8, 15, 13, 14, 17, 18, 10, 16, 4, 17, 4, 2, 0, 17, 4,
    18, 17, 10, 3, 2, 12, 12, 16, 12, 1, 9, 19, 2, 10, 0, 1, 16, 12, 9, 13, 15, 13, 16, 19, 2, 4, 6, 19,
    5, 5, 8, 19, 18, 1, 2, 15, 6, 0, 17, 8, 14, 13)


@dataclass(frozen=True)
class OfflineArchive:
    """One offline copy in ../shared/data: its file, checksum, class count and how it is named."""
    file: str
    sha256: str
    num_classes: int
    label: str     # what a record's `source` says


OFFLINE = {
    "cifar10": OfflineArchive(ARCHIVE, ARCHIVE_SHA256, 10, "CIFAR-10"),
    "cifar100": OfflineArchive("cifar100.tar.xz",
                               "c5579378cdc0f1937573ecefdf596c990c6bf91c38e0366793685811eddc71d3",
                               100, "CIFAR-100"),
}
DATASETS = ("cifar10", "cifar100", "synthetic")
REPO_ROOT = Path(__file__).resolve().parent.parent


class DataError(RuntimeError):
    pass


@dataclass
class Dataset:
    train_x: torch.Tensor   # (N, 3, 32, 32) uint8
    train_y: torch.Tensor   # (N,) int64
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    source: str             # human-readable: where the pixels came from, and caveats
    sha256: str             # checksum of the source file(s)
    coarse_of_fine: tuple | None = None  # CIFAR-100: the superclass (0-19) of each fine label


def cache_dir() -> Path:
    """$SSLLIB_CACHE (an empty value counts as unset: never the working directory), else
    ~/.cache/ssllib; one DataError line when it cannot be made a folder."""
    d = Path(os.environ.get("SSLLIB_CACHE") or Path.home() / ".cache" / "ssllib")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot use {d} as the cache folder ($SSLLIB_CACHE): {e.strerror or e}") from None
    return d


def find_data_dir(data_dir: str | os.PathLike | None = None, archive: str = ARCHIVE) -> Path | None:
    """The folder holding the offline `archive`, or None."""
    candidates = [data_dir, os.environ.get("SSLLIB_DATA_DIR"), REPO_ROOT / "data",
                  REPO_ROOT.parent / "shared" / "data"]
    for c in candidates:
        if c and (Path(c) / archive).is_file():
            return Path(c)
    return None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _decode_archive(archive: Path, num_classes: int = 10) -> dict:
    """Decode every JPEG of the archive (well under a minute for 60,000 images).  Labels are the
    sorted class-folder names' ranks (the datasets' own label order, both CIFARs); CIFAR-100's
    `classes.tsv` must agree with that order and gives each fine class its coarse label."""
    from PIL import Image

    split = {"train": ([], []), "test": ([], [])}
    tsv = None
    with tarfile.open(archive, "r:xz") as tar:
        for member in tar:
            parts = Path(member.name).parts
            if member.isfile() and parts[-1] == "classes.tsv":
                tsv = tar.extractfile(member).read().decode()
            if not member.isfile() or not member.name.endswith(".jpg") or len(parts) < 3:
                continue
            which, cls = parts[-3], parts[-2]
            if which not in split:
                continue
            img = Image.open(io.BytesIO(tar.extractfile(member).read())).convert("RGB")
            split[which][0].append((member.name, np.asarray(img, dtype=np.uint8)))
            split[which][1].append(cls)
    names = sorted(set(split["train"][1]))
    if num_classes == 10 and tuple(names) != CIFAR10_CLASSES:
        raise DataError(f"{archive}: class folders {names[:3]}... are not CIFAR-10's {CIFAR10_CLASSES[:3]}...")
    if len(names) != num_classes or sorted(set(split["test"][1])) != names:
        raise DataError(f"{archive}: expected {num_classes} classes in train/ and test/, found "
                        f"{len(names)} and {len(set(split['test'][1]))}")
    index = {c: i for i, c in enumerate(names)}
    out = {}
    for which, (imgs, classes) in split.items():
        order = sorted(range(len(imgs)), key=lambda i: imgs[i][0])  # deterministic order
        x = np.stack([imgs[i][1] for i in order]).transpose(0, 3, 1, 2)
        out[f"{which}_x"] = torch.from_numpy(np.ascontiguousarray(x))
        out[f"{which}_y"] = torch.tensor([index[classes[i]] for i in order], dtype=torch.int64)
    if len(out["train_y"]) != 50000 or len(out["test_y"]) != 10000:
        raise DataError(f"{archive}: expected 50000/10000 images, found "
                        f"{len(out['train_y'])}/{len(out['test_y'])}")
    if tsv is not None:
        out["coarse_of_fine"] = _coarse_labels(tsv, names, archive)
    return out


def _coarse_labels(tsv: str, names: list, archive: Path) -> torch.Tensor:
    """The fine-to-coarse map from CIFAR-100's classes.tsv, checked against the folder order."""
    rows = [line.split("\t") for line in tsv.strip().splitlines()[1:]]
    fine = {int(r[0]): r[1] for r in rows}
    if [fine.get(i) for i in range(len(names))] != names:
        raise DataError(f"{archive}: classes.tsv's fine names do not match the class folders' order")
    return torch.tensor([int(r[2]) for r in sorted(rows, key=lambda r: int(r[0]))], dtype=torch.int64)


def balanced_subset(labels: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """Indices of a fixed, seeded, class-balanced sample of n images (class counts differ by at
    most one where every class has enough images): each class's indices in a seeded random order,
    interleaved class by class, and the first n taken.  The offline archive is decoded class by
    class, so `[:n]` would be one class (the first 5,000 images are all airplanes)."""
    g = torch.Generator().manual_seed(seed)
    per_class = [idx[torch.randperm(len(idx), generator=g)]
                 for idx in (torch.nonzero(labels == c).flatten() for c in labels.unique())]
    rank = torch.empty(len(labels), dtype=torch.long)  # position of each image within its class
    for idx in per_class:
        rank[idx] = torch.arange(len(idx))
    order = torch.cat(per_class)  # grouped by class; a stable sort by rank interleaves the classes
    return order[torch.argsort(rank[order], stable=True)][:n]


def load_offline(name: str, data_dir: Path) -> Dataset:
    """CIFAR-10 / CIFAR-100 from its offline archive in `data_dir`: sha256 checked, decoded once
    into a sealed cache file, which is checked on every read and rebuilt when damaged."""
    spec = OFFLINE[name]
    archive = data_dir / spec.file
    digest = sha256_file(archive)
    if digest != spec.sha256:
        raise DataError(f"{archive}: sha256 {digest} does not match the expected {spec.sha256}; "
                        "the archive is damaged or not the one the project was built on")
    source = f"{spec.label}, offline JPEG-q75 copy ({spec.file}); not the official pixels"
    stem = spec.file.split(".")[0]
    cached = cache_dir() / f"{stem}-{digest[:12]}.pt"
    remove_stale_temps(cached.parent)  # a decode killed mid-write leaves a 185 MB temp file
    keys = {"train_x", "train_y", "test_x", "test_y"} | ({"coarse_of_fine"} if name == "cifar100" else set())
    if cached.is_file():
        try:  # a damaged, edited or partial cache is reported and rebuilt, never trusted
            t = check_sealed(torch.load(cached, weights_only=True), "decoded data cache")
            t.pop(DIGEST_KEY)
            if set(t) != keys or len(t["train_y"]) != 50000 or len(t["test_y"]) != 10000 \
                    or len(t["train_x"]) != 50000 or len(t["test_x"]) != 10000 \
                    or int(t["train_y"].max()) >= spec.num_classes:
                raise ValueError(f"it does not hold the 50,000 + 10,000 images of {spec.file}")
            return _dataset(t, spec, digest, source)
        except Exception as e:  # noqa: BLE001
            print(f"decoded data cache {cached} not used ({one_line(e)}); decoding {spec.file} again",
                  file=sys.stderr)
    t = _decode_archive(archive, spec.num_classes)
    atomic_torch_save(sealed(t), cached)
    return _dataset(t, spec, digest, source)


def _dataset(t: dict, spec: OfflineArchive, digest: str, source: str) -> Dataset:
    coarse = t.get("coarse_of_fine")
    return Dataset(t["train_x"], t["train_y"], t["test_x"], t["test_y"], num_classes=spec.num_classes,
                   sha256=digest, source=source,
                   coarse_of_fine=None if coarse is None else tuple(int(c) for c in coarse))


def load_offline_cifar10(data_dir: Path) -> Dataset:
    return load_offline("cifar10", data_dir)


def load_torchvision(name: str) -> Dataset:
    import torchvision

    cls = {"cifar10": torchvision.datasets.CIFAR10, "cifar100": torchvision.datasets.CIFAR100}[name]
    root = cache_dir() / "torchvision"
    try:
        tr, te = cls(root, train=True, download=True), cls(root, train=False, download=True)
    except Exception as e:  # no network, no archive
        raise DataError(f"dataset {name!r}: no offline archive ({OFFLINE[name].file} in $SSLLIB_DATA_DIR or "
                        f"../shared/data) and the torchvision download failed: {e}") from None
    def to_t(ds):
        return (torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous(),
                torch.tensor(ds.targets, dtype=torch.int64))
    (trx, try_), (tex, tey) = to_t(tr), to_t(te)
    files = sorted(p for p in root.rglob("*.tar.gz"))
    digest = sha256_file(files[0]) if files else "unknown"
    coarse = None
    if name == "cifar100":  # torchvision keeps only the fine labels; the superclass table is the standard one
        coarse = tuple(CIFAR100_COARSE_OF_FINE)
    return Dataset(trx, try_, tex, tey, num_classes=len(tr.classes), sha256=digest,
                   source=f"{name.upper()}, official torchvision download", coarse_of_fine=coarse)


def synthetic(n_train: int = 512, n_test: int = 256, num_classes: int = 10, seed: int = 0) -> Dataset:
    """Random class-dependent colour blobs: for tests only, never for reported results."""
    g = torch.Generator().manual_seed(seed)
    def make(n):
        y = torch.randint(0, num_classes, (n,), generator=g)
        base = (y.float()[:, None, None, None] / num_classes * 255)
        noise = torch.rand(n, 3, 32, 32, generator=g) * 80
        return (base * 0.7 + noise).clamp(0, 255).to(torch.uint8), y
    (trx, try_), (tex, tey) = make(n_train), make(n_test)
    return Dataset(trx, try_, tex, tey, num_classes, source="synthetic (tests only)", sha256="none")


def load_dataset(name: str, data_dir: str | os.PathLike | None = None) -> Dataset:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; allowed: {', '.join(DATASETS)}")
    if name == "synthetic":
        return synthetic()
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataError(f"--data-dir {str(data_dir)!r} is not a folder; give the folder holding {ARCHIVE}, "
                        "or leave it out to use $SSLLIB_DATA_DIR or ../shared/data")
    found = find_data_dir(data_dir, OFFLINE[name].file)
    if found is not None:
        return load_offline(name, found)
    return load_torchvision(name)
