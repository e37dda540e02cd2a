#!/usr/bin/env python3
"""Conv kernel timings, actiond vs torch and ONNX Runtime, on the conv layers of r3d_18, mc3_18, r2plus1d_18
(1x3x16x112x112) and resnet18 (1x3x224x224), same thread count, in one invocation.

Runs `actiond bench conv --json` for our medians, then times torch.nn.functional.conv2d/conv3d and a one-node
ONNX Runtime Conv model (bias + ReLU fused by ORT's optimiser, as ours fuses them) on the same shapes, and
prints per-layer and per-model (count-weighted) ratios. Needs torch, onnx, onnxruntime (a venv outside the
repo: python3 -m venv /work/venv-kernels && /work/venv-kernels/bin/pip install torch onnx onnxruntime).

usage: tools/bench-conv.py [--bin .build/release/actiond] [--threads 2] [--runs 5] [--model r3d_18] [--layer X]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time


def median_ms(fn, runs, warmup):
    """(median, min) wall time of `fn` in ms; min is the better estimate on a machine others are loading."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples), min(samples)


def torch_ms(layer, runs, warmup):
    import torch
    import torch.nn.functional as F
    rank = len(layer["kernel"])
    x = torch.randn(1, layer["in_channels"], *layer["input"])
    w = torch.randn(layer["out_channels"], layer["in_channels"] // layer["group"], *layer["kernel"]) * 0.1
    b = torch.randn(layer["out_channels"]) * 0.1
    if layer["pads_begin"] != layer["pads_end"]:
        return float("nan"), float("nan")
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]

    def run():
        with torch.no_grad():
            torch.relu_(conv(x, w, b, stride=layer["strides"], padding=layer["pads_begin"],
                             dilation=layer["dilations"], groups=layer["group"]))
    return median_ms(run, runs, warmup)


def ort_ms(layer, threads, runs, warmup):
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    cin, cout, group = layer["in_channels"], layer["out_channels"], layer["group"]
    x_shape = [1, cin, *layer["input"]]
    w = (rng.standard_normal((cout, cin // group, *layer["kernel"])) * 0.1).astype(np.float32)
    b = (rng.standard_normal(cout) * 0.1).astype(np.float32)
    conv = helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=layer["kernel"], strides=layer["strides"],
                            dilations=layer["dilations"], pads=layer["pads_begin"] + layer["pads_end"], group=group)
    relu = helper.make_node("Relu", ["c"], ["y"])
    graph = helper.make_graph(
        [conv, relu], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feed = {"x": rng.standard_normal(x_shape).astype(np.float32)}
    return median_ms(lambda: session.run(None, feed), runs, warmup)


def worker(kind, threads, runs, warmup):
    """Times every layer read from stdin (one JSON object a line) with one framework; prints ms a line."""
    if kind == "torch":
        import torch
        torch.set_num_threads(threads)
    for line in sys.stdin:
        layer = json.loads(line)
        ms = torch_ms(layer, runs, warmup) if kind == "torch" else ort_ms(layer, threads, runs, warmup)
        print(*ms, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=".build/release/actiond")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--model")
    parser.add_argument("--layer")
    parser.add_argument("--no-torch", action="store_true", help="skip torch (ORT only)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat ours/torch/ort this many times and keep each layer's best median and min "
                             "(on a shared machine the load shifts between phases)")
    parser.add_argument("--worker", choices=["torch", "ort"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.threads, args.runs, args.warmup)

    command = [args.bin, "bench", "conv", "--json", "--threads", str(args.threads), "--runs", str(args.runs),
               "--warmup", str(args.warmup)]
    if args.model:
        command += ["--model", args.model]
    if args.layer:
        command += ["--layer", args.layer]
    ours, theirs = None, {}
    for _ in range(args.rounds):
        run = [json.loads(line) for line in subprocess.run(command, check=True, capture_output=True,
                                                            text=True).stdout.splitlines() if line.startswith("{")]
        if ours is None:
            ours = run
        else:
            for best, new in zip(ours, run):
                best["ms"], best["min_ms"] = min(best["ms"], new["ms"]), min(best["min_ms"], new["min_ms"])
        # Each framework runs in its own process, one after the other, so no thread pool spins while another
        # framework is timed.
        layers_text = "".join(json.dumps(layer) + "\n" for layer in ours)
        for kind in ([] if args.no_torch else ["torch"]) + ["ort"]:
            result = subprocess.run([sys.executable, __file__, "--worker", kind, "--threads", str(args.threads),
                                     "--runs", str(args.runs), "--warmup", str(args.warmup)],
                                    input=layers_text, check=True, capture_output=True, text=True)
            times = [tuple(float(x) for x in line.split()) for line in result.stdout.splitlines()]
            previous = theirs.get(kind, times)
            theirs[kind] = [(min(a[0], b[0]), min(a[1], b[1])) for a, b in zip(previous, times)]
    nan = [(float("nan"), float("nan"))] * len(ours)
    torch_times, ort_times = theirs.get("torch", nan), theirs["ort"]

    print(f"bench-conv: {args.threads} thread(s), {args.runs} runs, best of {args.rounds} round(s); median (min) ms; "
          f"ratio of medians (of mins) = ours / theirs, < 1: ours faster")
    print(f"{'model':12} {'layer':24} {'n':>2} {'GFLOP':>6} {'ours':>15} {'torch':>15} {'ort':>15} "
          f"{'/torch':>12} {'/ort':>12}")
    totals = {}

    def pair(a, b, digits=2):
        return f"{a:.{digits}f} ({b:.{digits}f})"
    for layer, t, o in zip(ours, torch_times, ort_times):
        us, n = (layer["ms"], layer["min_ms"]), layer["count"]
        total = totals.setdefault(layer["model"], [0.0] * 6)
        for i, v in enumerate(us + t + o):
            total[i] += n * v
        print(f"{layer['model']:12} {layer['layer']:24} {n:>2} {layer['gflop']:6.2f} {pair(*us):>15} "
              f"{pair(*t):>15} {pair(*o):>15} {pair(us[0] / t[0], us[1] / t[1]):>12} "
              f"{pair(us[0] / o[0], us[1] / o[1]):>12}")
    print()
    for model, v in totals.items():
        print(f"total {model:12} ours {pair(v[0], v[1], 1)} ms  torch {pair(v[2], v[3], 1)} ms  "
              f"ort {pair(v[4], v[5], 1)} ms  ours/torch {pair(v[0] / v[2], v[1] / v[3])}  "
              f"ours/ort {pair(v[0] / v[4], v[1] / v[5])}")


if __name__ == "__main__":
    sys.exit(main())
