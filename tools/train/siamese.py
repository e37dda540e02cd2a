#!/usr/bin/env python3
# The Siamese tracker's backbone (`models/default/tracker.*`, SiamFC family): renders busy scenes with
# `actiond synth`, decodes them with ffmpeg, cuts exemplar/search pairs of the same person at different times with
# SiamFC's geometry (context margin, search = twice the exemplar, mean-colour fill outside the frame), trains
# `siamese_net.SiameseNet` with SiamFC's balanced logistic loss on the 9×9 response, measures centre error and
# "peak on the right person" on validation pairs, exports the backbone to ONNX and writes the card.
#
#   python tools/train/siamese.py --actiond .build/release/actiond --work /tmp/actiond-siamese \
#       --out models/default --train-clips 400 --steps 4000
#
# Seeds: training 8101, validation 8202; the tracking evaluation (tools/eval/track_*.py) uses 8303/8304, never here.
#
# Crop geometry (the Swift tracker reproduces `crop` exactly; Tests/StagesTests/Fixtures/siamese checks it): for a
# box (x, y, w, h), centre (cx, cy) = (x + w/2, y + h/2), context p = (w + h)/2, exemplar side s_z =
# sqrt((w + p)(h + p)), search side s_x = 2·s_z. A crop of side s centred on (cx, cy) resized to S×S samples output
# pixel (row i, column j) at frame coordinates
#     u = cx − s/2 + (j + 0.5)·s/S − 0.5,    v = cy − s/2 + (i + 0.5)·s/S − 0.5
# (pixel k's centre is at coordinate k; this is cv2.resize INTER_LINEAR's and grid_sample(align_corners=False)'s
# half-pixel mapping) by bilinear interpolation of the four neighbours floor(u), floor(u)+1 × floor(v), floor(v)+1,
# where a neighbour outside the frame takes the frame's per-channel mean colour (the mean of all its pixels, as a
# float, not rounded). No antialiasing when shrinking. Values are in 0…255 and the network gets them / 255.
import argparse
import json
import math
import os
import subprocess
import sys
import time

# OpenMP threads that spin while waiting make a 2-core machine shared with other work 5–10× slower; sleep instead.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from siamese_net import EXEMPLAR, SEARCH, STRIDE, Exported, SiameseNet, macs  # noqa: E402

SEEDS = {"train": 8101, "val": 8202}
CONTEXT = 0.5
MIN_VISIBLE = 0.30        # exemplars and positive search targets: people at least this visible
ABSENT_VISIBLE = 0.10     # a target less visible than this in the search frame is absent: all cells negative
RADIUS = 10.0             # positive cells: within this many search-crop pixels of the target's centre
MAX_SHIFT = 26.0          # search crop centre moved off the target by up to this many search-crop pixels per axis
MAX_GAP = 30              # frames between exemplar and search (2 s at 15 fps), either direction
EVERY = 2                 # keep every n-th decoded frame


def exemplar_side(w: float, h: float, context: float = CONTEXT) -> float:
    p = context * (w + h)
    return math.sqrt((w + p) * (h + p))


def crop(frame: np.ndarray, cx: float, cy: float, side: float, size: int, mean: np.ndarray | None = None
         ) -> np.ndarray:
    """The square of `side` frame pixels centred on (cx, cy), resized to size×size: float32 (size, size, 3) in
    0…255, by the formula in the file comment (half-pixel centres, bilinear, mean colour outside the frame)."""
    h, w = frame.shape[:2]
    img = frame.astype(np.float32)
    if mean is None:
        mean = frame.reshape(-1, frame.shape[2]).astype(np.float64).mean(0)
    mean = np.asarray(mean, np.float32)
    k = (np.arange(size, dtype=np.float64) + 0.5) * (side / size) - 0.5
    u = cx - side / 2 + k
    v = cy - side / 2 + k
    u0, v0 = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
    fu, fv = (u - u0).astype(np.float32), (v - v0).astype(np.float32)

    def gather(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
        out = img[rows.clip(0, h - 1)][:, cols.clip(0, w - 1)]
        out[~inside] = mean
        return out

    top = gather(v0, u0) * (1 - fu)[None, :, None] + gather(v0, u0 + 1) * fu[None, :, None]
    bottom = gather(v0 + 1, u0) * (1 - fu)[None, :, None] + gather(v0 + 1, u0 + 1) * fu[None, :, None]
    return top * (1 - fv)[:, None, None] + bottom * fv[:, None, None]


def decode_video(path: str, w: int, h: int) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def render(actiond: str, work: str, split: str, clips: int, synth_args: list, log) -> str:
    out = os.path.join(work, "clips", split)
    have = len([f for f in os.listdir(out) if f.endswith(".json")]) if os.path.isdir(out) else 0
    if have < clips:
        cmd = [actiond, "synth", "--out", out, "--seed", str(SEEDS[split]), "--clips", str(clips), *synth_args]
        log("$ " + " ".join(cmd))
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    return out


class Split:
    """Decoded frames of one split (every EVERY-th frame, memory-mapped uint8 (F, H, W, 3)), their mean colours,
    and the people in them: `tracks[(clip, id)]` = rows (stored frame, cx, cy, w, h, visible) in time order,
    `people[f]` = rows (id, cx, cy, w, h, visible) of stored frame f."""

    def __init__(self, directory: str, clips: int, log):
        names = sorted(f[:-5] for f in os.listdir(directory) if f.endswith(".json"))[:clips]
        cache = os.path.join(directory, f"frames-{len(names)}-{EVERY}.npy")
        truths = [json.load(open(os.path.join(directory, n + ".json"))) for n in names]
        if not os.path.exists(cache):
            total = sum(len(range(0, t["frames"], EVERY)) for t in truths)
            t0 = truths[0]
            out = np.lib.format.open_memmap(cache + ".part", "w+", np.uint8, (total, t0["height"], t0["width"], 3))
            n = 0
            for c, truth in enumerate(truths):
                video = decode_video(os.path.join(directory, truth["video"]), truth["width"], truth["height"])
                keep = video[0:truth["frames"]:EVERY]
                out[n:n + len(keep)] = keep
                n += len(keep)
                if (c + 1) % 100 == 0:
                    log(f"  {directory}: decoded {c + 1}/{len(truths)} clips")
            out.flush()
            del out
            os.rename(cache + ".part", cache)
        self.frames = np.load(cache, mmap_mode="r")
        self.means = np.zeros((len(self.frames), 3), np.float32)
        self.tracks, self.people = {}, [[] for _ in range(len(self.frames))]
        base = 0
        for c, truth in enumerate(truths):
            for person in truth["people"]:
                rows = []
                for f in person["frames"]:
                    if f["index"] % EVERY:
                        continue
                    x, y, w, h = f["box"]
                    g = base + f["index"] // EVERY
                    row = (g, x + w / 2, y + h / 2, w, h, f.get("visible", 1.0))
                    rows.append(row)
                    self.people[g].append((person["id"],) + row[1:])
                if rows:
                    self.tracks[(c, person["id"])] = np.array(rows, np.float64)
            base += len(range(0, truth["frames"], EVERY))
        for f in range(len(self.frames)):
            self.means[f] = self.frames[f].reshape(-1, 3).mean(0)
        # Exemplars: people at least MIN_VISIBLE visible and at least 12 pixels tall.
        self.exemplars = [(key, i) for key, rows in self.tracks.items() for i, r in enumerate(rows)
                          if r[5] >= MIN_VISIBLE and r[4] >= 12 and r[3] >= 4]
        log(f"  {directory}: {len(truths)} clips, {len(self.frames)} frames, {len(self.tracks)} tracks, "
            f"{len(self.exemplars)} exemplars")


def sample_pair(split: Split, rng: np.random.Generator, augment: bool) -> dict | None:
    """One exemplar/search pair and its labels, or None when the draw is unusable (the caller draws again)."""
    key, i = split.exemplars[rng.integers(len(split.exemplars))]
    rows = split.tracks[key]
    g, cx, cy, w, h, _ = rows[i]
    # A search frame of the same person within MAX_GAP frames, either direction.
    near = np.nonzero((np.abs(rows[:, 0] - g) * EVERY <= MAX_GAP) & (rows[:, 0] != g))[0]
    if len(near) == 0:
        return None
    g2, tx, ty, tw, th, tvis = rows[near[rng.integers(len(near))]]
    if ABSENT_VISIBLE <= tvis < MIN_VISIBLE:
        return None   # partly hidden: neither a clear positive nor a clear absence
    present = tvis >= MIN_VISIBLE
    g, g2 = int(g), int(g2)
    s_z = exemplar_side(w, h)
    # Search size from the target's size in the search frame, jittered (the tracker's estimate is never exact).
    s_x = 2 * exemplar_side(tw, th) * math.exp(rng.uniform(-0.2, 0.2) if augment else 0.0)
    others = [p for p in split.people[g2] if p[0] != key[1] and p[5] >= MIN_VISIBLE]
    if others and rng.random() < 0.25:
        # Centred on somebody else: wherever the target is (maybe outside the crop), the response there is low.
        o = others[rng.integers(len(others))]
        scx, scy = o[1], o[2]
        shift = rng.uniform(-8, 8, 2) * s_x / SEARCH
    else:
        scx, scy = tx, ty
        shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, 2) * s_x / SEARCH
    scx, scy = scx + shift[0], scy + shift[1]
    z = crop(split.frames[g], cx, cy, s_z, EXEMPLAR, split.means[g])
    x = crop(split.frames[g2], scx, scy, s_x, SEARCH, split.means[g2])
    # The target's centre as a displacement from the search crop's centre, in search-crop pixels.
    d = np.array([tx - scx, ty - scy]) * SEARCH / s_x
    distractors = [np.array([o[1] - scx, o[2] - scy]) * SEARCH / s_x for o in others]
    distractors = [p for p in distractors if np.abs(p).max() < SEARCH / 2]
    if augment:
        if rng.random() < 0.5:
            z, x = z[:, ::-1], x[:, ::-1]
            d = d * [-1, 1]
            distractors = [p * [-1, 1] for p in distractors]
        # Light changes between the two times, and sensor-ish noise.
        z = z * rng.uniform(0.85, 1.15, 3).astype(np.float32)
        x = x * rng.uniform(0.85, 1.15, 3).astype(np.float32)
        if rng.random() < 0.1:
            z = np.repeat(z.mean(2, keepdims=True), 3, 2)
            x = np.repeat(x.mean(2, keepdims=True), 3, 2)
    return {"z": np.ascontiguousarray(z), "x": np.ascontiguousarray(x), "d": d, "present": present,
            "distractors": distractors, "s_x": s_x, "target_size": (tw, th)}


def response_size() -> int:
    from siamese_net import feature_size
    return feature_size(SEARCH) - feature_size(EXEMPLAR) + 1


def cell_offsets() -> np.ndarray:
    """(R, R, 2): the displacement (x, y) in search-crop pixels that each response cell stands for."""
    r = response_size()
    k = (np.arange(r) - (r - 1) / 2) * STRIDE
    return np.stack(np.meshgrid(k, k), -1)


def labels(pairs: list) -> tuple:
    """Targets (B, 1, R, R) in {0, 1} and SiamFC's balanced weights (half the weight on positives)."""
    offsets = cell_offsets()
    ys, ws = [], []
    for p in pairs:
        if p["present"]:
            y = (np.linalg.norm(offsets - p["d"], axis=-1) <= RADIUS).astype(np.float32)
        else:
            y = np.zeros(offsets.shape[:2], np.float32)
        pos = y.sum()
        neg = y.size - pos
        # An absent target's map is all negatives, weighted like the negatives of any other map.
        w = np.where(y > 0, 0.5 / max(pos, 1), 0.5 / max(neg, 1)).astype(np.float32)
        ys.append(y)
        ws.append(w)
    return torch.from_numpy(np.stack(ys)[:, None]), torch.from_numpy(np.stack(ws)[:, None])


def batch(pairs: list) -> tuple:
    z = torch.from_numpy(np.stack([p["z"] for p in pairs])).permute(0, 3, 1, 2).div_(255.0)
    x = torch.from_numpy(np.stack([p["x"] for p in pairs])).permute(0, 3, 1, 2).div_(255.0)
    return z.contiguous(), x.contiguous()


def draw(split: Split, rng: np.random.Generator, n: int, augment: bool) -> list:
    out = []
    while len(out) < n:
        p = sample_pair(split, rng, augment)
        if p is not None:
            out.append(p)
    return out


UPSAMPLE = 16


def peaks(logits: torch.Tensor) -> np.ndarray:
    """(B, 1, R, R) → (B, 2) displacement (x, y) of the response peak in search-crop pixels, after SiamFC's bicubic
    upsampling (×16 between cells)."""
    r = logits.shape[-1]
    n = (r - 1) * UPSAMPLE + 1
    up = F.interpolate(logits, size=(n, n), mode="bicubic", align_corners=True)[:, 0]
    flat = up.reshape(len(up), -1).argmax(1).numpy()
    rows, cols = flat // n, flat % n
    scale = STRIDE / UPSAMPLE
    return np.stack([(cols - (n - 1) / 2) * scale, (rows - (n - 1) / 2) * scale], 1)


def evaluate(net: SiameseNet, pairs: list, chunk: int = 64) -> dict:
    """Centre error of the response peak on held-out pairs (frame pixels), precision at 10 and 20 frame pixels,
    how often the peak is nearer the target than any other person ≥ 30 % visible in the search crop, and the
    mean peak probability with the target present vs absent."""
    net.eval()
    errors, right, present_p, absent_p = [], [], [], []
    with torch.no_grad():
        for s in range(0, len(pairs), chunk):
            part = pairs[s:s + chunk]
            z, x = batch(part)
            logits = net.response(net.features(z), net.features(x))
            top = torch.sigmoid(logits).amax((1, 2, 3)).numpy()
            found = peaks(logits)
            for p, q, prob in zip(part, found, top):
                if not p["present"]:
                    absent_p.append(prob)
                    continue
                present_p.append(prob)
                if np.abs(p["d"]).max() > SEARCH / 2 - 8:
                    continue    # the target's centre is (almost) outside the search crop
                errors.append(np.linalg.norm(q - p["d"]) * p["s_x"] / SEARCH)
                if p["distractors"]:
                    nearest = min(np.linalg.norm(q - o) for o in p["distractors"])
                    right.append(np.linalg.norm(q - p["d"]) < nearest)
    net.train()
    e = np.array(errors)
    return {"pairs": len(e), "centre_error": float(np.mean(e)), "median_error": float(np.median(e)),
            "P@10": float(np.mean(e <= 10)), "P@20": float(np.mean(e <= 20)),
            "with_distractor": len(right), "right_person": float(np.mean(right)) if right else float("nan"),
            "p_present": float(np.mean(present_p)), "p_absent": float(np.mean(absent_p)) if absent_p else float("nan")}


def export(net: SiameseNet, path: str) -> dict:
    """ONNX (opset 17, dynamic N, H, W, BN folded) checked against torch with onnxruntime at 64 and 128, plus the
    single-thread ONNX Runtime latency (median ms) of one exemplar and one search crop."""
    import onnx
    import onnxruntime as ort
    graph = Exported(net).eval()
    sample = torch.rand(1, 3, SEARCH, SEARCH)
    torch.onnx.export(graph, (sample,), path, input_names=["image"], output_names=["features"], opset_version=17,
                      dynamo=False, do_constant_folding=True,
                      dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "features": {0: "N", 2: "h", 3: "w"}})
    model = without_identities(onnx.load(path))
    onnx.save(model, path)
    onnx.checker.check_model(model)
    ops = sorted({n.op_type for n in model.graph.node})
    for n in model.graph.node:
        for a in n.attribute:
            if a.name == "pads" and any(a.ints):
                raise SystemExit(f"{path}: {n.op_type} {n.name} pads {list(a.ints)}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    info = {"ops": ops, "bytes": os.path.getsize(path), "max_abs_diff": 0.0}
    net.eval()
    for side in (EXEMPLAR, SEARCH):
        x = torch.rand(2, 3, side, side)
        with torch.no_grad():
            want = net.features(x).numpy()
        got = session.run(["features"], {"image": x.numpy()})[0]
        diff = float(np.abs(got - want).max())
        if not diff < 1e-3 * max(1.0, float(np.abs(want).max())):
            raise SystemExit(f"{path}: onnxruntime differs from torch by {diff} at {side}")
        info["max_abs_diff"] = max(info["max_abs_diff"], diff)
        one = x[:1].numpy()
        for _ in range(20):
            session.run(["features"], {"image": one})
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            session.run(["features"], {"image": one})
            times.append(time.perf_counter() - t0)
        info[f"ort_ms_{side}"] = float(np.median(times) * 1e3)
        info[f"shape_{side}"] = list(got.shape[1:])
    net.train()
    return info


def without_identities(model):
    """The exporter shares equal constants through Identity nodes (e.g. the BN-folded biases of an untrained net);
    give each its own initializer instead, so the graph holds only Conv, Relu and MaxPool."""
    import copy
    inits = {i.name: i for i in model.graph.initializer}
    keep = []
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            t = copy.deepcopy(inits[node.input[0]])
            t.name = node.output[0]
            model.graph.initializer.append(t)
        else:
            keep.append(node)
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description="Train the Siamese tracker backbone on rendered busy scenes")
    ap.add_argument("--actiond", required=True)
    ap.add_argument("--work", default="/tmp/actiond-siamese")
    ap.add_argument("--out", default="models/default")
    ap.add_argument("--train-clips", type=int, default=400)
    ap.add_argument("--val-clips", type=int, default=40)
    ap.add_argument("--val-pairs", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--minutes", type=float, default=45, help="stop (and export the best so far) after this long")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--synth", default="--busy --people 6 --seconds 4 --size 320x240",
                    help="options of `actiond synth` for the clips, space-separated; write --synth='--busy …'")
    ap.add_argument("--export-only", action="store_true", help="export siamese-best.pt from --work and write the card")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    os.makedirs(args.work, exist_ok=True)
    logf = open(os.path.join(args.work, "siamese.log"), "a")

    def log(msg: str) -> None:
        line = time.strftime("%H:%M:%S ") + msg
        print(line, file=sys.stderr, flush=True)
        logf.write(line + "\n")
        logf.flush()

    synth_args = args.synth.split()
    val = Split(render(args.actiond, args.work, "val", args.val_clips, synth_args, log), args.val_clips, log)
    val_pairs = draw(val, np.random.default_rng(1), args.val_pairs, augment=False)
    net = SiameseNet()
    params = sum(p.numel() for p in net.backbone.parameters())
    mac = {side: macs(SiameseNet(), side) for side in (EXEMPLAR, SEARCH)}
    log(f"SiameseNet: {params} parameters, {mac[SEARCH] / 1e6:.1f} M MACs at {SEARCH}, "
        f"{mac[EXEMPLAR] / 1e6:.1f} M at {EXEMPLAR}")
    best_path = os.path.join(args.work, "siamese-best.pt")
    if not args.export_only:
        train = Split(render(args.actiond, args.work, "train", args.train_clips, synth_args, log), args.train_clips,
                      log)
        best = train_loop(net, train, val_pairs, args, best_path, log)
    net.load_state_dict(torch.load(best_path))
    metrics = evaluate(net, val_pairs)
    log(f"best: {metrics}")
    os.makedirs(args.out, exist_ok=True)
    info = export(net, os.path.join(args.out, "tracker.onnx"))
    log(f"exported {info}")
    write_card(os.path.join(args.out, "tracker.yaml"), net, metrics, params, mac, info)


def train_loop(net: SiameseNet, train: Split, val_pairs: list, args, best_path: str, log) -> dict:
    decay = [p for n, p in net.named_parameters() if p.ndim == 4]
    rest = [p for n, p in net.named_parameters() if p.ndim != 4]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0}],
                            lr=args.lr)
    rng = np.random.default_rng(0)
    best, t_start, sums = None, time.time(), {"loss": 0.0, "n": 0}
    for step in range(1, args.steps + 1):
        # Warm-up then cosine decay over whichever runs out first, the steps or the minutes, so a slow shared
        # machine still ends the run with a decayed learning rate.
        progress = max((step - 1) / args.steps, (time.time() - t_start) / (args.minutes * 60))
        lr = args.lr * min(1.0, progress / 0.03) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        for group in opt.param_groups:
            group["lr"] = max(lr, args.lr * 1e-3)
        pairs = draw(train, rng, args.batch, augment=True)
        z, x = batch(pairs)
        y, w = labels(pairs)
        logits = net.response(net.features(z), net.features(x))
        loss = (F.binary_cross_entropy_with_logits(logits, y, reduction="none") * w).sum() / len(pairs)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        sums["loss"] += float(loss.detach())
        sums["n"] += 1
        out_of_time = progress >= 1.0
        if step % 50 == 0:
            log(f"step {step}/{args.steps} loss {sums['loss'] / sums['n']:.4f} scale {float(net.scale):.5f} "
                f"bias {float(net.bias):.3f} lr {lr:.5f} {time.time() - t_start:.0f}s")
            sums = {"loss": 0.0, "n": 0}
        if step % args.eval_every == 0 or step == args.steps or out_of_time:
            m = evaluate(net, val_pairs)
            log(f"val step {step}: " + " ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                                 for k, v in m.items()))
            torch.save(net.state_dict(), os.path.join(args.work, "siamese-last.pt"))
            score = m["P@20"] + m["right_person"]
            if best is None or score > best[0]:
                best = (score, m, step)
                torch.save(net.state_dict(), best_path)
        if out_of_time:
            log(f"stopping after {args.minutes} minutes at step {step}")
            break
    return best[1]


def write_card(path: str, net: SiameseNet, m: dict, params: int, mac: dict, info: dict) -> None:
    text = f"""# tracker: Siamese-correlation backbone (SiamFC family) of actiond's rendered world (actiond synth),
# NOT a model of real video. Trained by tools/train/siamese.py on exemplar/search pairs of the same person up to 2 s
# apart in busy rendered scenes (seed {SEEDS['train']}); see docs/models.md and docs/tracking-eval.md.
# {params} parameters; {mac[SEARCH] / 1e6:.1f} M multiply-adds on a {SEARCH}x{SEARCH} search crop, \
{mac[EXEMPLAR] / 1e6:.1f} M on a {EXEMPLAR}x{EXEMPLAR} exemplar;
# ONNX Runtime 1 thread: {info['ort_ms_128']:.2f} ms ({SEARCH}), {info['ort_ms_64']:.2f} ms ({EXEMPLAR}).
# Features: 4x4x128 (exemplar), 12x12x128 (search) -> 9x9 response; response cell (row u, column v) = target
# centre displaced by ((v-4)*8, (u-4)*8) search-crop pixels from the search crop's centre.
# Validation ({m['pairs']} held-out pairs, seed {SEEDS['val']}, peak of the x16 bicubic-upsampled response):
# centre error {m['centre_error']:.1f} px mean / {m['median_error']:.1f} px median (320x240 frames), \
P@10 {m['P@10']:.3f}, P@20 {m['P@20']:.3f};
# peak on the right person when another is in the search crop: {m['right_person']:.3f} \
({m['with_distractor']} pairs);
# mean peak probability with the target present {m['p_present']:.2f}, hidden (< 10 % visible) {m['p_absent']:.2f}.
kind: tracker
onnx: tracker.onnx
input:
  name: image
  layout: NCHW
  size: {EXEMPLAR}x{EXEMPLAR}
  colour: rgb
  pixels: unit
output:
  name: features
  kind: features
siamese:
  search: {SEARCH}
  stride: {STRIDE}
  context: {CONTEXT}
  scale: {float(net.scale):.6g}
  bias: {float(net.bias):.6g}
"""
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
