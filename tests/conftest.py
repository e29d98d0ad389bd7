import pytest
import torch

from ssllib.config import profile_config


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Every test writes results and checkpoints into its own temporary folders."""
    monkeypatch.setenv("SSLLIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("SSLLIB_CHECKPOINTS", str(tmp_path / "ckpt"))
    torch.manual_seed(0)


@pytest.fixture
def tiny():
    """A seconds-long config on the synthetic dataset."""
    return profile_config("smoke", dataset="synthetic", train_subset=128, batch_size=16, epochs=1.0,
                          eval_train_size=128, eval_test_size=64, knn_k=5, log_every=1, ckpt_every=2)
