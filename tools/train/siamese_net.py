# The Siamese tracker's backbone (`models/default/tracker.onnx`, SiamFC family): one fully convolutional net shared
# by the 64×64 exemplar crop and the 128×128 search crop; the response map is the plain cross-correlation of the
# exemplar's features over the search crop's, times a learned scale plus a learned bias (computed outside the
# graph: in Swift at run time, here in torch for training).
#
# No convolution or pooling pads, so the features are translation-equivariant: moving the input by 8 pixels moves
# the features by one cell. With the sizes below, 64 → 4×4 exemplar features, 128 → 12×12 search features and a
# 9×9 response whose centre cell (4, 4) means "the target is at the search crop's centre"; cell (u, v) means a
# displacement of ((v − 4)·8, (u − 4)·8) search-crop pixels (row u, column v).
#
#   conv 5×5 /2 (3→16) BN ReLU · maxpool 2×2 /2 · conv 3×3 (16→48) BN ReLU · maxpool 2×2 /2 ·
#   conv 3×3 (48→128) BN ReLU · conv 1×1 (128→128) BN            receptive field 35 px, total stride 8
#
# Exported ops: Conv (BatchNorm folded), Relu, MaxPool. Input pixels are RGB in 0…1; the normalisation (mean 0.45,
# std 0.225) is folded into the first convolution at export, so the graph takes the 0…1 pixels as they are.
import torch
import torch.nn as nn
import torch.nn.functional as F

EXEMPLAR = 64
SEARCH = 128
STRIDE = 8
MEAN, STD = 0.45, 0.225


def conv_bn(cin: int, cout: int, k: int, s: int = 1, relu: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, k, s, 0, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class SiameseNet(nn.Module):
    """features(x): (N, 3, H, W) RGB 0…1 → (N, 128, (H − 32)/8 − …) — see the file comment for the sizes."""

    def __init__(self, widths: tuple = (16, 48, 128, 128)):
        super().__init__()
        c1, c2, c3, c4 = widths
        self.backbone = nn.Sequential(
            conv_bn(3, c1, 5, 2), nn.MaxPool2d(2, 2),
            conv_bn(c1, c2, 3), nn.MaxPool2d(2, 2),
            conv_bn(c2, c3, 3),
            conv_bn(c3, c4, 1, relu=False))
        # logits = scale · correlation + bias; a correlation of unit-variance features over 4·4·128 terms is
        # O(100), so the scale starts small.
        self.scale = nn.Parameter(torch.tensor(0.01))
        self.bias = nn.Parameter(torch.tensor(-2.0))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone((x - MEAN) / STD)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def response(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, 1, 9, 9): exemplar features z (B, C, h, w) correlated over search features x (B, C, H, W),
        pair by pair (a grouped convolution = F.conv2d(x[i:i+1], z[i:i+1]) for each i)."""
        b, c, h, w = x.shape
        r = F.conv2d(x.reshape(1, b * c, h, w), z, groups=b)
        return r.reshape(b, 1, r.shape[-2], r.shape[-1]) * self.scale + self.bias


class Exported(nn.Module):
    """The graph written to ONNX: the backbone with the input normalisation folded into the first convolution."""

    def __init__(self, net: SiameseNet):
        super().__init__()
        import copy
        self.backbone = copy.deepcopy(net.backbone).eval()
        conv = self.backbone[0][0]
        with torch.no_grad():
            # conv((x − m)/s) = conv'(x) with W' = W/s and an added bias −Σ W·m/s.
            w = conv.weight / STD
            bias = -(w * MEAN).sum(dim=(1, 2, 3))
            folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, 0, bias=True)
            folded.weight.copy_(w)
            folded.bias.copy_(bias)
        self.backbone[0][0] = folded

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.backbone(image)


def feature_size(n: int) -> int:
    """Feature side for an input side n (exemplar 64 → 4, search 128 → 12)."""
    n = (n - 5) // 2 + 1
    n //= 2
    n = n - 2
    n //= 2
    return n - 2


def macs(net: nn.Module, side: int) -> int:
    """Multiply-adds of the backbone on one side×side crop (convolutions only)."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        total += out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        net.eval()(torch.zeros(1, 3, side, side))
    for h in handles:
        h.remove()
    return total
