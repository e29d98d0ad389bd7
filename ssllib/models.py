"""Encoders, projector and predictors, each registered by name (timm-style registries).

Appendix A.1: backbone ResNet-18 (CIFAR variant: 3x3 stem, no max-pool); projector
FC+BN+ReLU+FC+BN+ReLU+FC+BN; predictor FC+BN+ReLU+FC with a bottleneck (2048-512-2048).
The SimSiam model itself (`SiameseNet`) is one small module, like simsiam/builder.py: it returns
the backbone features and the projections z of every view; where the predictor is applied, and
where the gradient stops, is the loss variant's business (`ssllib.losses`).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

ENCODERS: dict = {}
PREDICTORS: dict = {}


def register(registry: dict, name: str):
    def deco(fn):
        registry[name] = fn
        return fn
    return deco


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet for 32x32 inputs: 3x3 stride-1 stem, no max-pool, stages of width w, 2w, 4w, 8w."""

    def __init__(self, blocks=(2, 2, 2, 2), width: int = 64):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True))
        layers, c_in = [], width
        for i, n in enumerate(blocks):
            c_out = width * 2 ** i
            for j in range(n):
                layers.append(BasicBlock(c_in, c_out, stride=2 if (i > 0 and j == 0) else 1))
                c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.out_dim = c_in

    def forward(self, x):
        return torch.flatten(F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1), 1)


@register(ENCODERS, "resnet18")
def resnet18(width: int = 64) -> CifarResNet:
    return CifarResNet((2, 2, 2, 2), width)


class Pixels(nn.Module):
    """The control "raw normalised pixels": the input image itself, flattened, as the features
    (nothing to train; used with 0 steps so the same kNN / linear probes read the pixels)."""

    def __init__(self, width: int = 0):
        super().__init__()
        self.out_dim = 3 * 32 * 32

    def forward(self, x):
        return x.flatten(1)


@register(ENCODERS, "pixels")
def pixels(width: int = 0) -> Pixels:
    return Pixels(width)


def fc_bn(c_in: int, c_out: int, bn: bool, relu: bool) -> list:
    """FC (+ BN) (+ ReLU); the FC has a bias only where no BN follows it."""
    return [nn.Linear(c_in, c_out, bias=not bn), *([nn.BatchNorm1d(c_out)] if bn else []),
            *([nn.ReLU(True)] if relu else [])]


def projector(in_dim: int, hidden: int, out: int, last_bn: bool = True, hidden_bn: bool = True,
              last_affine: bool = True) -> nn.Sequential:
    """A.1: FC1 + BN + ReLU + FC2 + BN + ReLU + FC3 + BN (last_bn=False: FC3 with a bias, no BN,
    Section 4's "no final BN"; hidden_bn=False: no BN after FC1, FC2, Chen & He Table 3a).
    last_affine=False: the reference head (Chen & He's builder.py, solo-learn), whose final
    BatchNorm1d(affine=False) has no learnable shift that could put back the centre it removes
    (their FC3's frozen bias is removed by that BN's mean, so FC3 here has none)."""
    last = [nn.Linear(hidden, out, bias=False), nn.BatchNorm1d(out, affine=False)] if last_bn and not last_affine \
        else fc_bn(hidden, out, last_bn, False)
    return nn.Sequential(*fc_bn(in_dim, hidden, hidden_bn, True), *fc_bn(hidden, hidden, hidden_bn, True), *last)


@register(PREDICTORS, "mlp")
def mlp_predictor(dim: int, hidden: int, hidden_bn: bool = True, out_bn: bool = False) -> nn.Module:
    """A.1 / SimSiam: FC1 + BN + ReLU + FC2, bottleneck `hidden` (2048-512-2048 in the paper).
    hidden_bn / out_bn: Chen & He's Table 3 BN variants."""
    return nn.Sequential(*fc_bn(dim, hidden, hidden_bn, True), *fc_bn(hidden, dim, out_bn, False))


@register(PREDICTORS, "none")
def no_predictor(dim: int, hidden: int) -> nn.Module:
    """Identity: the architectures without predictor (Naive Siamese, Fig. 2a)."""
    return nn.Identity()


@register(PREDICTORS, "fc_fc_bias")
def two_fc_predictor(dim: int, hidden: int) -> nn.Module:
    """Table 5 "Two FC": FC + FC + bias, i.e. the MLP predictor without its BN and ReLU."""
    return nn.Sequential(nn.Linear(dim, hidden, bias=False), nn.Linear(hidden, dim))


class TanhLinear(nn.Module):
    """Table 5 "One FC": a single FC layer whose weights are constrained by a Tanh.  We read
    "apply a Tanh layer to constrain the FC weight values" as the parametrisation W = tanh(V)."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(dim, dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)

    def forward(self, z):
        return F.linear(z, torch.tanh(self.weight), self.bias)


@register(PREDICTORS, "tanh_fc")
def tanh_fc_predictor(dim: int, hidden: int) -> nn.Module:
    """Our first reading of Table 5's "One FC" (W = tanh(V)); kept so that the records it trained
    stay reproducible.  Table 5 now uses the authors' clamp, `tanh_clamped_fc`."""
    return TanhLinear(dim)


class ClampedTanhLinear(nn.Module):
    """Table 5 "One FC: Tanh(FC)" as the authors' code runs it (solo-learn fork, new_predictor.py,
    BiasLayer with a weight matrix, no bias, constrain "tanh"): at every forward the stored weight
    is overwritten by tanh(0.5 W), outside autograd (an assignment to `.data`, as theirs), and then
    applied: z -> W z.  Repeated, the clamp pulls W towards 0; the gradient pushes back."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(nn.Linear(dim, dim, bias=False).weight.detach().clone())

    def forward(self, z):
        self.weight.data = torch.tanh(0.5 * self.weight.data)
        return F.linear(z, self.weight)


@register(PREDICTORS, "tanh_clamped_fc")
def tanh_clamped_fc_predictor(dim: int, hidden: int) -> nn.Module:
    return ClampedTanhLinear(dim)


class BiasOnly(nn.Module):
    """Table 5 "One bias": p = z + b.  Section 4 / A.8: b learns the centre, b ~ ((1-m)/m) o_z."""

    def __init__(self, dim: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, z):
        return z + self.bias


@register(PREDICTORS, "bias")
def bias_predictor(dim: int, hidden: int) -> nn.Module:
    return BiasOnly(dim)


def last_bias(predictor: nn.Module) -> torch.Tensor | None:
    """The predictor's output bias (Table 6 compares it with the centre o_z), if it has one."""
    last = predictor[-1] if isinstance(predictor, nn.Sequential) else predictor
    b = getattr(last, "bias", None)
    return b.detach() if isinstance(b, torch.Tensor) else None


class SiameseNet(nn.Module):
    """backbone -> projector gives z (the paper's encoder f); predictor h maps z to p."""

    def __init__(self, encoder: str, width: int, proj_hidden: int, proj_dim: int, predictor: str,
                 pred_hidden: int, normalize_z: bool = False, proj_last_bn: bool = True,
                 head_bn: str = "default", proj_last_bn_affine: bool = True):
        super().__init__()
        self.normalize_z = normalize_z  # Section 4 / Table 5: l2-normalised encoder output
        self.backbone = ENCODERS[encoder](width)
        # Chen & He Table 3: (a) "none", (b) "hidden", (c) "default" (A.1), (d) "all" (+ BN on p)
        hidden_bn = head_bn != "none"
        self.projector = projector(self.backbone.out_dim, proj_hidden, proj_dim,
                                   proj_last_bn and head_bn in ("default", "all"), hidden_bn, proj_last_bn_affine)
        kw = dict(hidden_bn=hidden_bn, out_bn=head_bn == "all") if predictor == "mlp" else {}
        self.predictor = PREDICTORS[predictor](proj_dim, pred_hidden, **kw)

    def forward(self, views: list[torch.Tensor]):
        """Returns the backbone features of each view and the projections z of each view."""
        feats = [self.backbone(v) for v in views]  # one pass per view, as simsiam/builder.py:
        z = [self.projector(f) for f in feats]      # BN statistics are per view
        return feats, [F.normalize(v, dim=1) for v in z] if self.normalize_z else z


def build_model(cfg) -> SiameseNet:
    return SiameseNet(cfg.encoder, cfg.width, cfg.proj_hidden, cfg.proj_dim, cfg.predictor,
                      cfg.pred_hidden, cfg.normalize_z, cfg.proj_last_bn, cfg.head_bn, cfg.proj_last_bn_affine)
