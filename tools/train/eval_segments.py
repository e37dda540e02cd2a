#!/usr/bin/env python3
# Segment quality of a pipeline on multi-action clips (`actiond synth --switch`): runs `actiond classify --json
# --all-scores` on every clip and reports the fraction of the performer's ground-truth segments matched by a
# predicted segment with the same label and temporal IoU >= 0.5 (one-to-one, best IoU first), and the fraction
# of predicted segments that match one. Standard library only.
#
#   eval_segments.py --actiond BIN --pipeline pipelines/default.yaml [--jobs J] [--limit N] CLIPDIR
#   eval_segments.py ... --smooth window=5,enter=0.5,exit=0.3,min_length=0.5   (override the smooth stage)
#   eval_segments.py ... --tune       (grid-search smooth settings by F1 on these clips; use a validation seed)
#
# --tune replays each clip's window scores through a copy of the smoother (ScoreSmoother.swift's rule: moving
# average over the last `window` clips, open at >= enter, stay open while >= exit, drop segments shorter than
# min_length) to rank settings cheaply; the numbers that count are the ones actiond itself produces.
import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

IOU = 0.5


def iou(a: tuple, b: tuple) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def match(truth: list, predicted: list) -> int:
    """Number of ground-truth segments matched one-to-one by a predicted segment of the same label with
    IoU >= 0.5, pairing the highest IoUs first. Segments are (label, start, end)."""
    pairs = sorted(((iou(t[1:], p[1:]), i, j) for i, t in enumerate(truth) for j, p in enumerate(predicted)
                    if t[0] == p[0]), reverse=True)
    used_t, used_p = set(), set()
    for value, i, j in pairs:
        if value < IOU:
            break
        if i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
    return len(used_t)


def with_smooth(pipeline: str, smooth: str, directory: str) -> str:
    """A copy of the pipeline (model paths made absolute) whose smooth stage has the given settings."""
    base = os.path.dirname(os.path.abspath(pipeline))
    out = []
    with open(pipeline) as f:
        text = f.read()
    for line in text.splitlines():
        m = re.match(r"^(\s+\w+:\s*)(\S+\.yaml)\s*$", line)
        if m and not os.path.isabs(m.group(2)):
            line = m.group(1) + os.path.normpath(os.path.join(base, m.group(2)))
        if smooth and re.match(r"^\s*-\s*smooth:", line):
            fields = ", ".join(f"{k}: {v}" for k, v in (kv.split("=") for kv in smooth.split(",")))
            line = line[:line.index("-")] + f"- smooth: {{ {fields} }}"
        out.append(line)
    path = os.path.join(directory, "pipeline.yaml")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


def smooth_settings(pipeline: str) -> tuple:
    """(window, enter, exit, min_length) of the pipeline's smooth stage, with the stage's defaults."""
    with open(pipeline) as f:
        lines = f.read().splitlines()
    line = next((t for t in lines if re.match(r"^\s*-\s*smooth:", t)), "")

    def value(key: str, default: float) -> float:
        m = re.search(rf"\b{key}:\s*([0-9.]+)", line)
        return float(m.group(1)) if m else default
    return int(value("window", 3)), value("enter", 0.6), value("exit", 0.4), value("min_length", 0.0)


def run_clip(actiond: str, pipeline: str, truth_path: str) -> dict:
    with open(truth_path) as f:
        truth = json.load(f)
    performer = next(p for p in truth["people"] if p["id"] == 0)
    video = os.path.join(os.path.dirname(truth_path), truth["video"])
    out = subprocess.run([actiond, "classify", video, "--pipeline", pipeline, "--all-scores", "--json",
                          "--threads", "1"], check=True, capture_output=True, text=True).stdout
    windows, segments = [], []
    for line in out.splitlines():
        row = json.loads(line)
        if "clip" in row:
            windows.append((row["clip"]["start"], row["clip"]["end"], row["clip"]["scores"]))
        elif "label" in row:
            segments.append((row["label"], row["start"], row["end"]))
    return {"name": os.path.basename(truth_path), "windows": windows, "predicted": segments,
            "truth": [(s["label"], s["start"], s["end"]) for s in performer["segments"]]}


def smooth(windows: list, window: int, enter: float, exit_: float, min_length: float) -> list:
    """ScoreSmoother's rule in Python (for --tune only)."""
    recent, open_, done = [], {}, []
    labels = list(windows[0][2]) if windows else []
    for start, end, scores in windows:
        recent = (recent + [scores])[-window:]
        for label in labels:
            score = sum(s[label] for s in recent) / len(recent)
            if label in open_:
                if score >= exit_:
                    open_[label][1] = end
                else:
                    done.append((label, *open_.pop(label)))
            elif score >= enter:
                open_[label] = [start, end]
    done += [(label, *span) for label, span in open_.items()]
    return [s for s in done if s[2] - s[1] >= min_length - 1e-9]


def summary(results: list, key: str = "predicted") -> dict:
    truth = sum(len(r["truth"]) for r in results)
    predicted = sum(len(r[key]) for r in results)
    matched = sum(match(r["truth"], r[key]) for r in results)
    per_label = {}
    for r in results:
        for t in r["truth"]:
            stats = per_label.setdefault(t[0], [0, 0])
            stats[0] += match([t], r[key])
            stats[1] += 1
    return {"clips": len(results), "truth_segments": truth, "predicted_segments": predicted,
            "matched": matched, "recall": matched / truth if truth else 0.0,
            "precision": matched / predicted if predicted else 0.0,
            "per_label": {k: round(v[0] / v[1], 3) for k, v in sorted(per_label.items())}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--actiond", default=".build/release/actiond")
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--smooth", default="", help="override the smooth stage: window=W,enter=E,exit=X,...")
    ap.add_argument("--tune", action="store_true", help="grid-search smooth settings (validation clips only)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("clips")
    args = ap.parse_args()
    files = sorted(os.path.join(args.clips, f) for f in os.listdir(args.clips) if f.endswith(".json"))
    if args.limit:
        files = files[:args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = with_smooth(args.pipeline, args.smooth, tmp)
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda f: run_clip(args.actiond, pipeline, f), files))
        settings = smooth_settings(pipeline)
    report = {"pipeline": args.pipeline, "smooth": args.smooth or "as configured", **summary(results)}
    # The replay must reproduce actiond's own segments, or --tune ranks something else than the smoother.
    same = sum(sorted((l, round(a, 3), round(b, 3)) for l, a, b in smooth(r["windows"], *settings)) ==
               sorted((l, round(a, 3), round(b, 3)) for l, a, b in r["predicted"]) for r in results)
    report["replay_agrees"] = f"{same}/{len(results)} clips"
    if args.tune:
        ranked = []
        for window, enter, exit_, min_length in itertools.product([1, 2, 3, 4], [0.25, 0.3, 0.35, 0.4, 0.5, 0.6],
                                                                  [0.1, 0.15, 0.2, 0.3, 0.4], [0.0, 0.5, 1.0]):
            if exit_ > enter:
                continue
            for r in results:
                r["replayed"] = smooth(r["windows"], window, enter, exit_, min_length)
            s = summary(results, "replayed")
            f1 = 2 * s["recall"] * s["precision"] / max(1e-9, s["recall"] + s["precision"])
            # Ranked by F1, not recall alone: low thresholds raise recall by reporting many spurious segments.
            ranked.append((f1, s["recall"], f"window={window},enter={enter},exit={exit_},min_length={min_length}"))
        ranked.sort(reverse=True)
        report["tuned"] = [{"smooth": s, "recall": round(r, 3), "f1": round(f, 3)} for f, r, s in ranked[:8]]
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
