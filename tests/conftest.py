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


# the modules whose tests compare floating-point results against a tolerance or a formula: run again
# on ATen's portable kernels (`make test-kernels`), so that no tolerance fits one CPU's vector
# extensions.  The others assert plumbing (files, errors, locks, pages), no float thresholds.
NUMERIC_MODULES = {"test_accuracy", "test_augment", "test_decomposition", "test_decorrelation", "test_distributed",
                   "test_gradients", "test_losses", "test_registry", "test_reliability", "test_spectrum", "test_train"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in NUMERIC_MODULES:
            item.add_marker(pytest.mark.numerics)
