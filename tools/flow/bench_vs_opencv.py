#!/usr/bin/env python3
"""Our dense flow beside OpenCV's, in one run: median ms per pair and mean EPE for each DIS preset (and
Farneback) at 320x240 and 640x480 with 1 and 2 threads, and the ratios (ours / OpenCV).

Two clocks: wall time (what a caller waits; the only one that shows the 2-thread speed-up) and process CPU
time (all threads; unlike wall time it stays honest when other processes load the machine). Runs of ours and
OpenCV's alternate in rounds so both see the same load.

Both sides time the same generated textured pair ('smooth-field' at that size, the pair `actiond bench flow`
times) and score EPE on the same five synthetic pairs, from the same 8-bit frames (dumped by actiond).

    /work/venv-flow/bin/python tools/flow/bench_vs_opencv.py [--actiond .build/release/actiond] [--runs 31]
"""
import argparse
import json
import statistics
import subprocess
import tempfile
import time

import cv2
import numpy as np

from opencv_reference import dump_pairs, epe, inside_mask, load_pair, opencv_flow

SIZES = [(320, 240), (640, 480)]
METHODS = ["dis-ultrafast", "dis-fast", "dis-medium", "farneback"]


def ours(actiond, size, method, threads, runs, epe=True):
    args = [actiond, "bench", "flow", "--size", f"{size[0]}x{size[1]}", "--threads", str(threads),
            "--runs", str(runs), "--json"] + (["--epe"] if epe else [])
    args += ["--method", "farneback"] if method == "farneback" else ["--method", "dis", "--preset", method[4:]]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    return result["median_ms"], result["median_cpu_ms"], result.get("epe_mean")


def theirs(directory, pairs, size, method, threads, runs):
    cv2.setNumThreads(threads)
    name = f"smooth-field-{size[0]}x{size[1]}"
    i0, i1, _ = load_pair(directory, name)
    opencv_flow(method, i0, i1)  # warm-up
    times, cpu = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        opencv_flow(method, i0, i1)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - cpu_start) * 1000)
    errors = []
    for pair in pairs:
        if (pair["width"], pair["height"]) != size:
            continue
        a, b, truth = load_pair(directory, pair["name"])
        errors.append(epe(opencv_flow(method, a, b), truth, inside_mask(truth)))
    return statistics.median(times), statistics.median(cpu), float(np.mean(errors))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actiond", default=".build/release/actiond")
    parser.add_argument("--runs", type=int, default=21, help="timed runs per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of ours and OpenCV's")
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    print(f"OpenCV {cv2.__version__}; median of {args.rounds} rounds x {args.runs} runs; "
          "EPE = mean over the 5 synthetic motions")
    header = (f"{'method':<14}{'size':>9}{'thr':>4} | {'wall ms':>8}{'cv':>8}{'ratio':>7} | {'cpu ms':>8}{'cv':>8}"
              f"{'ratio':>7} | {'EPE':>7}{'cv':>7}{'ratio':>7}")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as directory:
        pairs = dump_pairs(args.actiond, directory)
        for method in args.methods.split(","):
            for size in SIZES:
                for threads in (1, 2):
                    # Alternate rounds of ours and OpenCV's so a load spike hits both; medians of the rounds.
                    rounds = [], []
                    our_epe = cv_epe = None
                    for r in range(args.rounds):
                        o_ms, o_cpu, e = ours(args.actiond, size, method, threads, args.runs, epe=r == 0)
                        c_ms, c_cpu, ce = theirs(directory, pairs, size, method, threads, args.runs)
                        rounds[0].append((o_ms, o_cpu))
                        rounds[1].append((c_ms, c_cpu))
                        our_epe = e if r == 0 else our_epe
                        cv_epe = ce
                    our_ms, our_cpu = (statistics.median(x) for x in zip(*rounds[0]))
                    cv_ms, cv_cpu = (statistics.median(x) for x in zip(*rounds[1]))
                    print(f"{method:<14}{size[0]:>5}x{size[1]:<3}{threads:>4} | {our_ms:8.2f}{cv_ms:8.2f}"
                          f"{our_ms / cv_ms:7.2f} | {our_cpu:8.2f}{cv_cpu:8.2f}{our_cpu / cv_cpu:7.2f} | "
                          f"{our_epe:7.3f}{cv_epe:7.3f}{our_epe / cv_epe:7.2f}", flush=True)


if __name__ == "__main__":
    main()
