# Training, evaluation, ONNX export and the onnxruntime check for the three default model cards.
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import data
import nets

OPSET = 17


def encoding(card: dict) -> data.Encoding:
    inp = card["input"]
    return data.Encoding(mean=torch.tensor(inp.get("mean", [0, 0, 0]), dtype=torch.float32),
                         std=torch.tensor(inp.get("std", [1, 1, 1]), dtype=torch.float32),
                         scale=255.0 if inp.get("pixels", "unit") == "byte" else 1.0,
                         flow_zero=0.0)      # actiond encodes flow as clip(d, ±bound) / bound: zero flow is 0


def input_names(card: dict) -> dict:
    """Role → ONNX input name, with the defaults `actiond dataset` writes when the card names none."""
    names = {"main": card["input"].get("name", "input")}
    if card["kind"] == "two-stream":
        names["flow"] = card["flow"].get("input", "flow")
    return names


def augment(card: dict, batch: dict, g: torch.Generator, zoom: float) -> dict:
    n = next(iter(batch.values())).shape[0]
    enc = encoding(card)
    flip = torch.rand(n, generator=g) < 0.5
    crop = (zoom, torch.rand(n, 2, generator=g) * 2 - 1, 1 + (zoom - 1) * torch.rand(n, generator=g))
    names = input_names(card)
    layout = "NCHW" if card["kind"] == "two-stream" else card["input"]["layout"]
    out = {names["main"]: data.augment_rgb(batch[names["main"]], layout, enc, g, flip, crop)}
    if "flow" in names:
        out[names["flow"]] = data.augment_flow(batch[names["flow"]], enc, flip, crop)
    return out


def forward(card: dict, models: dict, batch: dict) -> dict:
    """Logits per network: {'main': …} or {'rgb': …, 'flow': …}."""
    names = input_names(card)
    if card["kind"] == "two-stream":
        return {"rgb": models["rgb"](batch[names["main"]]), "flow": models["flow"](batch[names["flow"]])}
    return {"main": models["main"](batch[names["main"]])}


def fuse(card: dict, logits: dict, weight: float | None = None) -> torch.Tensor:
    """Scores as serving combines them: softmax per net, (1 − w)·rgb + w·flow for two-stream."""
    if card["kind"] != "two-stream":
        return F.softmax(logits["main"], dim=1)
    w = card["flow"].get("weight", 0.5) if weight is None else weight
    return (1 - w) * F.softmax(logits["rgb"], dim=1) + w * F.softmax(logits["flow"], dim=1)


def batches(split: data.Split, size: int, order: np.ndarray):
    for i in range(0, len(order), size):
        idx = order[i:i + size]
        yield ({k: torch.from_numpy(v[idx]) for k, v in split.inputs.items()},
               torch.from_numpy(split.targets[idx]))


def train(card: dict, models: dict, split: data.Split, epochs: int, batch_size: int = 32, lr: float = 3e-3,
          zoom: float = 1.15, seed: int = 0, log=print, on_epoch=None, stop_after: int | None = None) -> float:
    """AdamW with one-cycle cosine decay over `epochs` and label smoothing, stopped after `stop_after` epochs
    when given (a run cut short, as one step of the committed schedule was); returns seconds of training."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    params = [p for m in models.values() for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    steps = max(1, epochs * math.ceil(len(split.targets) / batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    start = time.time()
    if epochs == 0:
        return 0.0
    for epoch in range(min(epochs, stop_after or epochs)):
        for m in models.values():
            m.train()
        total, correct, loss_sum = 0, 0, 0.0
        for batch, target in batches(split, batch_size, rng.permutation(len(split.targets))):
            batch = augment(card, batch, g, zoom)
            logits = forward(card, models, batch)
            # Two-stream: each stream learns alone (late fusion), as in Simonyan & Zisserman and TSN.
            loss = sum(F.cross_entropy(v, target, label_smoothing=0.05) for v in logits.values())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(target)
            correct += (fuse(card, logits).argmax(1) == target).sum().item()
            total += len(target)
        log(f"  epoch {epoch + 1}/{epochs}: loss {loss_sum / total:.3f}, train acc {correct / total:.3f}, "
            f"{time.time() - start:.0f} s")
        if on_epoch is not None:
            on_epoch(epoch)
    return time.time() - start


@torch.no_grad()
def predict(card: dict, models: dict, split: data.Split, batch_size: int = 64) -> dict:
    for m in models.values():
        m.eval()
    out = {}
    for batch, _ in batches(split, batch_size, np.arange(len(split.targets))):
        for k, v in forward(card, models, batch).items():
            out.setdefault(k, []).append(v)
    return {k: torch.cat(v) for k, v in out.items()}


def accuracy(scores: torch.Tensor, split: data.Split) -> dict:
    """Window top-1, and clip top-1 from the mean score over each clip's windows (label = the clip's most
    frequent window label: single-action clips have one)."""
    pred = scores.argmax(1).numpy()
    window = float((pred == split.targets).mean())
    clips = {}
    for i, c in enumerate(split.clips):
        clips.setdefault(c, []).append(i)
    right = 0
    per_class = {}
    for c, idx in clips.items():
        label = np.bincount(split.targets[idx]).argmax()
        ok = int(scores[idx].mean(0).argmax().item() == label)
        right += ok
        stats = per_class.setdefault(split.labels[label], [0, 0])
        stats[0] += ok
        stats[1] += 1
    return {"window": window, "clip": right / len(clips), "clips": len(clips), "windows": len(pred),
            "per_class": {k: v[0] / v[1] for k, v in sorted(per_class.items())}}


def best_weight(card: dict, logits: dict, split: data.Split) -> float:
    """Two-stream fusion weight chosen on validation windows (the card then carries it)."""
    best = (-1.0, 0.5)
    for w in [i / 10 for i in range(11)]:
        acc = accuracy(fuse(card, logits, w), split)["window"]
        if acc > best[0] + 1e-9:
            best = (acc, w)
    return best[1]


def export(card: dict, models: dict, directory: str, sample: data.Split) -> dict:
    """Writes each network as ONNX (opset 17, TorchScript exporter, batch axis symbolic) and checks it with
    onnxruntime against torch on real samples. Returns {file: max |torch − ort|}."""
    import onnx
    import onnxruntime as ort
    names = input_names(card)
    graphs = {"main": (card["onnx"], names["main"])}
    if card["kind"] == "two-stream":
        graphs = {"rgb": (card["onnx"], names["main"]), "flow": (card["flow"]["onnx"], names["flow"])}
    output = card["output"].get("name", "logits")
    diffs = {}
    for role, (file, input_name) in graphs.items():
        model = models[role].eval()
        x = torch.from_numpy(sample.inputs[input_name][:8])
        path = os.path.join(directory, file)
        torch.onnx.export(model, (x,), path, input_names=[input_name], output_names=[output],
                          dynamic_axes={input_name: {0: "batch"}, output: {0: "batch"}}, opset_version=OPSET,
                          dynamo=False, do_constant_folding=True)
        onnx.checker.check_model(onnx.load(path))
        with torch.no_grad():
            want = model(x).numpy()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        got = session.run([output], {input_name: x.numpy()})[0]
        diff = float(np.abs(got - want).max())
        if not diff < 1e-3 * max(1.0, float(np.abs(want).max())):
            raise SystemExit(f"{path}: onnxruntime differs from torch by {diff}")
        if not (got.argmax(1) == want.argmax(1)).all():
            raise SystemExit(f"{path}: onnxruntime top-1 differs from torch")
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        diffs[file] = {"max_abs_diff": diff, "ops": ops, "bytes": os.path.getsize(path)}
    return diffs


def build(card: dict, classes: int) -> dict:
    flow = card.get("flow", {}).get("stack", 0)
    return nets.build(card["kind"], classes, card["input"].get("frames", 1), flow)
