#!/usr/bin/env python3
"""Tiny random-weight action classifiers for the Stages tests, one per classifier kind, with their model cards.

Writes into Tests/StagesTests/Fixtures/models/ (a few KB each):
  r3d.onnx + r3d.yaml                     3d, NCTHW [1, 3, 8, 32, 32] -> logits [1, 4]
  ts-rgb.onnx, ts-flow.onnx + ts.yaml     two-stream: RGB [1, 3, 32, 32], flow [1, 6, 32, 32] (stack 3)
  crnn.onnx + crnn.yaml                   cnn-rnn one graph, NTCHW [1, 6, 3, 32, 32] -> logits
  crnn-enc.onnx, crnn-head.onnx + crnn-split.yaml   the same weights split: encoder [1, 3, 32, 32] -> [1, 8],
                                          GRU head [1, 6, 8] -> logits (must score exactly like crnn.onnx)
  labels.txt                              idle, walk, wave, jump

Usage: /work/venv-fixtures/bin/python tools/stages/make_test_models.py   (torch, onnx; seed fixed)
"""
import os
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "StagesTests", "Fixtures", "models")
LABELS = ["idle", "walk", "wave", "jump"]
torch.manual_seed(7)


class R3D(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 6, 3, stride=2, padding=1)
        self.fc = nn.Linear(6, len(LABELS))

    def forward(self, clip):
        x = torch.relu(self.conv(clip)).mean(dim=(2, 3, 4))
        return self.fc(x)


class Net2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, 6, 3, stride=2, padding=1)
        self.fc = nn.Linear(6, len(LABELS))

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, frame):
        return torch.relu(self.conv(frame)).mean(dim=(2, 3))


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 12, batch_first=True)
        self.fc = nn.Linear(12, len(LABELS))

    def forward(self, features):
        out, _ = self.gru(features)
        return self.fc(out[:, -1])


class CRNN(nn.Module):
    def __init__(self, encoder, head, frames):
        super().__init__()
        self.encoder, self.head, self.frames = encoder, head, frames

    def forward(self, clip):  # [1, T, 3, H, W]
        features = self.encoder(clip.reshape(self.frames, 3, 32, 32)).reshape(1, self.frames, 8)
        return self.head(features)


def export(model, shape, name, input_name, output_name="logits"):
    model.eval()
    torch.onnx.export(model, torch.rand(*shape), os.path.join(OUT, name), input_names=[input_name],
                      output_names=[output_name], opset_version=17, dynamo=False)


def write(name, text):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(text)


def main():
    os.makedirs(OUT, exist_ok=True)
    write("labels.txt", "\n".join(LABELS) + "\n")
    common = """  size: 32x32
  resize: crop
  mean: [0.45, 0.4, 0.35]
  std: [0.25, 0.2, 0.3]
output:
  name: logits
  kind: logits
  labels: labels.txt
"""
    export(R3D(), (1, 3, 8, 32, 32), "r3d.onnx", "clip")
    write("r3d.yaml", "# Test model: random weights.\nkind: 3d\nname: test-r3d\nonnx: r3d.onnx\ninput:\n"
          "  name: clip\n  layout: NCTHW\n  frames: 8\n  stride: 1\n" + common)
    export(Net2D(3), (1, 3, 32, 32), "ts-rgb.onnx", "rgb")
    export(Net2D(6), (1, 6, 32, 32), "ts-flow.onnx", "flow")
    write("ts.yaml", "# Test model: random weights.\nkind: two-stream\nname: test-ts\nonnx: ts-rgb.onnx\ninput:\n"
          "  name: rgb\n  layout: NCHW\n  frames: 1\n" + common
          + "flow:\n  onnx: ts-flow.onnx\n  input: flow\n  bound: 20\n  stack: 3\n  weight: 0.4\n")
    encoder, head = Encoder(), Head()
    export(CRNN(encoder, head, 6), (1, 6, 3, 32, 32), "crnn.onnx", "clip")
    write("crnn.yaml", "# Test model: random weights.\nkind: cnn-rnn\nname: test-crnn\nonnx: crnn.onnx\ninput:\n"
          "  name: clip\n  layout: NTCHW\n  frames: 6\n" + common)
    export(encoder, (1, 3, 32, 32), "crnn-enc.onnx", "frame", "features")
    export(head, (1, 6, 8), "crnn-head.onnx", "features")
    write("crnn-split.yaml", "# Test model: random weights; crnn.onnx split.\nkind: cnn-rnn\nname: test-crnn-split\n"
          "input:\n  name: frame\n  layout: NCHW\n  frames: 6\n" + common
          + "encoder: { onnx: crnn-enc.onnx, output: features }\nhead: { onnx: crnn-head.onnx, input: features }\n")


if __name__ == "__main__":
    main()
