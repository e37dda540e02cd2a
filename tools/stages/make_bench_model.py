#!/usr/bin/env python3
"""A random-weight R3D-style model of realistic size for timing `actiond classify` (not a fixture).

Four Conv3d+BatchNorm+ReLU blocks (16, 32, 64, 128 channels), global average pool, 12 logits; input NCTHW
[1, 3, 16, 112, 112]; about 1.2 MB. Writes OUT/r3d.onnx, r3d.yaml, labels.txt and p.yaml (decode → classify →
smooth with default options).

Usage: /work/venv-fixtures/bin/python tools/stages/make_bench_model.py OUT
       actiond testclip OUT/clip.mp4 --size 640x480 --fps 25 --seconds 10
       time actiond classify OUT/clip.mp4 --pipeline OUT/p.yaml
"""
import os
import sys
import torch
import torch.nn as nn


class R3D(nn.Module):
    def __init__(self):
        super().__init__()
        layers, channels = [], 3
        for i, width in enumerate([16, 32, 64, 128]):
            layers += [nn.Conv3d(channels, width, 3, stride=(1, 2, 2) if i == 0 else 2, padding=1),
                       nn.BatchNorm3d(width), nn.ReLU()]
            channels = width
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(128, 12)

    def forward(self, clip):
        return self.fc(self.features(clip).mean(dim=(2, 3, 4)))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.onnx.export(R3D().eval(), torch.rand(1, 3, 16, 112, 112), os.path.join(out, "r3d.onnx"),
                      input_names=["clip"], output_names=["logits"], opset_version=17, dynamo=False)
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("".join(f"a{i}\n" for i in range(12)))
    with open(os.path.join(out, "r3d.yaml"), "w") as f:
        f.write("kind: 3d\nonnx: r3d.onnx\ninput: { name: clip, layout: NCTHW, frames: 16, size: 112x112, "
                "resize: crop, mean: [0.43, 0.39, 0.37], std: [0.22, 0.22, 0.21] }\n"
                "output: { kind: logits, labels: labels.txt }\n")
    with open(os.path.join(out, "p.yaml"), "w") as f:
        f.write("version: 1\nmodels: { actions: r3d.yaml }\npipeline:\n  - decode\n"
                "  - classify: { model: actions }\n  - smooth\n")


if __name__ == "__main__":
    main()
