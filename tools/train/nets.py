# The three default action networks: small enough to train on a 2-core CPU, and built only from ops the
# actiond engine runs (Conv, BatchNormalization folded at export, Relu, MaxPool, GlobalAveragePool, Flatten,
# Gemm, Reshape, Transpose, GRU, Squeeze) at ONNX opset 17 through the TorchScript exporter.
import torch
from torch import nn


def conv_bn_relu(conv: nn.Module, channels: int, bn: type) -> nn.Sequential:
    return nn.Sequential(conv, bn(channels), nn.ReLU(inplace=True))


class Conv2Plus1D(nn.Sequential):
    """R(2+1)D factorisation: a (1, k, k) spatial conv, BN, ReLU, then a (3, 1, 1) temporal conv."""

    def __init__(self, cin: int, cout: int, spatial_stride: int, temporal_stride: int):
        mid = max(cout, cin)
        super().__init__(
            nn.Conv3d(cin, mid, (1, 3, 3), (1, spatial_stride, spatial_stride), (0, 1, 1), bias=False),
            nn.BatchNorm3d(mid),
            nn.ReLU(inplace=True),
            nn.Conv3d(mid, cout, (3, 1, 1), (temporal_stride, 1, 1), (1, 0, 0), bias=False),
        )


class Block2Plus1D(nn.Module):
    """Residual block of two (2+1)D convs, as in torchvision's r2plus1d_18 but narrower."""

    def __init__(self, cin: int, cout: int, spatial_stride: int, temporal_stride: int):
        super().__init__()
        self.a = Conv2Plus1D(cin, cout, spatial_stride, temporal_stride)
        self.bn_a = nn.BatchNorm3d(cout)
        self.b = Conv2Plus1D(cout, cout, 1, 1)
        self.bn_b = nn.BatchNorm3d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = None
        if cin != cout or spatial_stride != 1 or temporal_stride != 1:
            self.shortcut = nn.Sequential(
                nn.Conv3d(cin, cout, 1, (temporal_stride, spatial_stride, spatial_stride), bias=False),
                nn.BatchNorm3d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn_a(self.a(x)))
        y = self.bn_b(self.b(y))
        return self.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class R2Plus1DSmall(nn.Module):
    """Small R(2+1)D-style 3D CNN over NCTHW clips (e.g. 3 × 8 × 64 × 64)."""

    def __init__(self, classes: int, width: int = 12, dropout: float = 0.3):
        super().__init__()
        w = width
        # A 7×7 stride-4 spatial stem keeps the CPU cost low: the rendered people are large and smooth.
        self.stem = nn.Sequential(
            nn.Conv3d(3, w, (1, 7, 7), (1, 4, 4), (0, 3, 3), bias=False), nn.BatchNorm3d(w), nn.ReLU(inplace=True),
            nn.Conv3d(w, w, (3, 1, 1), 1, (1, 0, 0), bias=False), nn.BatchNorm3d(w), nn.ReLU(inplace=True))
        self.layers = nn.Sequential(
            Block2Plus1D(w, 2 * w, 2, 1),
            Block2Plus1D(2 * w, 4 * w, 2, 2),
            Block2Plus1D(4 * w, 8 * w, 2, 2))
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(8 * w, classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.layers(self.stem(clip))).flatten(1)
        return self.fc(self.drop(x))


class BasicBlock2D(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = None
        if cin != cout or stride != 1:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return self.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class Backbone2D(nn.Module):
    """ResNet-like 2D trunk for 64 × 64 inputs (7×7 stride-4 stem): 8·width features after global pooling."""

    def __init__(self, in_channels: int, width: int = 12):
        super().__init__()
        w = width
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, w, 7, 4, 3, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True))
        self.layers = nn.Sequential(
            BasicBlock2D(w, 2 * w, 2), BasicBlock2D(2 * w, 4 * w, 2), BasicBlock2D(4 * w, 8 * w, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.features = 8 * w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.layers(self.stem(x))).flatten(1)


class Classifier2D(nn.Module):
    """Two-stream half: an RGB net on one frame (C = 3) or a flow net on 2·L stacked fields (C = 2L); NCHW."""

    def __init__(self, in_channels: int, classes: int, width: int = 12, dropout: float = 0.3):
        super().__init__()
        self.backbone = Backbone2D(in_channels, width)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(self.backbone.features, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.drop(self.backbone(x)))


class CnnGru(nn.Module):
    """Per-frame 2D CNN + GRU over NTCHW clips, exported as one graph; classifies the last hidden state.

    With `motion`, each frame is encoded together with its difference to the previous frame (6 channels; the
    first frame takes the first difference): on 480 training clips a per-frame encoder of appearance alone
    memorised the clips (97 % train, 15 % test), the difference channels make it see movement."""

    def __init__(self, classes: int, frames: int, width: int = 12, hidden: int = 64, dropout: float = 0.3,
                 motion: bool = True):
        super().__init__()
        self.frames = frames
        self.motion = motion
        self.encoder = Backbone2D(6 if motion else 3, width)
        self.gru = nn.GRU(self.encoder.features, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        if self.motion:
            diff = clip[:, 1:] - clip[:, :-1]
            clip = torch.cat([clip, torch.cat([diff[:, :1], diff], dim=1)], dim=2)    # [N, T, 6, H, W]
        c, h, w = clip.shape[2], clip.shape[3], clip.shape[4]
        f = self.encoder(clip.reshape(-1, c, h, w))          # [N·T, F]
        f = f.reshape(-1, self.frames, f.shape[1])            # [N, T, F]
        _, last = self.gru(f)                                 # [1, N, H]
        return self.fc(self.drop(last[0]))


def build(kind: str, classes: int, frames: int, flow_stack: int = 0) -> dict:
    """The networks of one model card, by card kind: {'main': net} or {'rgb': net, 'flow': net}."""
    if kind == "3d":
        return {"main": R2Plus1DSmall(classes)}
    if kind == "cnn-rnn":
        return {"main": CnnGru(classes, frames)}
    if kind == "two-stream":
        return {"rgb": Classifier2D(3, classes), "flow": Classifier2D(2 * flow_stack, classes)}
    raise ValueError(f"unknown model kind {kind!r}")
