#!/usr/bin/env python3
"""OpenCV's endpoint error on actiond's synthetic flow pairs, written as a small JSON fixture.

actiond owns the deterministic pair generator: this script runs `actiond bench flow --dump-pairs DIR`
(frames as uint8 .npy, ground truth as float32 HxWx2 .npy, manifest.json with fingerprints), runs OpenCV's
DIS (each preset) and Farneback on exactly those 8-bit frames, and writes the mean EPE over pixels whose
flow target lies inside the frame. Tests/FlowTests compare our EPE against these numbers.

    python3 -m venv /work/venv-flow && /work/venv-flow/bin/pip install opencv-python-headless numpy
    swift build -c release
    /work/venv-flow/bin/python tools/flow/opencv_reference.py \
        --out Tests/FlowTests/Fixtures/opencv_epe.json
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

PRESETS = {
    "dis-ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "dis-fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "dis-medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
# The usual Farneback call (pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags); FarnebackOptions'
# defaults mirror it.
FARNEBACK = (0.5, 3, 15, 3, 5, 1.2, 0)


def dump_pairs(actiond, directory):
    subprocess.run([actiond, "bench", "flow", "--dump-pairs", directory], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(directory, "manifest.json")) as f:
        return json.load(f)["pairs"]


def load_pair(directory, name):
    i0 = np.load(os.path.join(directory, name + "_frame1.npy"))
    i1 = np.load(os.path.join(directory, name + "_frame2.npy"))
    truth = np.load(os.path.join(directory, name + "_truth.npy"))
    return i0, i1, truth


def inside_mask(truth):
    h, w = truth.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    tx, ty = xs + truth[..., 0], ys + truth[..., 1]
    return (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)


def epe(flow, truth, mask):
    err = np.sqrt(((flow.astype(np.float64) - truth.astype(np.float64)) ** 2).sum(axis=2))
    return float(err[mask].mean())


def opencv_flow(method, i0, i1):
    if method == "farneback":
        return cv2.calcOpticalFlowFarneback(i0, i1, None, *FARNEBACK)
    return cv2.DISOpticalFlow_create(PRESETS[method]).calc(i0, i1, None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actiond", default=".build/release/actiond", help="actiond binary")
    parser.add_argument("--out", default="Tests/FlowTests/Fixtures/opencv_epe.json")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # DIS splits patch stripes by thread count: fix it so the numbers are reproducible
    with tempfile.TemporaryDirectory() as directory:
        pairs = dump_pairs(args.actiond, directory)
        result = {"opencv": cv2.__version__, "threads": 1, "farneback": list(FARNEBACK), "pairs": {}}
        for pair in pairs:
            i0, i1, truth = load_pair(directory, pair["name"])
            mask = inside_mask(truth)
            entry = {"fingerprint": pair["fingerprint"], "zero-flow": epe(np.zeros_like(truth), truth, mask)}
            for method in list(PRESETS) + ["farneback"]:
                entry[method] = round(epe(opencv_flow(method, i0, i1), truth, mask), 5)
            entry["zero-flow"] = round(entry["zero-flow"], 5)
            result["pairs"][pair["name"]] = entry
            print(pair["name"], " ".join(f"{k}={v}" for k, v in entry.items() if k != "fingerprint"),
                  file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
