# The default person detector with COCO-17 keypoints: one small anchor-free network whose exported graph
# ends in Ultralytics' pose head format, so actiond decodes it with the same code as a YOLOv8/YOLO11 pose
# export: output (1, 4 + 1 + 17·3, N) = cx, cy, w, h (input pixels), person score (sigmoid), then 17 × (x, y,
# visibility score) per candidate, N = candidates over the three strides.
#
# Backbone: plain 3×3 conv + BN + ReLU stages with residual blocks (strides 2…32); neck: top-down feature
# pyramid (nearest upsample + concat + 3×3 conv); heads at strides 8, 16 and 32, one branch for box + score
# and one for keypoints. Only Conv, Relu, Add, Resize, Concat, Reshape, Sigmoid, Softplus, Mul, Sub, Slice
# after export (BatchNormalization folds into the convolutions).
import torch
import torch.nn as nn
import torch.nn.functional as F

KEYPOINTS = 17
STRIDES = (8, 16, 32)
ROWS = 4 + 1 + 3 * KEYPOINTS


def cbr(cin: int, cout: int, k: int = 3, s: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Residual(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.a = cbr(c, c)
        self.b = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.b(self.a(x)))


class Head(nn.Module):
    """Raw per-cell outputs at one stride: 4 box distances, 1 score logit, 17 × (dx, dy, visibility logit)."""

    def __init__(self, c: int):
        super().__init__()
        self.box = nn.Sequential(cbr(c, c), nn.Conv2d(c, 5, 1))
        self.kpt = nn.Sequential(cbr(c, c), cbr(c, c), nn.Conv2d(c, 3 * KEYPOINTS, 1))
        nn.init.constant_(self.box[-1].bias, 0.0)
        with torch.no_grad():
            self.box[-1].bias[4] = -4.6  # prior score 0.01
            self.kpt[-1].weight.mul_(0.1)
            self.kpt[-1].bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.box(x), self.kpt(x)], 1)


class PeopleNet(nn.Module):
    def __init__(self, width: tuple = (16, 24, 32, 48, 64), neck: tuple = (24, 32, 48)):
        super().__init__()
        w = width
        self.stem = cbr(3, w[0], 3, 2)
        self.s4 = cbr(w[0], w[1], 3, 2)
        self.s8 = nn.Sequential(cbr(w[1], w[2], 3, 2), Residual(w[2]))
        self.s16 = nn.Sequential(cbr(w[2], w[3], 3, 2), Residual(w[3]), Residual(w[3]))
        self.s32 = nn.Sequential(cbr(w[3], w[4], 3, 2), Residual(w[4]))
        self.lat32 = cbr(w[4], neck[2], 1)
        self.lat16 = cbr(w[3] + neck[2], neck[1])
        self.lat8 = cbr(w[2] + neck[1], neck[0])
        self.heads = nn.ModuleList([Head(neck[0]), Head(neck[1]), Head(neck[2])])
        self.grid_cache = {}

    def raw(self, x: torch.Tensor) -> list:
        c8 = self.s8(self.s4(self.stem(x)))
        c16 = self.s16(c8)
        c32 = self.s32(c16)
        p32 = self.lat32(c32)
        p16 = self.lat16(torch.cat([F.interpolate(p32, scale_factor=2.0, mode="nearest"), c16], 1))
        p8 = self.lat8(torch.cat([F.interpolate(p16, scale_factor=2.0, mode="nearest"), c8], 1))
        return [h(p) for h, p in zip(self.heads, (p8, p16, p32))]

    def grid(self, shapes: list, device) -> tuple:
        """Anchor centres (2, N) in input pixels and the stride of each (1, N)."""
        key = tuple(shapes)
        if key not in self.grid_cache:
            centres, strides = [], []
            for (h, w), s in zip(shapes, STRIDES):
                ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                                        indexing="ij")
                centres.append(torch.stack([(xs.flatten() + 0.5) * s, (ys.flatten() + 0.5) * s]))
                strides.append(torch.full((1, h * w), float(s)))
            self.grid_cache[key] = (torch.cat(centres, 1), torch.cat(strides, 1))
        c, s = self.grid_cache[key]
        return c.to(device), s.to(device)

    def flat(self, x: torch.Tensor) -> tuple:
        """Raw outputs (B, 56, N) over all strides, anchor centres (2, N), strides (1, N)."""
        outs = self.raw(x)
        shapes = [o.shape[2:] for o in outs]
        flat = torch.cat([o.flatten(2) for o in outs], 2)
        centres, strides = self.grid([tuple(int(v) for v in s) for s in shapes], x.device)
        return flat, centres, strides

    @staticmethod
    def decode(flat: torch.Tensor, centres: torch.Tensor, strides: torch.Tensor) -> torch.Tensor:
        """(B, 56, N) raw → (B, 56, N) in Ultralytics' pose head format (scores as logits are sigmoided)."""
        ltrb = F.softplus(flat[:, 0:4]) * strides
        cx = centres[0:1] + (ltrb[:, 2:3] - ltrb[:, 0:1]) * 0.5
        cy = centres[1:2] + (ltrb[:, 3:4] - ltrb[:, 1:2]) * 0.5
        w = ltrb[:, 0:1] + ltrb[:, 2:3]
        h = ltrb[:, 1:2] + ltrb[:, 3:4]
        score = torch.sigmoid(flat[:, 4:5])
        b, _, n = flat.shape
        k = flat[:, 5:].reshape(b, KEYPOINTS, 3, n)
        kx = centres[0:1].unsqueeze(0) + k[:, :, 0:1] * 2.0 * strides.unsqueeze(0)
        ky = centres[1:2].unsqueeze(0) + k[:, :, 1:2] * 2.0 * strides.unsqueeze(0)
        kv = torch.sigmoid(k[:, :, 2:3])
        kpts = torch.cat([kx, ky, kv], 2).reshape(b, 3 * KEYPOINTS, n)
        return torch.cat([cx, cy, w, h, score, kpts], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat, centres, strides = self.flat(x)
        return self.decode(flat, centres, strides)
