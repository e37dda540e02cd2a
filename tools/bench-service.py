#!/usr/bin/env python3
"""Measures `actiond run` as a service (issue 6): files per minute through a watched folder, and the time a live
stream takes to come back after an outage. Python standard library only; needs `ffmpeg` and a built actiond.

  tools/bench-service.py [--actiond .build/release/actiond] [--files 40] [--seconds 4] [--size 320x240]
                         [--outages 3] [--outage 3] [--reconnect-initial 1] [--reconnect-max 60] [--threads N]

Files: renders --files clips, starts the daemon on an empty inbox (default pipeline, done: move), copies them all
in at once and times from the first copy to the last file moved to done/ (median of --runs runs).
Streams: ffmpeg serves a looping clip as MPEG-TS over TCP; the server is killed, kept down --outage seconds and
restarted, --outages times; reported per outage: how long after the server came back the first frame arrived
(`reconnect`), and the outage the daemon logged (`source_up` event's `outage` field: loss → first frame).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pipeline_body() -> str:
    text = open(os.path.join(ROOT, "pipelines", "default.yaml")).read()
    text = text.replace("../models", os.path.join(ROOT, "models"))
    return "\n".join(line for line in text.splitlines() if not line.startswith("version:"))


def start_daemon(actiond: str, work: str, service: str, threads) -> subprocess.Popen:
    config = os.path.join(work, "actiond.yaml")
    with open(config, "w") as f:
        f.write(f"version: 1\njournal: {work}/state/journal.sqlite\n{service}\n{pipeline_body()}\n")
    args = [actiond, "run", "--config", config] + (["--threads", str(threads)] if threads else [])
    return subprocess.Popen(args, stderr=open(os.path.join(work, "daemon.stderr"), "w"))


def wait(condition, timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def log_lines(path: str) -> list:
    try:
        return [json.loads(line) for line in open(path) if line.strip()]
    except FileNotFoundError:
        return []


def bench_files(args, clips: list, run: int) -> float:
    work = tempfile.mkdtemp(prefix=f"bench-service-files{run}-")
    inbox, done = os.path.join(work, "inbox"), os.path.join(work, "done")
    os.makedirs(inbox)
    daemon = start_daemon(args.actiond, work, f"""sources:
  - id: inbox
    watch: {inbox}
    settle: 1
    done: move:{done}
sinks:
  - jsonl: {{ path: {work}/actions.jsonl }}""", args.threads)
    try:
        assert wait(lambda: "watching" in open(os.path.join(work, "daemon.stderr")).read(), 30), "daemon did not start"
        start = time.monotonic()
        for i, clip in enumerate(clips):
            shutil.copy(clip, os.path.join(inbox, f"c{i:04d}.mp4"))
        ok = wait(lambda: os.path.isdir(done) and len(os.listdir(done)) == len(clips), 3600, 0.05)
        elapsed = time.monotonic() - start
        assert ok, "not every file was processed"
        return elapsed
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(60)
        shutil.rmtree(work, ignore_errors=True)


def bench_stream(args, clip: str) -> list:
    work = tempfile.mkdtemp(prefix="bench-service-stream-")
    port = free_port()
    log = os.path.join(work, "actions.jsonl")

    def serve():
        return subprocess.Popen(["ffmpeg", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", clip, "-c", "copy",
                                 "-f", "mpegts", f"tcp://127.0.0.1:{port}?listen=1"], stderr=subprocess.DEVNULL)

    def ups():
        return [e for e in log_lines(log) if e.get("event") == "source_up"]

    server = serve()
    time.sleep(0.5)
    daemon = start_daemon(args.actiond, work, f"""sources:
  - id: cam
    url: tcp://127.0.0.1:{port}
    stall: 5
    reconnect: {{ initial: {args.reconnect_initial}, max: {args.reconnect_max} }}
    lifecycle: true
sinks:
  - jsonl: {{ path: {log} }}""", args.threads)
    results = []
    try:
        assert wait(lambda: len(ups()) >= 1, 60), "stream never came up"
        for _ in range(args.outages):
            time.sleep(2)
            server.kill()
            server.wait()
            seen = len(ups())
            time.sleep(args.outage)
            back = time.monotonic()
            server = serve()
            assert wait(lambda: len(ups()) > seen, 120, 0.005), "stream did not come back"
            reconnect = time.monotonic() - back
            results.append((reconnect, ups()[-1].get("outage")))
    finally:
        server.kill()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(60)
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--actiond", default=os.path.join(ROOT, ".build/release/actiond"))
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--outages", type=int, default=3)
    ap.add_argument("--outage", type=float, default=3, help="seconds the stream server stays down")
    ap.add_argument("--reconnect-initial", type=float, default=1, help="the stream source's reconnect.initial")
    ap.add_argument("--reconnect-max", type=float, default=60, help="the stream source's reconnect.max")
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    clips_dir = tempfile.mkdtemp(prefix="bench-service-clips-")
    try:
        subprocess.run([args.actiond, "synth", "--out", clips_dir, "--seed", "8101", "--clips", str(args.files),
                        "--seconds", str(args.seconds), "--size", args.size, "--jobs", "2"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        clips = sorted(os.path.join(clips_dir, f) for f in os.listdir(clips_dir) if f.endswith(".mp4"))
        times = [bench_files(args, clips, run) for run in range(args.runs)]
        median = statistics.median(times)
        print(f"watched folder: {len(clips)} files of {args.seconds:g} s at {args.size}: median {median:.2f} s "
              f"over {args.runs} runs ({min(times):.2f}–{max(times):.2f}) = {len(clips) / median * 60:.0f} files/min, "
              f"{len(clips) * args.seconds / median:.1f} video-s per wall-s")
        if args.outages == 0:
            return
        results = bench_stream(args, clips[0])
        for i, (reconnect, outage) in enumerate(results):
            print(f"stream outage {i + 1}: server down {args.outage:g} s; first frame {reconnect:.2f} s after the "
                  f"server came back; outage logged by actiond {outage} s")
        print(f"median reconnect after the server is back: {statistics.median(r for r, _ in results):.2f} s "
              f"(backoff: initial {args.reconnect_initial:g} s, doubling, max {args.reconnect_max:g} s, jitter ×0.5–1)")
    finally:
        shutil.rmtree(clips_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
