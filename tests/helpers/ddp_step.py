"""Run by tests/test_distributed.py, in one process or under torchrun: K training steps of a smoke
config from the same seed; rank 0 saves the model's state (parameters and BN buffers)."""
import sys

import torch

from ssllib.config import profile_config
from ssllib.data import synthetic
from ssllib.train import Trainer

out, steps, loss = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cfg = profile_config("smoke", dataset="synthetic", fast="off", loss=loss,
                     predictor="none" if loss == "naive_siamese" else "mlp")
trainer = Trainer(cfg, synthetic())
for _ in range(steps):
    trainer.train_step()
if trainer.rank == 0:
    torch.save({k: v.detach().clone() for k, v in trainer.model.state_dict().items()}, out)
