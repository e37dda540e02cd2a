#!/usr/bin/env python3
# `make models`: renders training/validation/test clips with `actiond synth`, turns them into network inputs
# with `actiond dataset` (whole frame and person crops), trains the three default action models, exports
# ONNX + card + labels into models/default/, checks every export with onnxruntime, and measures top-1 accuracy
# on freshly rendered held-out clips. `--fake` runs the same loop on random tensors in the dataset format.
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import train  # noqa: E402

# Seeds: training, validation (early choices: fusion weight) and test renders never share a clip seed.
SEEDS = {"train": 5101, "val": 5202, "test": 5303}
PAIRS = [("sit_down", "stand_up"), ("walk", "run")]
MEAN, STD = [0.45, 0.45, 0.45], [0.225, 0.225, 0.225]


def cards(size: str = "96x96") -> dict:
    """The three default cards. Inputs are small (96 × 96: the 160 × 120 renders' centre square is 120 pixels,
    and at 64 × 64 a whole-frame person's arms were 1–2 pixels wide) so the models train on a 2-core CPU."""
    common = {"size": size, "resize": "crop", "mean": MEAN, "std": STD, "colour": "rgb", "pixels": "unit"}
    return {
        "actions-r2plus1d": {
            "kind": "3d", "onnx": "actions-r2plus1d.onnx",
            "input": {"name": "clip", "layout": "NCTHW", "frames": 8, "stride": 2, "fps": 7.5, **common},
            "output": {"name": "logits", "kind": "logits", "labels": "actions-r2plus1d-labels.txt"}},
        "actions-two-stream": {
            "kind": "two-stream", "onnx": "actions-two-stream-rgb.onnx",
            "input": {"name": "frame", "layout": "NCHW", "frames": 16, "stride": 1, "fps": 15.0, **common},
            "output": {"name": "logits", "kind": "logits", "labels": "actions-two-stream-labels.txt"},
            # `preset` is set from --flow-preset (the DIS preset of the flow stage the net is trained for).
            "flow": {"onnx": "actions-two-stream-flow.onnx", "input": "flow", "bound": 20, "stack": 10,
                     "weight": 0.5}},
        "actions-cnn-gru": {
            "kind": "cnn-rnn", "onnx": "actions-cnn-gru.onnx",
            "input": {"name": "clip", "layout": "NTCHW", "frames": 8, "stride": 2, "fps": 7.5, **common},
            "output": {"name": "logits", "kind": "logits", "labels": "actions-cnn-gru-labels.txt"}},
    }


def yaml_value(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(yaml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_card(card: dict, path: str, comment: str) -> None:
    lines = [f"# {line}" for line in comment.splitlines()]
    for key, value in card.items():
        if key.startswith("_"):
            continue
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {yaml_value(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {yaml_value(value)}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def run(cmd: list, log) -> None:
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=sys.stderr)


def render(actiond: str, work: str, split: str, clips: int, size: str, jobs: int, log) -> str:
    out = os.path.join(work, "clips", split)
    if not os.path.isdir(out) or len([f for f in os.listdir(out) if f.endswith(".json")]) < clips:
        run([actiond, "synth", "--out", out, "--seed", str(SEEDS[split]), "--clips", str(clips), "--size", size,
             "--balanced", "--jobs", str(jobs)], log)
    return out


def dataset(actiond: str, card_path: str, clip_dir: str, split: str, clips: int, out: str, crop: str, every: int,
            jobs: int, log, part_size: int = 120) -> list:
    """`actiond dataset` over clips 0..<clips of a split, in parts of `part_size` clips run `jobs` at a time
    (one dataset process is single-threaded). Returns the part directories."""
    parts, pending, running = [], [], []
    for k, first in enumerate(range(0, clips, part_size)):
        part = os.path.join(out, f"part{k}")
        parts.append(part)
        if os.path.exists(os.path.join(part, "index.jsonl")):
            continue
        files = [os.path.join(clip_dir, f"s{SEEDS[split]}-c{i:05d}.json")
                 for i in range(first, min(clips, first + part_size))]
        pending.append((part, [actiond, "dataset", "--card", card_path, "--out", part + ".tmp", "--crop", crop,
                               "--every", str(every)] + files))
    while pending or running:
        while pending and len(running) < jobs:
            part, cmd = pending.pop(0)
            log(f"$ actiond dataset --card {card_path} --out {part} --crop {crop} --every {every} ({len(cmd) - 10}"
                f" clips)")
            running.append((part, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        part, proc = running.pop(0)
        if proc.wait() != 0:
            raise SystemExit(f"actiond dataset failed for {part} (exit {proc.returncode})")
        os.replace(part + ".tmp", part)
    return parts


def same_preprocessing(a: dict, b: dict) -> bool:
    """True when two cards cut and normalise identically apart from the axis order of the clip tensor."""
    strip = lambda c: {k: v for k, v in c["input"].items() if k not in ("layout", "name")}  # noqa: E731
    return a["kind"] != "two-stream" and b["kind"] != "two-stream" and strip(a) == strip(b)


def relayout(split: data.Split, source: dict, card: dict) -> data.Split:
    """Another card's dataset in this card's layout (NCTHW ↔ NTCHW is a transpose of axes 1 and 2 with the batch
    axis): the same tensors `actiond dataset` writes for this card, without decoding everything twice."""
    (x,) = split.inputs.values()
    if source["input"]["layout"] != card["input"]["layout"]:
        parts = x.parts if isinstance(x, data.Rows) else [x]
        x = data.Rows(parts, axes=(1, 0, 2, 3))
    return data.Split(split.labels, {card["input"].get("name", "input"): x}, split.targets, split.clips)


def concat(splits: list) -> data.Split:
    def parts(x) -> list:
        return x.parts if isinstance(x, data.Rows) else [x]
    axes = {k: getattr(splits[0].inputs[k], "axes", None) for k in splits[0].inputs}
    return data.Split(splits[0].labels,
                      {k: data.Rows([p for s in splits for p in parts(s.inputs[k])], axes[k]) for k in axes},
                      np.concatenate([s.targets for s in splits]), sum((s.clips for s in splits), []))


def pair_accuracy(scores: torch.Tensor, split: data.Split) -> dict:
    """Clip accuracy restricted to each direction/speed pair, deciding only between the two labels."""
    out = {}
    for a, b in PAIRS:
        ia, ib = split.labels.index(a), split.labels.index(b)
        clips = {}
        for i, c in enumerate(split.clips):
            clips.setdefault(c, []).append(i)
        right = total = 0
        for c, idx in clips.items():
            label = np.bincount(split.targets[idx]).argmax()
            if label not in (ia, ib):
                continue
            mean = scores[idx].mean(0)
            right += int((ia if mean[ia] >= mean[ib] else ib) == label)
            total += 1
        out[f"{a}/{b}"] = right / total if total else float("nan")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--actiond", default=".build/release/actiond")
    ap.add_argument("--work", default="/tmp/actiond-models")
    ap.add_argument("--out", default="models/default")
    ap.add_argument("--models", default="all", help="comma-separated card names, or all")
    ap.add_argument("--train-clips", type=int, default=480, help="--balanced: keep a multiple of 12")
    ap.add_argument("--val-clips", type=int, default=60)
    ap.add_argument("--person-train-clips", type=int, help="person-crop training clips (default --train-clips)")
    ap.add_argument("--person-test-clips", type=int, help="person-crop test clips (default --test-clips)")
    ap.add_argument("--test-clips", type=int, default=240)
    ap.add_argument("--size", default="160x120", help="render size")
    ap.add_argument("--input-size", default="96x96", help="the cards' network input size")
    ap.add_argument("--every", type=int, default=2, help="dataset --every for training windows")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--stop-after", type=int, help="stop after this many epochs of the --epochs schedule")
    ap.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (one-cycle)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads; 1 is fastest on a shared machine")
    ap.add_argument("--jobs", type=int, default=4, help="synth jobs and dataset processes at once")
    ap.add_argument("--init", action="store_true",
                    help="start from WORK/checkpoints/<model>.pt (fine-tune a previous run) instead of random weights")
    ap.add_argument("--half", action="store_true", help="keep the stacked datasets as float16 (half the RAM)")
    ap.add_argument("--flow-preset", default="medium", choices=["ultrafast", "fast", "medium"],
                    help="DIS preset of two-stream's flow, written into its card as flow.preset (medium resolves "
                         "the thin arms of whole-frame people; fast was used for steps 1-7 of the schedule)")
    ap.add_argument("--fake", action="store_true", help="random tensors in the dataset format; no actiond")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    log_file = open(os.path.join(args.work, "train.log"), "a")

    def log(msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, file=sys.stderr, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    all_cards = cards(args.input_size)
    for card in all_cards.values():
        if "flow" in card:
            card["flow"]["preset"] = args.flow_preset
    chosen = list(all_cards) if args.models == "all" else args.models.split(",")
    labels = None
    if not args.fake:
        labels = subprocess.run([args.actiond, "synth", "--list-actions"], check=True, capture_output=True,
                                text=True).stdout
        labels = [line.split()[0] for line in labels.splitlines() if line.strip() and not line.startswith(" ")]
        clips = {s: render(args.actiond, args.work, s, n, args.size, args.jobs, log)
                 for s, n in [("train", args.train_clips), ("val", args.val_clips), ("test", args.test_clips)]}
    results = {}
    for name in chosen:
        card = all_cards[name]
        card_dir = os.path.join(args.work, "cards")
        os.makedirs(card_dir, exist_ok=True)
        card_path = os.path.join(card_dir, name + ".yaml")
        write_card(card, card_path, f"{name}: being trained by tools/train/make_models.py")
        vocabulary = labels if not args.fake else [f"action{i}" for i in range(12)]
        with open(os.path.join(card_dir, card["output"]["labels"]), "w") as f:
            f.write("".join(label + "\n" for label in vocabulary))
        names = train.input_names(card)
        # A card whose preprocessing another card shares (apart from layout) reuses that card's dataset.
        order = list(all_cards)
        source = next((n for n in order[:order.index(name)] if same_preprocessing(all_cards[n], card)), name)
        if source != name:
            log(f"{name}: same preprocessing as {source} apart from layout; reusing its dataset")
            write_card(all_cards[source], os.path.join(card_dir, source + ".yaml"), f"{source}: dataset source")
            with open(os.path.join(card_dir, all_cards[source]["output"]["labels"]), "w") as f:
                f.write("".join(label + "\n" for label in vocabulary))
        splits = {}
        for split in ["train", "val", "test"]:
            for crop in ["whole", "person"]:
                counts = {"train": args.train_clips, "val": args.val_clips, "test": args.test_clips}
                if crop == "person":
                    counts["train"] = args.person_train_clips or args.train_clips
                    counts["test"] = args.person_test_clips or args.test_clips
                # flow at another preset is another dataset (fast keeps the original folder name)
                folder = source if "flow" not in card or args.flow_preset == "fast" \
                    else f"{source}-{args.flow_preset}"
                out = os.path.join(args.work, "data", folder, f"{split}-{crop}")
                if args.fake:
                    parts = [out]
                    if not os.path.exists(os.path.join(out, "index.jsonl")):
                        data.write_random(out, vocabulary, fake_shapes(card, names),
                                          clips={"train": 48, "val": 24, "test": 24}[split], windows=3,
                                          seed=SEEDS[split] + (crop == "person"))
                else:
                    parts = dataset(args.actiond, os.path.join(card_dir, source + ".yaml"), clips[split], split,
                                    counts[split], out, crop, args.every if split == "train" else 1, args.jobs,
                                    log)
                src_names = train.input_names(all_cards[source])
                loaded = concat([data.load(p, list(src_names.values()), drop_samples=not args.fake,
                                          half=args.half) for p in parts])
                splits[(split, crop)] = loaded if source == name else relayout(loaded, all_cards[source], card)
        tr = concat([splits[("train", "whole")], splits[("train", "person")]])
        labels = tr.labels
        log(f"{name}: {len(tr.targets)} training windows, {len(labels)} labels")
        models = train.build(card, len(labels))
        checkpoint = os.path.join(args.work, "checkpoints", name + ".pt")
        if args.init:
            for role, state in torch.load(checkpoint).items():
                models[role].load_state_dict(state)
            log(f"{name}: starting from {checkpoint}")
        os.makedirs(os.path.dirname(checkpoint), exist_ok=True)

        def save(epoch: int, models: dict = models, checkpoint: str = checkpoint) -> None:
            # every epoch, so a long run can be stopped and exported (--init --epochs 0)
            torch.save({role: m.state_dict() for role, m in models.items()}, checkpoint + ".tmp")
            os.replace(checkpoint + ".tmp", checkpoint)
        seconds = train.train(card, models, tr, args.epochs, lr=args.lr, log=log, on_epoch=save,
                              stop_after=args.stop_after)
        result = {"train_seconds": seconds, "train_windows": len(tr.targets), "epochs": args.epochs}
        if card["kind"] == "two-stream":
            val = concat([splits[("val", "whole")], splits[("val", "person")]])
            card["flow"]["weight"] = train.best_weight(card, train.predict(card, models, val), val)
            log(f"{name}: fusion weight {card['flow']['weight']} (validation windows)")
        for crop in ["whole", "person"]:
            for split in ["val", "test"]:
                s = splits[(split, crop)]
                logits = train.predict(card, models, s)
                acc = train.accuracy(train.fuse(card, logits), s)
                if not args.fake:
                    acc["pairs"] = pair_accuracy(train.fuse(card, logits), s)
                if card["kind"] == "two-stream":
                    # The RGB stream alone is the single-frame baseline: one frame cannot show direction or speed.
                    rgb = train.fuse({"kind": "3d"}, {"main": logits["rgb"]})
                    acc["rgb_only"] = train.accuracy(rgb, s)
                    flow = train.fuse({"kind": "3d"}, {"main": logits["flow"]})
                    acc["flow_only"] = train.accuracy(flow, s)
                    if not args.fake:
                        acc["rgb_only"]["pairs"] = pair_accuracy(rgb, s)
                result[f"{split}-{crop}"] = acc
                log(f"{name} {split}-{crop}: clip {acc['clip']:.3f} ({acc['clips']} clips), "
                    f"window {acc['window']:.3f}")
        result["export"] = train.export(card, models, args.out, splits[("val", "whole")])
        with open(os.path.join(args.out, card["output"]["labels"]), "w") as f:
            f.write("".join(label + "\n" for label in labels))
        test = result["test-whole"]
        write_card(card, os.path.join(args.out, name + ".yaml"),
                   f"{name}: demo model of actiond's rendered world (actiond synth), NOT a Kinetics model.\n"
                   f"Trained by tools/train/make_models.py (make models); see docs/models.md.\n"
                   f"Held-out test clips (seed {SEEDS['test']}): top-1 {test['clip']:.3f} whole frame, "
                   f"{result['test-person']['clip']:.3f} person crops.")
        results[name] = result
        log(f"{name}: exported {json.dumps(result['export'])}")
        with open(os.path.join(args.work, f"results-{name}.json"), "w") as f:
            json.dump(result, f, indent=1)
    print(json.dumps(results, indent=1))


def fake_shapes(card: dict, names: dict) -> dict:
    inp = card["input"]
    w, h = (int(v) for v in inp["size"].split("x"))
    t = inp.get("frames", 1)
    if card["kind"] == "two-stream":
        return {names["main"]: (3, h, w), names["flow"]: (2 * card["flow"]["stack"], h, w)}
    if inp["layout"] == "NCTHW":
        return {names["main"]: (3, t, h, w)}
    return {names["main"]: (t, 3, h, w)}


if __name__ == "__main__":
    main()
