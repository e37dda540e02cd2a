#!/usr/bin/env python3
# Multi-person tracking metrics (MOTA, IDF1, ID switches, MT/ML with py-motmetrics; HOTA with Roboflow `trackers`'
# TrackEval-parity implementation) of `actiond track --json` and of Roboflow `trackers`' ByteTrack fed with the
# same `actiond detect --json` detections, against `actiond synth` ground truth, in one markdown table.
#
#   tools/eval/track_mot.py --actiond .build/release/actiond --seed 8303 8304 --clips 30 \
#       [--pipeline pipelines/track-iou.yaml pipelines/track-siamese.yaml] [--work DIR] [--dir DIR]
#
# Renders `--clips` busy clips per seed (never a training seed: the tracker trains on 8101/8202, the detector on
# 7101/7202) and keeps those with 3…6 ground-truth people (people at least 30 % visible in some frame). Per clip,
# `actiond detect CLIP --json --threshold 0.01` runs once; ByteTrack gets the detections scoring ≥ --low (0.1,
# ByteTrack's floor for its second, low-score association). Our rows run `actiond track CLIP --json` (once with
# actiond's default pipeline, once per `--pipeline`); they are skipped with a message when the binary has no
# `track` command. Every processed frame is matched to the ground-truth frame shown at its time.
#
# Scoring: a ground-truth person less than 30 % visible in a frame is neither hit nor miss. As TrackEval does for
# MOT17's distractor classes: per frame, predictions are matched to all ground-truth boxes (Hungarian on IoU,
# pairs with IoU ≥ 0.5), predictions matched to an ignored person are removed, then the ignored people are removed.
# CLEAR MOT and IDF1 match at IoU ≥ 0.5; HOTA averages over IoU thresholds 0.05…0.95.
# Needs: pip install motmetrics trackers (a venv outside the repo; trackers brings supervision and scipy).
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
MATCH_IOU = 0.5


def json_lines(cmd: list) -> list:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def has_track_command(actiond: str) -> bool:
    """True when `actiond track` exists (an unknown subcommand's --help prints the top-level overview)."""
    r = subprocess.run([actiond, "track", "--help"], capture_output=True, text=True)
    return r.returncode == 0 and "actiond track" in (r.stdout + r.stderr)


def truth_by_frame(truth: dict) -> dict:
    """frame index → (ids (G,), boxes xywh (G, 4), visible (G,))."""
    rows = {}
    for person in truth["people"]:
        for f in person["frames"]:
            rows.setdefault(f["index"], []).append((person["id"], f["box"], f.get("visible", 1.0)))
    out = {}
    for i in range(truth["frames"]):
        r = rows.get(i, [])
        out[i] = (np.array([p[0] for p in r], int), np.array([p[1] for p in r], float).reshape(-1, 4),
                  np.array([p[2] for p in r], float))
    return out


def people_in(truth: dict) -> int:
    return sum(any(f.get("visible", 1.0) >= MIN_VISIBLE for f in p["frames"]) for p in truth["people"])


def iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(G, 4) × (P, 4) → (G, P)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return inter / np.maximum(union, 1e-9)


def drop_ignored(gt: tuple, hyp: tuple) -> tuple:
    """Removes ground truth less than MIN_VISIBLE visible and the predictions matched to it (see file comment)."""
    from scipy.optimize import linear_sum_assignment
    ids, boxes, visible = gt
    hids, hboxes = hyp
    ignored = visible < MIN_VISIBLE
    keep_hyp = np.ones(len(hids), bool)
    if ignored.any() and len(hids):
        iou = iou_xywh(boxes, hboxes)
        score = np.where(iou >= MATCH_IOU - 1e-9, iou, 0)
        rows, cols = linear_sum_assignment(-score)
        for r, c in zip(rows, cols):
            if score[r, c] > 0 and ignored[r]:
                keep_hyp[c] = False
    return (ids[~ignored], boxes[~ignored]), (hids[keep_hyp], hboxes[keep_hyp])


class Sequence:
    """One clip's frames for one tracker: per evaluated frame (gt ids, gt boxes, hyp ids, hyp boxes)."""

    def __init__(self):
        self.frames = []

    def add(self, gt: tuple, hyp: tuple) -> None:
        (gids, gboxes), (hids, hboxes) = drop_ignored(gt, hyp)
        self.frames.append((gids, gboxes, hids, hboxes))


def score(sequences: list) -> dict:
    """MOTA, IDF1, … over all sequences (motmetrics' OVERALL) and HOTA (trackers.eval, TrackEval's definition)."""
    import motmetrics as mm
    from trackers.eval.hota import aggregate_hota_metrics, compute_hota_metrics
    accs, hotas = [], []
    for seq in sequences:
        acc = mm.MOTAccumulator(auto_id=True)
        gts, hyps, sims = [], [], []
        for gids, gboxes, hids, hboxes in seq.frames:
            iou = iou_xywh(gboxes, hboxes)
            # motmetrics' distance 1 − IoU, no pair below IoU 0.5 (its iou_matrix, which numpy 2 breaks).
            acc.update(list(gids), list(hids), np.where(iou >= MATCH_IOU, 1 - iou, np.nan))
            gts.append(gids)
            hyps.append(hids)
            sims.append(iou)
        accs.append(acc)
        hotas.append(compute_hota_metrics(gts, hyps, sims))
    mh = mm.metrics.create()
    names = [str(i) for i in range(len(accs))]
    summary = mh.compute_many(accs, names=names, generate_overall=True,
                              metrics=["mota", "motp", "idf1", "num_switches", "mostly_tracked", "mostly_lost",
                                       "num_unique_objects", "num_false_positives", "num_misses", "num_objects"])
    o = summary.loc["OVERALL"]
    h = aggregate_hota_metrics(hotas)
    return {"MOTA": float(o["mota"]), "IDF1": float(o["idf1"]), "IDsw": int(o["num_switches"]),
            "MT": int(o["mostly_tracked"]), "ML": int(o["mostly_lost"]), "GT": int(o["num_unique_objects"]),
            "FP": int(o["num_false_positives"]), "FN": int(o["num_misses"]), "objects": int(o["num_objects"]),
            "MOTP_IoU": 1 - float(o["motp"]), "HOTA": float(h["HOTA"]), "DetA": float(h["DetA"]),
            "AssA": float(h["AssA"])}


def bytetrack(detections: list, fps: float, args) -> list:
    """ByteTrack over the per-frame detections: per frame (ids, boxes xywh) of confirmed tracks."""
    import supervision as sv
    from trackers import ByteTrackTracker
    tracker = ByteTrackTracker(lost_track_buffer=args.bt_buffer, frame_rate=fps,
                               track_activation_threshold=args.bt_activation,
                               minimum_consecutive_frames=args.bt_min_frames,
                               minimum_iou_threshold=args.bt_min_iou, high_conf_det_threshold=args.bt_high)
    out = []
    for frame in detections:
        people = [p for p in frame["people"] if p["score"] >= args.low]
        boxes = np.array([p["box"] for p in people], float).reshape(-1, 4)
        xyxy = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], 1)
        dets = sv.Detections(xyxy=xyxy.astype(np.float32), confidence=np.array([p["score"] for p in people],
                                                                               np.float32),
                             class_id=np.zeros(len(people), int))
        result = tracker.update(dets)
        ids = np.asarray(result.tracker_id, int)
        keep = ids >= 0
        b = np.asarray(result.xyxy, float)[keep]
        out.append((ids[keep], np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], 1)))
    return out


def actiond_tracks(frames: list, states: set) -> list:
    """`actiond track --json` lines → per frame (ids, boxes) of the tracks in `states` (confirmed by default:
    a lost track's predicted box is not a claim that the person is seen)."""
    out = []
    for frame in frames:
        tracks = [t for t in frame["tracks"] if t.get("state", "confirmed") in states]
        out.append((np.array([t["id"] for t in tracks], int),
                    np.array([t["box"] for t in tracks], float).reshape(-1, 4)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="MOT metrics of actiond track and ByteTrack on rendered busy clips")
    ap.add_argument("--actiond", required=True)
    ap.add_argument("--pipeline", nargs="*", default=[], help="pipelines for extra `actiond track` rows "
                    "(e.g. a kind: iou one); actiond's default pipeline always gets a row")
    ap.add_argument("--no-default", action="store_true", help="no row for actiond's default pipeline")
    ap.add_argument("--dir", help="evaluate the clips in this folder instead of rendering")
    ap.add_argument("--seed", type=int, nargs="+", default=[8303, 8304])
    ap.add_argument("--clips", type=int, default=30, help="clips rendered per seed (before the 3…6 people filter)")
    ap.add_argument("--synth", default="--busy --people 6 --seconds 8 --size 320x240",
                    help="synth options (space-separated); write --synth='--busy …'")
    ap.add_argument("--min-people", type=int, default=3)
    ap.add_argument("--max-people", type=int, default=6)
    ap.add_argument("--work", help="where to render and cache detections (default: a temporary folder)")
    ap.add_argument("--states", default="confirmed", help="track states of `actiond track` that count as "
                    "predictions (comma-separated)")
    ap.add_argument("--low", type=float, default=0.1, help="detections below this score are not given to ByteTrack")
    ap.add_argument("--bt-high", type=float, default=0.5, help="ByteTrack: high/low score split")
    ap.add_argument("--bt-activation", type=float, default=0.6, help="ByteTrack: least score to start a track")
    ap.add_argument("--bt-buffer", type=int, default=30, help="ByteTrack: frames (at 30 fps) a lost track is kept")
    ap.add_argument("--bt-min-frames", type=int, default=2, help="ByteTrack: consecutive frames before an id")
    ap.add_argument("--bt-min-iou", type=float, default=0.1, help="ByteTrack: least IoU of a match")
    ap.add_argument("--save", help="also write the rows as JSON to this file")
    args = ap.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="actiond-track-eval-")
    found, dirs = rendered.truths(args, work)
    clips = [(d, truth) for d, truth in found if args.min_people <= people_in(truth) <= args.max_people]
    print(f"{len(clips)} clips with {args.min_people}…{args.max_people} people from {', '.join(dirs)}",
          file=sys.stderr)

    trackers = {"ByteTrack": []}
    ours = []
    if has_track_command(args.actiond):
        ours = ([("actiond track (default pipeline)", None)] if not args.no_default else []) + \
               [(f"actiond track --pipeline {os.path.basename(p)}", p) for p in args.pipeline]
        for label, _ in ours:
            trackers[label] = []
    else:
        print(f"{args.actiond} has no `track` command yet: only the ByteTrack row", file=sys.stderr)
    states = set(args.states.split(","))
    frames_total = 0
    seconds = {}
    for n, (d, truth) in enumerate(clips):
        video = os.path.join(d, truth["video"])
        gt = truth_by_frame(truth)
        cache = video[:-4] + ".det.jsonl"
        if os.path.exists(cache):
            dets = [json.loads(line) for line in open(cache) if line.strip()]
        else:
            dets = json_lines([args.actiond, "detect", video, "--json", "--threshold", "0.01"])
            with open(cache, "w") as f:
                f.writelines(json.dumps(r) + "\n" for r in dets)
        shown = [int(round(r["t"] * truth["fps"])) for r in dets]
        fps = truth["fps"] * len(dets) / max(truth["frames"], 1)
        frames_total += len(dets)
        runs = {"ByteTrack": bytetrack(dets, fps, args)}
        for label, pipeline in list(ours):
            cmd = [args.actiond, "track", video, "--json"] + (["--pipeline", pipeline] if pipeline else [])
            t0 = time.time()
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"skipping the row `{label}`: {' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}",
                      file=sys.stderr)
                ours.remove((label, pipeline))
                del trackers[label]
                continue
            lines = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
            runs[label] = actiond_tracks(lines, states)
            frames_list = [int(round(r["t"] * truth["fps"])) for r in lines]
            if frames_list != shown:
                print(f"{video}: {label} processed other frames than detect ({len(lines)} vs {len(dets)}); "
                      "matching each by its own time", file=sys.stderr)
            runs[label] = list(zip(frames_list, runs[label]))
            seconds[label] = seconds.get(label, 0.0) + time.time() - t0
        runs["ByteTrack"] = list(zip(shown, runs["ByteTrack"]))
        for label, rows in runs.items():
            seq = Sequence()
            for index, hyp in rows:
                if index in gt:
                    seq.add(gt[index], hyp)
            trackers[label].append(seq)
        print(f"{n + 1}/{len(clips)} {os.path.basename(video)}", file=sys.stderr)

    results = {label: score(seqs) for label, seqs in trackers.items()}
    print(f"{len(clips)} clips (seeds {' '.join(map(str, args.seed)) if not args.dir else args.dir}), "
          f"{frames_total} frames, {next(iter(results.values()))['GT']} people; people < 30 % visible ignored")
    print()
    print("| tracker | MOTA | IDF1 | HOTA | DetA | AssA | ID switches | MT | ML | FP | FN |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, m in results.items():
        print(f"| {label} | {100 * m['MOTA']:.1f} | {100 * m['IDF1']:.1f} | {100 * m['HOTA']:.1f} "
              f"| {100 * m['DetA']:.1f} | {100 * m['AssA']:.1f} | {m['IDsw']} | {m['MT']} | {m['ML']} "
              f"| {m['FP']} | {m['FN']} |")
    for label, s in seconds.items():
        print(f"\n{label}: {s:.1f} s for {frames_total} frames (whole command: decode, detect, track)",
              file=sys.stderr)
    if args.save:
        with open(args.save, "w") as f:
            json.dump({"clips": len(clips), "frames": frames_total, "rows": results}, f, indent=1)


if __name__ == "__main__":
    main()
