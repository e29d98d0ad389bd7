"""Datasets: the offline archive (when present), and one clear error when nothing is available."""
import pytest
import torch

from ssllib import data


def test_synthetic_is_uint8_nchw():
    d = data.synthetic(n_train=10, n_test=5)
    assert d.train_x.dtype == torch.uint8 and d.train_x.shape == (10, 3, 32, 32)
    assert d.test_y.shape == (5,) and "tests only" in d.source


@pytest.mark.skipif(data.find_data_dir() is None, reason="offline archive not present")
def test_offline_archive_is_real_cifar10():
    d = data.load_dataset("cifar10")
    assert d.train_x.shape == (50000, 3, 32, 32) and d.test_x.shape == (10000, 3, 32, 32)
    assert torch.bincount(d.train_y).tolist() == [5000] * 10
    assert d.sha256 == data.ARCHIVE_SHA256 and "JPEG-q75" in d.source


def test_no_archive_and_no_network_is_one_clear_error(monkeypatch, tmp_path):
    import torchvision

    monkeypatch.setattr(data, "find_data_dir", lambda *a: None)
    monkeypatch.setenv("SSLLIB_CACHE", str(tmp_path))
    def offline(*a, **k):
        raise RuntimeError("network unreachable")
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(data.DataError, match="no offline archive .* download failed"):
        data.load_dataset("cifar10")
    with pytest.raises(data.DataError, match="allowed: cifar10, cifar100, synthetic"):
        data.load_dataset("imagenet")


def test_wrong_checksum_is_refused(tmp_path):
    (tmp_path / data.ARCHIVE).write_bytes(b"not the archive")
    with pytest.raises(data.DataError, match="sha256"):
        data.load_offline_cifar10(tmp_path)


def test_a_subset_is_class_balanced_fixed_and_the_same_for_every_seed():
    """The archive is decoded class by class, so the first n images are one class; a
    training subset must hold every class equally, whatever n, and not depend on the run seed."""
    labels = torch.arange(10).repeat_interleave(500)  # class-sorted, like the decoded archive
    for n in (10, 256, 1000, 1503, 4999):
        idx = data.balanced_subset(labels, n)
        counts = torch.bincount(labels[idx], minlength=10)
        assert len(idx.unique()) == n and counts.max() - counts.min() <= 1, (n, counts)
    assert torch.equal(data.balanced_subset(labels, 300), data.balanced_subset(labels, 300))
    uneven = torch.tensor([0] * 5 + [1] * 100)
    assert torch.bincount(uneven[data.balanced_subset(uneven, 50)]).tolist() == [5, 45]


def test_the_trainer_trains_on_a_balanced_subset():
    from ssllib.config import profile_config
    from ssllib.train import Trainer

    d = data.synthetic(n_train=512)
    order = torch.argsort(d.train_y, stable=True)  # sort by class, as the archive is
    d.train_x, d.train_y = d.train_x[order], d.train_y[order]
    for seed in (0, 1):
        t = Trainer(profile_config("smoke", dataset="synthetic", train_subset=100, seed=seed), d)
        counts = torch.bincount(t.train_y, minlength=10)
        assert counts.sum() == 100 and counts.max() - counts.min() <= 1


@pytest.mark.skipif(data.find_data_dir(archive=data.OFFLINE["cifar100"].file) is None,
                    reason="offline CIFAR-100 archive not present")
def test_offline_cifar100_has_100_fine_classes_in_order_and_its_coarse_labels():
    d = data.load_dataset("cifar100")
    assert d.train_x.shape == (50000, 3, 32, 32) and d.test_x.shape == (10000, 3, 32, 32)
    assert torch.bincount(d.train_y).tolist() == [500] * 100
    assert torch.bincount(d.test_y).tolist() == [100] * 100
    assert d.num_classes == 100 and d.sha256 == data.OFFLINE["cifar100"].sha256
    assert "CIFAR-100" in d.source and "JPEG-q75" in d.source
    # classes.tsv's superclasses equal the official table the torchvision path uses
    assert d.coarse_of_fine == data.CIFAR100_COARSE_OF_FINE
    assert sorted(set(d.coarse_of_fine)) == list(range(20))
    # the data README: test image 0 of the official order is test/mountain/volcano_s_000012.jpg;
    # 'mountain' is fine label 49 in the standard order
    assert d.coarse_of_fine[49] == 10  # large_natural_outdoor_scenes


def test_a_damaged_cifar100_archive_is_one_clear_line(tmp_path):
    (tmp_path / "cifar100.tar.xz").write_bytes(b"truncated")
    with pytest.raises(data.DataError, match=r"cifar100.tar.xz: sha256 .* does not match"):
        data.load_dataset("cifar100", data_dir=tmp_path)


def test_the_cache_folder_is_never_the_working_directory_and_a_killed_decode_leaves_nothing(
        tmp_path, monkeypatch):
    """SSLLIB_CACHE="" wrote 177 MB into the working directory; a kill while the decoded
    cache was written left its temp file forever; a cache path under a file was a traceback."""
    import subprocess
    import sys

    monkeypatch.setenv("SSLLIB_CACHE", "")
    assert data.cache_dir() == data.Path.home() / ".cache" / "ssllib"
    monkeypatch.setenv("SSLLIB_CACHE", str(tmp_path / "cache"))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (tmp_path / "cache").mkdir()
    leftover = tmp_path / "cache" / f"cifar100-c5579378cdc0.pt.tmp{dead}"
    leftover.write_bytes(b"half a cache")
    (tmp_path / "cifar100.tar.xz").write_bytes(b"stand-in")
    monkeypatch.setattr(data, "sha256_file", lambda path: data.OFFLINE["cifar100"].sha256)
    monkeypatch.setattr(data, "_decode_archive", lambda archive, n=10: (_ for _ in ()).throw(data.DataError("x")))
    with pytest.raises(data.DataError):
        data.load_offline("cifar100", tmp_path)
    assert not leftover.exists()
    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("SSLLIB_CACHE", str(tmp_path / "afile" / "cache"))
    with pytest.raises(data.DataError, match="cannot use .* as the cache folder"):
        data.cache_dir()
