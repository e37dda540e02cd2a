#!/usr/bin/env python3
# The default person detector + COCO-17 keypoints (`models/default/people-pose.*`): renders busy scenes with
# `actiond synth`, decodes them with ffmpeg, letterboxes like serving (Ultralytics' LetterBox: centred, pad 114),
# trains `people_net.PeopleNet` with a task-aligned assigner (as YOLOv8 assigns: top-k anchors inside each box
# by score^0.5 · IoU^6), CIoU box loss, IoU-aware score targets, an OKS keypoint loss and a visibility loss,
# keeps an exponential moving average of the weights, evaluates box AP and keypoint OKS-AP on validation clips
# with pycocotools (tools/eval/coco.py), exports ONNX in Ultralytics' pose head format and writes the card.
#
#   python tools/train/people.py --actiond .build/release/actiond --work /tmp/actiond-people \
#       --out models/default --train-clips 600 --epochs 30
#
# Seeds: training 7101, validation 7202; evaluation (tools/eval/detect_ap.py) uses 7303 and others never used here.
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
sys.path.insert(0, os.path.join(HERE, "..", "eval"))
import coco  # noqa: E402
from people_net import KEYPOINTS, PeopleNet  # noqa: E402

SEEDS = {"train": 7101, "val": 7202}
INPUT_W, INPUT_H = 256, 192
FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
SIGMAS = torch.tensor(coco.SIGMAS)
TRAIN_MIN_VISIBLE = 0.2   # people less visible than this are neither positives nor negatives in training


def letterbox_params(w: int, h: int) -> tuple:
    """(scale, left, top, resized w, resized h) as Ultralytics' LetterBox(center=True) computes them."""
    r = min(INPUT_W / w, INPUT_H / h)
    nw, nh = int(round(w * r)), int(round(h * r))
    dw, dh = (INPUT_W - nw) / 2, (INPUT_H - nh) / 2
    return r, int(round(dw - 0.1)), int(round(dh - 0.1)), nw, nh


def letterbox(img: np.ndarray) -> np.ndarray:
    import cv2
    h, w = img.shape[:2]
    r, left, top, nw, nh = letterbox_params(w, h)
    if (nw, nh) != (w, h):
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    out = np.full((INPUT_H, INPUT_W, 3), 114, np.uint8)
    out[top:top + nh, left:left + nw] = img
    return out


def decode_video(path: str, w: int, h: int) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def render(actiond: str, work: str, split: str, clips: int, synth_args: list, log) -> str:
    out = os.path.join(work, "clips", split)
    have = len([f for f in os.listdir(out) if f.endswith(".json")]) if os.path.isdir(out) else 0
    if have < clips:
        cmd = [actiond, "synth", "--out", out, "--seed", str(SEEDS[split]), "--clips", str(clips), "--seconds", "4",
               "--size", "320x240", *synth_args]
        log("$ " + " ".join(cmd))
        subprocess.run(cmd, check=True, stdout=sys.stderr)
    return out


def load_split(directory: str, clips: int, every: int, log) -> tuple:
    """Letterboxed frames (N, H, W, 3) uint8 and per frame a float32 array (G, 5 + 51): x1, y1, x2, y2 (input
    pixels), visible fraction, 17 × (x, y, v). Cached beside the clips (`frames-<clips>-<every>-<size>.npz`)."""
    cache = os.path.join(directory, f"frames-{clips}-{every}-{INPUT_W}x{INPUT_H}.npz")
    if os.path.exists(cache):
        data = np.load(cache, allow_pickle=True)
        return data["images"], list(data["labels"])
    images, labels = read_split(directory, clips, every, log)
    holder = np.empty(len(labels), dtype=object)
    holder[:] = labels
    np.savez(cache, images=images, labels=holder)
    return images, labels


def read_split(directory: str, clips: int, every: int, log) -> tuple:
    names = sorted(f[:-5] for f in os.listdir(directory) if f.endswith(".json"))[:clips]
    images, labels = [], []
    for n, name in enumerate(names):
        truth = json.load(open(os.path.join(directory, name + ".json")))
        video = decode_video(os.path.join(directory, truth["video"]), truth["width"], truth["height"])
        r, left, top, _, _ = letterbox_params(truth["width"], truth["height"])
        frames = list(range(0, len(video), every))
        people = coco.truth_frames(truth, frames)
        for i in frames:
            images.append(letterbox(video[i]))
            rows = []
            for (x, y, w, h), kps, visible in people[i]:
                k = np.array(kps, np.float32)
                k[:, 0] = k[:, 0] * r + left
                k[:, 1] = k[:, 1] * r + top
                rows.append(np.concatenate([[x * r + left, y * r + top, (x + w) * r + left, (y + h) * r + top,
                                             visible], k.flatten()]).astype(np.float32))
            labels.append(np.stack(rows) if rows else np.zeros((0, 5 + 3 * KEYPOINTS), np.float32))
        if (n + 1) % 50 == 0:
            log(f"  {directory}: {n + 1}/{len(names)} clips, {len(images)} frames")
    return np.stack(images), labels


def augment(img: np.ndarray, lab: np.ndarray, rng: np.random.Generator) -> tuple:
    """Random zoom (0.6–1.5) about a random point, shift, horizontal flip and colour jitter; labels follow."""
    import cv2
    s = math.exp(rng.uniform(math.log(0.6), math.log(1.5)))
    tx = rng.uniform(-0.2, 0.2) * INPUT_W + (1 - s) * INPUT_W / 2
    ty = rng.uniform(-0.2, 0.2) * INPUT_H + (1 - s) * INPUT_H / 2
    flip = rng.random() < 0.5
    a = -s if flip else s
    bx = INPUT_W - tx if flip else tx
    m = np.array([[a, 0, bx], [0, s, ty]], np.float32)
    out = cv2.warpAffine(img, m, (INPUT_W, INPUT_H), flags=cv2.INTER_LINEAR, borderValue=(114, 114, 114))
    hsv_gain = rng.uniform(0.75, 1.25, 3).astype(np.float32)
    out = np.clip(out.astype(np.float32) * hsv_gain * rng.uniform(0.8, 1.2), 0, 255).astype(np.uint8)
    lab = lab.copy()
    if len(lab):
        xs = lab[:, [0, 2]] * a + bx
        lab[:, 0], lab[:, 2] = xs.min(1), xs.max(1)
        lab[:, [1, 3]] = lab[:, [1, 3]] * s + ty
        k = lab[:, 5:].reshape(-1, KEYPOINTS, 3)
        k[:, :, 0] = k[:, :, 0] * a + bx
        k[:, :, 1] = k[:, :, 1] * s + ty
        if flip:
            k[:] = k[:, FLIP]
        outside = (k[:, :, 0] < 0) | (k[:, :, 0] >= INPUT_W) | (k[:, :, 1] < 0) | (k[:, :, 1] >= INPUT_H)
        k[:, :, 2][outside] = 0
        lab[:, 5:] = k.reshape(-1, 3 * KEYPOINTS)
        full = (lab[:, 2] - lab[:, 0]) * (lab[:, 3] - lab[:, 1])
        lab[:, [0, 2]] = lab[:, [0, 2]].clip(0, INPUT_W)
        lab[:, [1, 3]] = lab[:, [1, 3]].clip(0, INPUT_H)
        kept = (lab[:, 2] - lab[:, 0]) * (lab[:, 3] - lab[:, 1])
        lab[:, 4] *= kept / np.maximum(full, 1e-6)
        lab = lab[(lab[:, 2] - lab[:, 0] > 1) & (lab[:, 3] - lab[:, 1] > 1)]
    return out, lab


def batch_tensor(images: list) -> torch.Tensor:
    """NCHW float in 0…1, stored channels-last (what oneDNN's CPU convolutions are fastest on)."""
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255.0)
    return x.contiguous(memory_format=torch.channels_last)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(G, 4) × (N, 4) xyxy → (G, N)."""
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(2)
    area_a = (a[:, 2:] - a[:, :2]).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).prod(1)
    return inter / (area_a[:, None] + area_b[None] - inter + 1e-9)


def ciou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Complete IoU of matched pairs (N, 4) xyxy."""
    lt, rb = torch.max(a[:, :2], b[:, :2]), torch.min(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(1)
    wa, ha = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    wb, hb = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    iou = inter / (wa * ha + wb * hb - inter + 1e-9)
    cw = torch.max(a[:, 2], b[:, 2]) - torch.min(a[:, 0], b[:, 0])
    ch = torch.max(a[:, 3], b[:, 3]) - torch.min(a[:, 1], b[:, 1])
    c2 = cw ** 2 + ch ** 2 + 1e-9
    rho2 = ((a[:, 0] + a[:, 2] - b[:, 0] - b[:, 2]) ** 2 + (a[:, 1] + a[:, 3] - b[:, 1] - b[:, 3]) ** 2) / 4
    v = (4 / math.pi ** 2) * (torch.atan(wb / (hb + 1e-9)) - torch.atan(wa / (ha + 1e-9))) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + 1e-9))
    return iou - (rho2 / c2 + v * alpha)


def xyxy(pred: torch.Tensor) -> torch.Tensor:
    """(B, 56, N) decoded → (B, N, 4) corner boxes."""
    cx, cy, w, h = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 2)


def assign(boxes: torch.Tensor, scores: torch.Tensor, centres: torch.Tensor, gt: torch.Tensor, topk: int = 10) -> tuple:
    """Task-aligned assignment for one image: (foreground mask (N,), gt index (N,), score target (N,))."""
    n = boxes.shape[0]
    inside = ((centres[0][None] > gt[:, 0:1]) & (centres[0][None] < gt[:, 2:3]) &
              (centres[1][None] > gt[:, 1:2]) & (centres[1][None] < gt[:, 3:4]))
    ious = box_iou(gt, boxes).clamp(min=0) * inside
    metric = scores[None].pow(0.5) * ious.pow(6.0) * inside
    top = metric.topk(min(topk, n), dim=1).indices
    mask = torch.zeros_like(metric).scatter_(1, top, 1.0) * inside
    multi = mask.sum(0) > 1
    if multi.any():
        best = F.one_hot(ious.argmax(0), gt.shape[0]).T.float()
        mask[:, multi] = best[:, multi]
    fg = mask.sum(0) > 0
    index = mask.argmax(0)
    metric = metric * mask
    norm = metric * (ious * mask).amax(1, keepdim=True) / (metric.amax(1, keepdim=True) + 1e-9)
    return fg, index, norm.amax(0)


def loss_fn(model: PeopleNet, x: torch.Tensor, labels: list) -> tuple:
    flat, centres, strides = model.flat(x)
    pred = PeopleNet.decode(flat, centres, strides)
    boxes = xyxy(pred)
    b, _, n = flat.shape
    score_t = torch.zeros(b, n)
    score_w = torch.ones(b, n)
    box_terms, kpt_terms = [], []
    for i, lab in enumerate(labels):
        if len(lab) == 0:
            continue
        lab = torch.from_numpy(lab)
        keep = lab[:, 4] >= TRAIN_MIN_VISIBLE
        ignored = lab[~keep]
        if len(ignored):
            c = centres
            inside = ((c[0][None] > ignored[:, 0:1]) & (c[0][None] < ignored[:, 2:3]) &
                      (c[1][None] > ignored[:, 1:2]) & (c[1][None] < ignored[:, 3:4])).any(0)
            score_w[i][inside] = 0
        gt = lab[keep]
        if len(gt) == 0:
            continue
        with torch.no_grad():
            fg, index, target = assign(boxes[i].detach(), torch.sigmoid(flat[i, 4]).detach(), centres, gt[:, :4])
        score_w[i][fg] = 1
        score_t[i] = target
        if fg.any():
            box_terms.append((boxes[i][fg], gt[index[fg], :4], target[fg]))
            kpt_terms.append((pred[i, 5:, fg].T.reshape(-1, KEYPOINTS, 3), flat[i, 5:, fg].T.reshape(-1, KEYPOINTS, 3),
                              gt[index[fg], 5:].reshape(-1, KEYPOINTS, 3), gt[index[fg], :4]))
    norm = max(float(score_t.sum()), 1.0)
    score_loss = (F.binary_cross_entropy_with_logits(flat[:, 4], score_t, reduction="none") * score_w).sum() / norm
    zero = flat.sum() * 0
    if not box_terms:
        return score_loss, {"score": float(score_loss.detach())}
    pb = torch.cat([t[0] for t in box_terms])
    gb = torch.cat([t[1] for t in box_terms])
    w = torch.cat([t[2] for t in box_terms])
    box_loss = ((1 - ciou(pb, gb)) * w).sum() / norm
    pk = torch.cat([t[0] for t in kpt_terms])
    rk = torch.cat([t[1] for t in kpt_terms])
    gk = torch.cat([t[2] for t in kpt_terms])
    gboxes = torch.cat([t[3] for t in kpt_terms])
    area = ((gboxes[:, 2] - gboxes[:, 0]) * (gboxes[:, 3] - gboxes[:, 1])).clamp(min=1)[:, None]
    labelled = (gk[:, :, 2] > 0).float()
    d2 = (pk[:, :, 0] - gk[:, :, 0]) ** 2 + (pk[:, :, 1] - gk[:, :, 1]) ** 2
    e = d2 / ((2 * SIGMAS[None]) ** 2 * area * 2 + 1e-9)
    factor = KEYPOINTS / (labelled.sum(1, keepdim=True) + 1e-9)
    oks_loss = (factor * (1 - torch.exp(-e)) * labelled).mean() if labelled.sum() > 0 else zero
    l1 = ((pk[:, :, 0] - gk[:, :, 0]).abs() + (pk[:, :, 1] - gk[:, :, 1]).abs()) / area.sqrt()
    l1_loss = (l1 * labelled).sum() / labelled.sum().clamp(min=1)
    vis_loss = F.binary_cross_entropy_with_logits(rk[:, :, 2], (gk[:, :, 2] == 2).float())
    total = 7.5 * box_loss + 1.0 * score_loss + 12.0 * oks_loss + 2.0 * l1_loss + 1.0 * vis_loss
    parts = {"box": box_loss, "score": score_loss, "oks": oks_loss, "l1": l1_loss, "vis": vis_loss}
    return total, {k: float(v.detach()) for k, v in parts.items()}


def nms_predictions(pred: torch.Tensor, conf: float = 0.001, iou: float = 0.6, max_det: int = 100) -> list:
    """(56, N) decoded → [(box xyxy, score, keypoints (17, 3))] after NMS, in input pixels."""
    import torchvision
    keep = pred[4] > conf
    p = pred[:, keep]
    boxes = xyxy(p[None])[0]
    order = torchvision.ops.nms(boxes, p[4], iou)[:max_det]
    return [(boxes[j], p[4, j], p[5:, j].reshape(KEYPOINTS, 3)) for j in order]


def evaluate(model: PeopleNet, images: np.ndarray, truths: list, batch: int = 32) -> dict:
    """COCO box AP and keypoint OKS-AP on letterboxed frames; truths are the (G, 56) label arrays (input pixels)."""
    model.eval()
    collector = coco.Collector()
    with torch.no_grad():
        for s in range(0, len(images), batch):
            out = model(batch_tensor(list(images[s:s + batch])))
            for j, pred in enumerate(out):
                lab = truths[s + j]
                people = [((r[0], r[1], r[2] - r[0], r[3] - r[1]), r[5:].reshape(KEYPOINTS, 3).tolist(), r[4])
                          for r in lab]
                dets = [((float(bx[0]), float(bx[1]), float(bx[2] - bx[0]), float(bx[3] - bx[1])), float(sc),
                         kp.tolist()) for bx, sc, kp in nms_predictions(pred)]
                collector.add_image(INPUT_W, INPUT_H, people, dets)
    model.train()
    return collector.evaluate()


class EMA:
    def __init__(self, model: torch.nn.Module, decay: float = 0.9995, tau: float = 1000):
        import copy
        self.model = copy.deepcopy(model).eval()
        self.decay, self.tau, self.updates = decay, tau, 0
        for p in self.model.parameters():
            p.requires_grad_(False)

    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        with torch.no_grad():
            msd = model.state_dict()
            for k, v in self.model.state_dict().items():
                if v.dtype.is_floating_point:
                    v.mul_(d).add_(msd[k].detach(), alpha=1 - d)
                else:
                    v.copy_(msd[k])


def export(model: PeopleNet, path: str, sample: torch.Tensor) -> dict:
    """ONNX (opset 17, TorchScript exporter, BN folded) checked against torch with onnxruntime."""
    import onnx
    import onnxruntime as ort
    model = model.eval()
    torch.onnx.export(model, (sample,), path, input_names=["images"], output_names=["output0"], opset_version=17,
                      dynamo=False, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    with torch.no_grad():
        want = model(sample).numpy()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(["output0"], {"images": sample.numpy()})[0]
    diff = float(np.abs(got - want).max())
    if not diff < 1e-3 * max(1.0, float(np.abs(want).max())):
        raise SystemExit(f"{path}: onnxruntime differs from torch by {diff}")
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    return {"max_abs_diff": diff, "ops": ops, "bytes": os.path.getsize(path), "shape": list(got.shape)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--actiond", required=True)
    ap.add_argument("--work", default="/tmp/actiond-people")
    ap.add_argument("--out", default="models/default")
    ap.add_argument("--train-clips", type=int, default=600)
    ap.add_argument("--val-clips", type=int, default=40)
    ap.add_argument("--every", type=int, default=3, help="use every n-th frame of the training clips")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--synth", default="--busy", help="options of `actiond synth` for the clips, space-separated; "
                    "write --synth=--busy (argparse takes a lone --busy for an option)")
    ap.add_argument("--init", help="checkpoint to continue from")
    ap.add_argument("--stop-after", type=int, help="stop after this many epochs of the schedule")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    os.makedirs(args.work, exist_ok=True)
    logf = open(os.path.join(args.work, "people.log"), "a")

    def log(msg: str) -> None:
        line = time.strftime("%H:%M:%S ") + msg
        print(line, file=sys.stderr, flush=True)
        logf.write(line + "\n")
        logf.flush()

    synth_args = args.synth.split()
    train_dir = render(args.actiond, args.work, "train", args.train_clips, synth_args, log)
    val_dir = render(args.actiond, args.work, "val", args.val_clips, synth_args, log)
    images, labels = load_split(train_dir, args.train_clips, args.every, log)
    val_images, val_labels = load_split(val_dir, args.val_clips, 4, log)
    log(f"train {len(images)} frames, {sum(len(l) for l in labels)} people; val {len(val_images)} frames")

    model = PeopleNet()
    if args.init:
        model.load_state_dict(torch.load(args.init))
    model = model.to(memory_format=torch.channels_last)
    params = sum(p.numel() for p in model.parameters())
    log(f"PeopleNet: {params} parameters")
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.ndim == 4 else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}],
                            lr=args.lr)
    steps_per_epoch = len(images) // args.batch
    total = max(steps_per_epoch * args.epochs, 100)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total, pct_start=0.05)
    ema = EMA(model)
    rng = np.random.default_rng(0)
    best = None
    for epoch in range(args.epochs):
        if args.stop_after is not None and epoch >= args.stop_after:
            break
        t0 = time.time()
        order = rng.permutation(len(images))
        sums = {}
        for step in range(steps_per_epoch):
            idx = order[step * args.batch:(step + 1) * args.batch]
            pairs = [augment(images[j], labels[j], rng) for j in idx]
            x = batch_tensor([p[0] for p in pairs])
            loss, parts = loss_fn(model, x, [p[1] for p in pairs])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            opt.step()
            sched.step()
            ema.update(model)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
            if step % 50 == 0:
                log(f"epoch {epoch + 1} step {step}/{steps_per_epoch} loss {float(loss):.3f} "
                    + " ".join(f"{k} {v:.3f}" for k, v in parts.items()))
        metrics = evaluate(ema.model, val_images, val_labels)
        log(f"epoch {epoch + 1}/{args.epochs} {time.time() - t0:.0f}s " +
            " ".join(f"{k} {v / steps_per_epoch:.3f}" for k, v in sums.items()) +
            f" | val AP50 {metrics['AP50']:.3f} AP {metrics['AP']:.3f} kAP {metrics.get('kAP', 0):.3f}")
        torch.save(ema.model.state_dict(), os.path.join(args.work, "people-last.pt"))
        if best is None or metrics["AP"] + metrics.get("kAP", 0) > best[0]:
            best = (metrics["AP"] + metrics.get("kAP", 0), metrics, epoch + 1)
            torch.save(ema.model.state_dict(), os.path.join(args.work, "people-best.pt"))

    final = PeopleNet()
    final.load_state_dict(torch.load(os.path.join(args.work, "people-best.pt")))
    os.makedirs(args.out, exist_ok=True)
    sample = batch_tensor(list(val_images[:1])).contiguous()
    info = export(final, os.path.join(args.out, "people-pose.onnx"), sample)
    log(f"exported {info} from epoch {best[2]} ({best[1]})")
    write_card(os.path.join(args.out, "people-pose.yaml"), best[1], best[2], params)


def write_card(path: str, metrics: dict, epoch: int, params: int) -> None:
    """The card (kind detector, Ultralytics pose rows) and its labels file (one class: person)."""
    labels = os.path.basename(path).replace(".yaml", "-labels.txt")
    with open(os.path.join(os.path.dirname(path), labels), "w") as f:
        f.write("person\n")
    text = f"""# people-pose: demo person detector + COCO-17 keypoints of actiond's rendered world (actiond synth),
# NOT a COCO model. Trained by tools/train/people.py; see docs/models.md.
# {params} parameters; validation clips (seed {SEEDS['val']}): box AP50 {metrics['AP50']:.3f}, AP@[.5:.95]
# {metrics['AP']:.3f}, keypoint OKS-AP {metrics.get('kAP', 0):.3f} (epoch {epoch}).
kind: detector
onnx: people-pose.onnx
input:
  name: images
  layout: NCHW
  size: {INPUT_W}x{INPUT_H}
  resize: letterbox
  fill: 114
  colour: rgb
  pixels: unit
output:
  name: output0
  kind: detections
  format: ultralytics-pose
  labels: {labels}
  keypoints: {KEYPOINTS}
  keypoint_values: 3
"""
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
