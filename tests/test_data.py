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
