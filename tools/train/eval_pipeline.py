#!/usr/bin/env python3
# Top-1 accuracy of a default model through actiond itself: `actiond classify --all-scores --json` on every
# held-out synth clip (decode, flow, actiond's own ONNX engine), mean clip score per label over the video,
# argmax against the performer's ground-truth label. Whole-frame mode (the classify stage has no person crops
# yet). Usage: eval_pipeline.py --actiond BIN --card models/default/X.yaml CLIPDIR [--limit N]
import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

PAIRS = [("sit_down", "stand_up"), ("walk", "run")]


def pipeline_for(card_path: str, directory: str) -> str:
    """The serving pipeline the dataset command assumes for a card: decode 320×240 letterbox at 15 fps, DIS
    flow at the card's preset for two-stream, clips of the card's frames (16 for two-stream) at half-clip stride."""
    text = open(card_path).read()
    two_stream = "\nkind: two-stream" in "\n" + text
    frames = int(next(line.split(":")[1] for line in text.splitlines() if line.strip().startswith("frames:")))
    clip = max(16, frames) if two_stream else frames
    lines = ["version: 1", "models:", f"  actions: {os.path.abspath(card_path)}", "pipeline:",
             "  - decode: { fps: 15, size: 320x240, resize: letterbox }"]
    if two_stream:
        # the DIS preset the flow net was trained on (`flow.preset` in the card; fast when unstated)
        preset = next((line.split(":")[1].strip() for line in text.splitlines()
                       if line.startswith("  preset:")), "fast")
        lines.append(f"  - flow: {{ method: dis, preset: {preset} }}")
    lines += [f"  - classify: {{ model: actions, clip: {clip}, stride: {clip // 2}, partial: drop }}",
              "  - smooth: { window: 3, enter: 0.5, exit: 0.3 }"]
    path = os.path.join(directory, "pipeline.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def classify(actiond: str, pipeline: str, truth_path: str) -> tuple:
    truth = json.load(open(truth_path))
    performer = next(p for p in truth["people"] if p["id"] == 0)
    label = max(performer["segments"], key=lambda s: s["end"] - s["start"])["label"]
    video = os.path.join(os.path.dirname(truth_path), truth["video"])
    out = subprocess.run([actiond, "classify", video, "--pipeline", pipeline, "--all-scores", "--json",
                          "--threads", "1"], check=True, capture_output=True, text=True).stdout
    totals, n = {}, 0
    for line in out.splitlines():
        row = json.loads(line)
        if "clip" in row:
            n += 1
            for k, v in row["clip"]["scores"].items():
                totals[k] = totals.get(k, 0.0) + v
    return label, {k: v / max(n, 1) for k, v in totals.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--actiond", default=".build/release/actiond")
    ap.add_argument("--card", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("clips")
    args = ap.parse_args()
    files = sorted(os.path.join(args.clips, f) for f in os.listdir(args.clips) if f.endswith(".json"))
    if args.limit:
        files = files[:args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = pipeline_for(args.card, tmp)
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda f: classify(args.actiond, pipeline, f), files))
    right = sum(max(s, key=s.get) == label for label, s in results)
    per_class = {}
    for label, s in results:
        stats = per_class.setdefault(label, [0, 0])
        stats[0] += max(s, key=s.get) == label
        stats[1] += 1
    pairs = {}
    for a, b in PAIRS:
        sel = [(label, s) for label, s in results if label in (a, b)]
        ok = sum((a if s[a] >= s[b] else b) == label for label, s in sel)
        pairs[f"{a}/{b}"] = ok / len(sel) if sel else None
    report = {"card": args.card, "clips": len(results), "top1": right / len(results), "pairs": pairs,
              "per_class": {k: v[0] / v[1] for k, v in sorted(per_class.items())}}
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
