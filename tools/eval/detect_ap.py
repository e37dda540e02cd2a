#!/usr/bin/env python3
# Box AP and keypoint OKS-AP of `actiond detect --json` against `actiond synth` ground truth (pycocotools).
#
#   tools/eval/detect_ap.py --actiond .build/release/actiond --clips 40 --seed 7303 [--pipeline P] [--work DIR]
#   tools/eval/detect_ap.py --actiond ... --dir DIR          # clips already rendered (any .json + video pairs)
#
# Renders `--clips` busy-scene clips with `--seed` (never a training seed: training uses 7101 and 7202) unless
# `--dir` is given, runs `actiond detect CLIP --json --threshold 0.01` on each (at the pipeline's decode rate; every
# processed frame is matched to the ground-truth frame shown at its time), and prints one table row per seed plus the
# totals: AP50, AP@[.5:.95], AR@100 for boxes, OKS-AP and OKS-AP50 for keypoints. People less than 30 % visible
# are neither hits nor misses (tools/eval/coco.py). Needs: pip install pycocotools numpy (a venv outside the repo).
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coco  # noqa: E402


def render(actiond: str, out: str, seed: int, clips: int, synth_args: list) -> None:
    subprocess.run([actiond, "synth", "--out", out, "--seed", str(seed), "--clips", str(clips), *synth_args],
                   check=True, stdout=subprocess.DEVNULL)


def detect(actiond: str, video: str, pipeline: str | None) -> list:
    # A low threshold, as COCO evaluation wants the whole precision/recall curve.
    cmd = [actiond, "detect", video, "--json", "--threshold", "0.01"] + (["--pipeline", pipeline] if pipeline else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def evaluate_dir(actiond: str, directory: str, pipeline: str | None, collector: coco.Collector) -> int:
    frames = 0
    for name in sorted(f for f in os.listdir(directory) if f.endswith(".json")):
        truth = json.load(open(os.path.join(directory, name)))
        results = detect(actiond, os.path.join(directory, truth["video"]), pipeline)
        # The ground-truth frame shown at the processed frame's time.
        shown = [int(round(r["t"] * truth["fps"])) for r in results]
        by_frame = coco.truth_frames(truth, set(shown))
        for r, index in zip(results, shown):
            predictions = [(p["box"], p["score"], p.get("keypoints")) for p in r["people"]]
            collector.add_image(truth["width"], truth["height"], by_frame[index], predictions)
            frames += 1
    return frames


def main() -> None:
    ap = argparse.ArgumentParser(description="COCO AP of actiond detect on rendered clips")
    ap.add_argument("--actiond", required=True)
    ap.add_argument("--pipeline", help="pipeline file with the decode and detect stages (default: actiond's)")
    ap.add_argument("--dir", help="evaluate the clips in this folder instead of rendering")
    ap.add_argument("--seed", type=int, nargs="+", default=[7303])
    ap.add_argument("--clips", type=int, default=40)
    ap.add_argument("--synth", default="--busy --seconds 4 --size 320x240", help="synth options (space-separated)")
    ap.add_argument("--work", help="where to render (default: a temporary folder)")
    args = ap.parse_args()
    rows, total = [], coco.Collector()
    if args.dir:
        jobs = [("dir", args.dir)]
    else:
        work = args.work or tempfile.mkdtemp(prefix="actiond-eval-")
        jobs = []
        for seed in args.seed:
            out = os.path.join(work, f"s{seed}")
            render(args.actiond, out, seed, args.clips, args.synth.split())
            jobs.append((str(seed), out))
    for label, directory in jobs:
        collector = coco.Collector()
        frames = evaluate_dir(args.actiond, directory, args.pipeline, collector)
        rows.append((label, frames, collector.evaluate()))
        merge(total, collector)
    rows.append(("all", sum(r[1] for r in rows), total.evaluate()))
    print("| clips (seed) | frames | people (≥30 % visible) | ignored | box AP50 | box AP@[.5:.95] | AR@100 "
          "| OKS-AP | OKS-AP50 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, frames, m in rows:
        print(f"| {label} | {frames} | {m['people']} | {m['ignored']} | {m['AP50']:.3f} | {m['AP']:.3f} "
              f"| {m['AR100']:.3f} | {m.get('kAP', 0):.3f} | {m.get('kAP50', 0):.3f} |")


def merge(total: coco.Collector, part: coco.Collector) -> None:
    """Appends `part`'s images, annotations and detections to `total` with fresh ids."""
    image_base, ann_base = len(total.images), len(total.annotations)
    total.images += [dict(i, id=i["id"] + image_base) for i in part.images]
    total.annotations += [dict(a, id=a["id"] + ann_base, image_id=a["image_id"] + image_base)
                          for a in part.annotations]
    total.detections += [dict(d, image_id=d["image_id"] + image_base) for d in part.detections]


if __name__ == "__main__":
    main()
