# Rendered evaluation clips for the tracking tools: `actiond synth` runs per seed into WORK/s<seed> (kept and
# reused when already there), and the ground truth of each clip, in name order.
import json
import os
import subprocess


def is_truth(name: str) -> bool:
    """A clip's ground-truth file (not a tool's cache beside it)."""
    return name.endswith(".json") and not name.endswith(".sot.json")


def render(actiond: str, out: str, seed: int, clips: int, synth_args: list) -> None:
    have = len([f for f in os.listdir(out) if is_truth(f)]) if os.path.isdir(out) else 0
    if have < clips:
        subprocess.run([actiond, "synth", "--out", out, "--seed", str(seed), "--clips", str(clips), *synth_args],
                       check=True, stdout=subprocess.DEVNULL)


def truths(args, work: str):
    """(folder, ground truth) of every clip to evaluate: all of `--dir`, or the first `--clips` of each `--seed`
    rendered under `work`. Also returns the folders."""
    if args.dir:
        dirs = [args.dir]
    else:
        dirs = []
        for seed in args.seed:
            out = os.path.join(work, f"s{seed}")
            render(args.actiond, out, seed, args.clips, args.synth.split())
            dirs.append(out)
    found = []
    for d in dirs:
        names = sorted(f for f in os.listdir(d) if is_truth(f))
        for name in names if args.dir else names[:args.clips]:
            with open(os.path.join(d, name)) as f:
                found.append((d, json.load(f)))
    return found, dirs
