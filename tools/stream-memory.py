#!/usr/bin/env python3
"""Measures what a live stream costs in memory: the daemon's peak and current RSS with 1 and with N streams on the
same pipeline (every stream shares the pipeline's compiled models; each adds only its decoder, queues, clip
buffers and runner buffers). Python standard library only; needs `ffmpeg` and a built actiond.

  tools/stream-memory.py [--actiond .build/release/actiond] [--pipeline default.yaml] [--streams 1,4]
                         [--seconds 30] [--size 640x480]

For each count, ffmpeg serves that many looping copies of one rendered clip as MPEG-TS over TCP (real time, -re),
the daemon runs one `url:` source per server, and after --seconds of streaming the script reads VmHWM (peak RSS)
and VmRSS from /proc/PID/status and `actiond_model_compilations_total` from /metrics. Prints one row per count and
the cost per added stream: (RSS(N) − RSS(1)) / (N − 1).
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def measure(args, work: str, clip: str, count: int):
    pipeline = open(os.path.join(ROOT, "pipelines", args.pipeline)).read().replace("../models",
                                                                                  os.path.join(ROOT, "models"))
    pipeline = "\n".join(line for line in pipeline.splitlines() if not line.startswith("version:"))
    ports = [free_port() for _ in range(count)]
    metrics = free_port()
    servers = [subprocess.Popen(["ffmpeg", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", clip, "-c", "copy",
                                 "-f", "mpegts", f"tcp://127.0.0.1:{port}?listen=1"]) for port in ports]
    sources = "".join(f"  - id: cam{i}\n    url: tcp://127.0.0.1:{port}\n    reconnect: {{ initial: 0.2, max: 1 }}\n"
                      for i, port in enumerate(ports))
    config = os.path.join(work, f"streams-{count}.yaml")
    with open(config, "w") as f:
        f.write(f"version: 1\njournal: {work}/journal-{count}.sqlite\nmetrics: {{ listen: 127.0.0.1:{metrics} }}\n"
                f"sources:\n{sources}sinks:\n  - jsonl: {{ path: {work}/events-{count}.jsonl }}\n{pipeline}\n")
    daemon = subprocess.Popen([args.actiond, "run", "--config", config, "--threads", "1"],
                              stderr=open(os.path.join(work, f"daemon-{count}.log"), "w"))
    try:
        time.sleep(args.seconds)
        peak, now = status_kib(daemon.pid, "VmHWM"), status_kib(daemon.pid, "VmRSS")
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=10).read().decode()
        compilations = [line for line in text.splitlines() if line.startswith("actiond_model_compilations_total{")]
        decoded = sum(float(line.split()[-1]) for line in text.splitlines()
                      if line.startswith("actiond_frames_decoded_total{"))
        return peak, now, compilations, decoded
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        for server in servers:
            server.terminate()
            server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actiond", default=os.path.join(ROOT, ".build", "release", "actiond"))
    parser.add_argument("--pipeline", default="default.yaml")
    parser.add_argument("--streams", default="1,4")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--size", default="640x480")
    args = parser.parse_args()
    counts = [int(c) for c in args.streams.split(",")]
    work = tempfile.mkdtemp(prefix="actiond-stream-memory-")
    try:
        subprocess.run([args.actiond, "synth", "--out", work, "--seed", "9191", "--clips", "1", "--seconds", "8",
                        "--size", args.size, "--switch"], check=True, stdout=subprocess.DEVNULL)
        clip = os.path.join(work, "s9191-c00000.mp4")
        rows = {}
        print(f"pipeline {args.pipeline}, {args.size} streams, {args.seconds:.0f} s each run")
        print(f"{'streams':>7} {'peak RSS MiB':>13} {'RSS MiB':>8} {'frames decoded':>15}  compilations")
        for count in counts:
            peak, now, compilations, decoded = measure(args, work, clip, count)
            rows[count] = (peak, now)
            values = ", ".join(line.split()[-1] for line in compilations) or "none"
            print(f"{count:>7} {peak / 1024:>13.1f} {now / 1024:>8.1f} {decoded:>15.0f}  {values}")
        if len(counts) > 1 and counts[0] == 1:
            for count in counts[1:]:
                per = (rows[count][0] - rows[1][0]) / (count - 1) / 1024
                print(f"peak RSS per added stream (1 → {count}): {per:.1f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
