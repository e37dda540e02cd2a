#!/usr/bin/env python3
"""Throughput of each shipped pipeline (issue 5): video-seconds classified per wall-second by `actiond classify`
on a rendered clip at 640x480 (decoded and scaled to the pipeline's 320x240 working size, like a camera feed).
Python standard library only.

  tools/bench-pipelines.py [--actiond .build/release/actiond] [--seconds 30] [--size 640x480] [--fps 25]
                           [--runs 3] [--threads N]

Prints, per pipeline, the median wall time over --runs runs, video-s per wall-s, and CPU time (user+sys).
The first row runs a pipeline with only its `decode` stage: the cost of decoding and scaling alone.
"""
import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd: list) -> tuple:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--actiond", default=os.path.join(ROOT, ".build/release/actiond"))
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--fps", type=int, default=25, help="frame rate of the rendered source clip")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pipelines-") as work:
        subprocess.run([args.actiond, "synth", "--out", work, "--seed", "8202", "--clips", "1", "--seconds",
                        str(args.seconds), "--size", args.size, "--fps", str(args.fps), "--switch"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        clip = os.path.join(work, "s8202-c00000.mp4")
        decode_only = os.path.join(work, "decode.yaml")
        with open(decode_only, "w") as f:
            f.write("version: 1\npipeline:\n  - decode: { fps: 15, size: 320x240, resize: letterbox }\n")
        pipelines = [("decode only", decode_only)] + [
            (name, os.path.join(ROOT, "pipelines", f"{name}.yaml")) for name in ["default", "two-stream", "cnn-rnn"]]
        threads = ["--threads", str(args.threads)] if args.threads else []
        print(f"{args.seconds:g} s clip at {args.size}, {args.fps} fps, decoded at 15 fps into 320x240; median of {args.runs} runs; "
              f"load average before: {os.getloadavg()[0]:.2f}")
        for name, pipeline in pipelines:
            runs = [timed([args.actiond, "classify", clip, "--pipeline", pipeline, "--json"] + threads)
                    for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            print(f"  {name:12s} wall {wall:6.2f} s  {args.seconds / wall:6.1f} video-s per wall-s   "
                  f"CPU {cpu:6.2f} s  {args.seconds / cpu:6.1f} video-s per CPU-s")


if __name__ == "__main__":
    main()
