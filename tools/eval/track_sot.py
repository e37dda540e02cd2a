#!/usr/bin/env python3
# Single-target tracking (OTB-style): success AUC and precision at 20 px of `actiond track CLIP --init x,y,w,h
# --json` beside OpenCV's CSRT and MIL trackers on the same rendered sequences, one markdown table.
#
#   tools/eval/track_sot.py --actiond .build/release/actiond --seed 8303 8304 --clips 30 \
#       [--pipeline pipelines/track-siamese.yaml ...] [--work DIR] [--dir DIR] [--cv2-path DIR]
#
# One target per busy clip (seeds never used in training): the person at least 50 % visible on frame 0 (where
# `--init` starts) who stays in the picture longest; clips with nobody that visible on frame 0 are skipped. Every
# tracker starts from that person's ground-truth box on frame 0; the sequence runs until the person's last frame in
# the picture. Frames where the target is less than 30 % visible are neither counted nor penalised (the box is then
# a guess for everybody); frames where a tracker reports nothing (OpenCV's `ok` false) count as IoU 0 and an
# infinite centre error.
#
# Success: the fraction of frames whose IoU with the ground truth exceeds t, for t = 0, 0.05, …, 1 (21 values);
# AUC = their mean (OTB's "AUC" of the success plot). Precision@20: the fraction of frames whose box centre is
# within 20 pixels of the ground truth's (frames are 320x240 unless --synth says otherwise).
#
# CSRT (and KCF) are in OpenCV's contrib modules: `pip install --target DIR opencv-contrib-python==<the cv2
# version>` and pass `--cv2-path DIR` (DIR is put first on sys.path so the existing opencv-python stays as it is).
# Needs: numpy, opencv (MIL is in the main modules), the ffmpeg CLI.
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rendered  # noqa: E402

MIN_VISIBLE = 0.30
INIT_VISIBLE = 0.50
THRESHOLDS = np.linspace(0, 1, 21)


def decode_video(path: str, w: int, h: int) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def pick_target(truth: dict) -> dict | None:
    """The person ≥ 50 % visible on frame 0 who stays in the picture longest (ties: lower id), or None."""
    best = None
    for person in truth["people"]:
        frames = person["frames"]
        if not frames or frames[0]["index"] != 0 or frames[0].get("visible", 1.0) < INIT_VISIBLE:
            continue
        if best is None or frames[-1]["index"] > best["frames"][-1]["index"]:
            best = person
    return best


def iou(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def centre_error(a, b) -> float:
    return float(np.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2))


def opencv_tracker(name: str):
    import cv2
    for owner in (cv2, getattr(cv2, "legacy", None)):
        make = getattr(owner, f"Tracker{name}_create", None) if owner is not None else None
        if make is not None:
            return make()
    return None


def run_opencv(name: str, frames: np.ndarray, init: list, last: int) -> dict:
    """frame index → box xywh (or None) for frames 1…last."""
    tracker = opencv_tracker(name)
    x, y, w, h = init
    tracker.init(frames[0], (int(round(x)), int(round(y)), max(1, int(round(w))), max(1, int(round(h)))))
    out = {}
    for i in range(1, min(last + 1, len(frames))):
        ok, box = tracker.update(frames[i])
        out[i] = [float(v) for v in box] if ok else None
    return out


def run_actiond(actiond: str, video: str, init: list, fps: float, pipeline: str | None) -> tuple:
    """(frame index → box, None) or (None, error message)."""
    cmd = [actiond, "track", video, "--json", "--init", ",".join(f"{v:.2f}" for v in init)]
    if pipeline:
        cmd += ["--pipeline", pipeline]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}"
    out = {}
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        frame = json.loads(line)
        tracks = frame["tracks"]
        out[int(round(frame["t"] * fps))] = tracks[0]["box"] if tracks else None
    return out, None


def summarise(ious: list, errors: list) -> dict:
    ious, errors = np.array(ious), np.array(errors)
    success = [(ious > t).mean() for t in THRESHOLDS]
    return {"frames": len(ious), "AUC": float(np.mean(success)), "P@20": float((errors <= 20).mean()),
            "mean_IoU": float(ious.mean()), "success@0.5": float((ious > 0.5).mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description="OTB-style single-target success AUC of actiond track --init vs OpenCV")
    ap.add_argument("--actiond", required=True)
    ap.add_argument("--pipeline", nargs="*", default=[None], help="pipelines for `actiond track --init` rows "
                    "(default: one row with actiond's default pipeline)")
    ap.add_argument("--dir", help="evaluate the clips in this folder instead of rendering")
    ap.add_argument("--seed", type=int, nargs="+", default=[8303, 8304])
    ap.add_argument("--clips", type=int, default=30)
    ap.add_argument("--synth", default="--busy --people 6 --seconds 8 --size 320x240",
                    help="synth options (space-separated); write --synth='--busy …'")
    ap.add_argument("--work", help="where to render (default: a temporary folder)")
    ap.add_argument("--opencv", default="CSRT,MIL", help="OpenCV trackers to compare (CSRT, KCF need contrib)")
    ap.add_argument("--cv2-path", help="a folder with opencv-contrib-python (pip install --target) for CSRT/KCF")
    ap.add_argument("--save", help="also write the rows as JSON to this file")
    args = ap.parse_args()
    if args.cv2_path:
        sys.path.insert(0, args.cv2_path)
    import cv2

    work = args.work or tempfile.mkdtemp(prefix="actiond-sot-eval-")
    found, dirs = rendered.truths(args, work)
    sequences = [(d, truth, target) for d, truth in found if (target := pick_target(truth)) is not None]
    opencv = []
    for name in args.opencv.split(","):
        if opencv_tracker(name) is None:
            print(f"OpenCV {cv2.__version__} has no Tracker{name} (contrib module? see --cv2-path): no {name} row",
                  file=sys.stderr)
        else:
            opencv.append(name)
    rows = {f"OpenCV {name}": ([], []) for name in opencv}
    ours = [(f"actiond track --init" + (f" --pipeline {os.path.basename(p)}" if p else ""), p)
            for p in args.pipeline]
    for label, _ in ours:
        rows[label] = ([], [])
    seconds = {}
    print(f"{len(sequences)} sequences (a person ≥ 50 % visible on frame 0) from {', '.join(dirs)}", file=sys.stderr)
    for n, (d, truth, target) in enumerate(sequences):
        video = os.path.join(d, truth["video"])
        frames = decode_video(video, truth["width"], truth["height"])
        gt = {f["index"]: (f["box"], f.get("visible", 1.0)) for f in target["frames"]}
        init, last = gt[0][0], target["frames"][-1]["index"]
        runs = {}
        for name in opencv:
            # OpenCV's results are kept beside the clip (they do not change between runs of actiond).
            cache = f"{video[:-4]}.{name}-{cv2.__version__}.sot.json"
            if os.path.exists(cache):
                saved = json.load(open(cache))
                runs[f"OpenCV {name}"] = {int(k): v for k, v in saved["boxes"].items()}
                seconds[f"OpenCV {name}"] = seconds.get(f"OpenCV {name}", 0.0) + saved["seconds"]
                continue
            t0 = time.time()
            runs[f"OpenCV {name}"] = run_opencv(name, frames, init, last)
            spent = time.time() - t0
            seconds[f"OpenCV {name}"] = seconds.get(f"OpenCV {name}", 0.0) + spent
            with open(cache, "w") as f:
                json.dump({"target": target["id"], "seconds": spent, "boxes": runs[f"OpenCV {name}"]}, f)
        for label, pipeline in list(ours):
            t0 = time.time()
            boxes, error = run_actiond(args.actiond, video, init, truth["fps"], pipeline)
            if boxes is None:
                print(f"skipping the row `{label}`: {error}", file=sys.stderr)
                ours.remove((label, pipeline))
                del rows[label]
                continue
            runs[label] = boxes
            seconds[label] = seconds.get(label, 0.0) + time.time() - t0
        for label, boxes in runs.items():
            ious, errors = rows[label]
            for i in range(1, last + 1):
                if i not in gt or gt[i][1] < MIN_VISIBLE:
                    continue
                box = boxes.get(i)
                ious.append(iou(box, gt[i][0]) if box is not None else 0.0)
                errors.append(centre_error(box, gt[i][0]) if box is not None else float("inf"))
        print(f"{n + 1}/{len(sequences)} {os.path.basename(video)}: target {target['id']}, frames 0…{last}",
              file=sys.stderr)
    results = {label: summarise(*v) for label, v in rows.items() if v[0]}
    first = next(iter(results.values()), {"frames": 0})
    print(f"{len(sequences)} sequences (seeds {' '.join(map(str, args.seed)) if not args.dir else args.dir}), "
          f"{first['frames']} frames with the target ≥ 30 % visible")
    print()
    print("| tracker | success AUC | precision@20px | mean IoU | success@0.5 | seconds |")
    print("|---|---|---|---|---|---|")
    for label, m in results.items():
        print(f"| {label} | {m['AUC']:.3f} | {m['P@20']:.3f} | {m['mean_IoU']:.3f} | {m['success@0.5']:.3f} "
              f"| {seconds.get(label, 0):.1f} |")
    if args.save:
        with open(args.save, "w") as f:
            json.dump({"sequences": len(sequences), "rows": results}, f, indent=1)


if __name__ == "__main__":
    main()
