# Reading `actiond dataset` output (labels.txt, index.jsonl, tensors/*.npy) into memory, a random stand-in in the
# same format for testing the loop, and the label-safe augmentations applied in the encoded (normalised) space.
import json
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class Split:
    labels: list            # vocabulary in card order
    inputs: dict            # onnx input name -> float32 array [N, ...] exactly as served
    targets: np.ndarray     # int64 [N]
    clips: list             # clip name per sample (clip-level accuracy averages windows of a clip)


class Rows:
    """Several [N_i, ...] arrays (memory-mapped stacked caches) read as one [ΣN_i, ...] array without loading
    them: a batch gathers only its rows, and two trainers on one dataset share the page cache instead of each
    holding a copy. `axes` permutes each sample's axes at read time (NCTHW → NTCHW for another card's layout)."""

    def __init__(self, parts: list, axes: tuple | None = None):
        self.parts = list(parts)
        self.axes = axes
        self.offsets = np.cumsum([0] + [len(p) for p in self.parts])
        row = tuple(self.parts[0].shape[1:])
        self.row_shape = tuple(row[a] for a in axes) if axes else row

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def shape(self) -> tuple:
        return (len(self),) + self.row_shape

    def __getitem__(self, index):
        rest = ()
        if isinstance(index, tuple):
            index, rest = index[0], index[1:]
        single = np.ndim(index) == 0 and not isinstance(index, slice)
        rows = np.arange(len(self))[index] if isinstance(index, slice) else np.atleast_1d(np.asarray(index))
        out = np.empty((len(rows),) + self.row_shape, dtype=np.float32)
        part = np.searchsorted(self.offsets, rows, side="right") - 1
        for p in np.unique(part):
            sel = np.nonzero(part == p)[0]
            got = np.asarray(self.parts[p][rows[sel] - self.offsets[p]], dtype=np.float32)
            out[sel] = got.transpose((0,) + tuple(a + 1 for a in self.axes)) if self.axes else got
        out = out[0] if single else out
        return out[rest] if rest else out

    def __array__(self, dtype=None, copy=None):
        return self[:] if dtype is None else self[:].astype(dtype)


def load(directory: str, input_names: list, drop_samples: bool = False, half: bool = False) -> Split:
    """Reads a dataset through one stacked cache per input beside the index (memory-mapped). With
    `drop_samples` the per-sample .npy files are deleted once stacked (they are the same bytes twice on disk).
    With `half` the cache is float16 and replaces the float32 one (half the page cache and disk: several 10 GB training sets did not fit in this
    machine's RAM and were re-read from disk every epoch); rows are float32 again when read. float16 keeps
    about 3 significant digits: 0.0005 in pixels of 0…1 (1/255 is 0.004), 0.01 px of flow at bound 20."""
    with open(os.path.join(directory, "labels.txt")) as f:
        labels = [line.strip() for line in f if line.strip()]
    rows = []
    with open(os.path.join(directory, "index.jsonl")) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    if not rows:
        raise SystemExit(f"{directory}: index.jsonl has no samples")
    index_time = os.path.getmtime(os.path.join(directory, "index.jsonl"))

    def fresh(path: str) -> bool:
        return os.path.exists(path) and os.path.getmtime(path) >= index_time
    inputs = {}
    for name in input_names:
        # One stacked copy per input beside the index, so a second run (or another model on the same dataset)
        # reads one file instead of thousands.
        cache = os.path.join(directory, f"stacked-{name}.npy")
        half_cache = cache[:-len(".npy")] + ".f16.npy"
        if fresh(half_cache) and (half or not fresh(cache)):
            # float16 replaces float32 under --half; a float32 run reads it too (rows are cast back to float32)
            inputs[name] = Rows([np.load(half_cache, mmap_mode="r")])
            continue
        if not fresh(cache):
            first = np.load(os.path.join(directory, rows[0]["inputs"][name]))
            tmp = f"{cache}.{os.getpid()}.tmp.npy"   # several trainers may share a dataset
            stacked = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(rows),) + first.shape)
            for i, r in enumerate(rows):
                stacked[i] = np.load(os.path.join(directory, r["inputs"][name]))
            stacked.flush()
            del stacked
            os.replace(tmp, cache)
        if half:
            half_cache = to_half(cache)
            os.remove(cache)         # the float16 copy replaces it (disk: the 96×96 sets are tens of GB)
            cache = half_cache
        inputs[name] = Rows([np.load(cache, mmap_mode="r")])
    if drop_samples:
        for r in rows:
            for path in r["inputs"].values():
                try:
                    os.remove(os.path.join(directory, path))
                except FileNotFoundError:
                    pass
    targets = np.array([r["label_index"] for r in rows], dtype=np.int64)
    for r in rows:
        if labels[r["label_index"]] != r["label"]:
            raise SystemExit(f"{directory}: sample {r['sample']} label {r['label']} != labels.txt[{r['label_index']}]")
    return Split(labels, inputs, targets, [r["clip"] for r in rows])


def to_half(cache: str, chunk: int = 256) -> str:
    """The float16 copy of a float32 stacked cache (written once, chunk by chunk, beside it)."""
    half = cache[:-len(".npy")] + ".f16.npy"
    if os.path.exists(half) and os.path.getmtime(half) >= os.path.getmtime(cache):
        return half
    full = np.load(cache, mmap_mode="r")
    tmp = f"{half}.{os.getpid()}.tmp.npy"
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=full.shape)
    for i in range(0, len(full), chunk):
        out[i:i + chunk] = full[i:i + chunk]
    out.flush()
    del out
    os.replace(tmp, half)
    return half


def write_random(directory: str, labels: list, shapes: dict, clips: int, windows: int, seed: int) -> None:
    """A dataset in the contract's format whose label is recoverable (a per-class pattern plus noise)."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(directory, "tensors"), exist_ok=True)
    with open(os.path.join(directory, "labels.txt"), "w") as f:
        f.write("".join(l + "\n" for l in labels))
    patterns = {n: rng.standard_normal((len(labels),) + tuple(s)).astype(np.float32) for n, s in shapes.items()}
    with open(os.path.join(directory, "index.jsonl"), "w") as index:
        for c in range(clips):
            label = c % len(labels)
            clip = f"s{seed}-c{c:05d}"
            for w in range(windows):
                sample = f"{clip}-w{w:03d}"
                paths = {}
                for n, s in shapes.items():
                    x = 0.5 * patterns[n][label] + rng.standard_normal(s).astype(np.float32)
                    paths[n] = f"tensors/{sample}-{n}.npy"
                    np.save(os.path.join(directory, paths[n]), x.astype("<f4"))
                index.write(json.dumps({"sample": sample, "clip": clip, "label": labels[label], "label_index": label,
                                        "start": w * 0.5, "end": w * 0.5 + 1.0, "inputs": paths}) + "\n")


@dataclass
class Encoding:
    """How the card maps pixels to tensors, so augmentations act on real pixel values and map back."""
    mean: torch.Tensor      # per RGB channel
    std: torch.Tensor
    scale: float            # 1 for unit pixels, 255 for byte pixels
    flow_zero: float        # encoded value of zero flow (0 for the −1…1 encoding, 128/255 or 128 for bytes)


def rgb_channel_axis(layout: str) -> int:
    # Batches as the loader stacks them: NCTHW → [N, C, T, H, W], NTCHW → [N, T, C, H, W], NCHW → [N, C, H, W]
    return {"NCTHW": 1, "NCHW": 1, "NTCHW": 2}[layout]


def augment_rgb(x: torch.Tensor, layout: str, enc: Encoding, g: torch.Generator, flip: torch.Tensor,
                crop: tuple) -> torch.Tensor:
    """Label-safe photometric and geometric jitter on a normalised RGB batch.

    Safe for every action in the vocabulary: horizontal flip (left/right are symmetric in all twelve actions; the
    mirrored person does the same action), scale/translate jitter (same for every frame of a clip, so motion is
    kept), brightness/contrast/colour gain and sensor noise. NOT used: temporal reversal (sit_down ↔ stand_up),
    speed change or frame skipping (walk ↔ run: cadence is the label), vertical flip (people do not stand on
    their heads, and sitting down would become rising)."""
    n = x.shape[0]
    axis = rgb_channel_axis(layout)
    shape = [1] * x.dim()
    shape[axis] = 3
    mean, std = enc.mean.view(shape), enc.std.view(shape)
    pix = (x * std + mean) / enc.scale                              # pixels in 0…1
    bshape = [n] + [1] * (x.dim() - 1)
    gain = 1 + 0.25 * (torch.rand(bshape, generator=g) * 2 - 1)
    cshape = list(bshape)
    cshape[axis] = 3
    colour = 1 + 0.06 * (torch.rand(cshape, generator=g) * 2 - 1)
    offset = 0.08 * (torch.rand(bshape, generator=g) * 2 - 1)
    centre = pix.mean(dim=tuple(range(1, x.dim())), keepdim=True)
    contrast = 1 + 0.2 * (torch.rand(bshape, generator=g) * 2 - 1)
    pix = (pix - centre) * contrast + centre
    pix = pix * gain * colour + offset
    pix = pix + torch.randn(pix.shape, generator=g) * (0.01 + 0.02 * torch.rand(bshape, generator=g))
    pix = pix.clamp(0, 1)
    out = (pix * enc.scale - mean) / std
    out = torch.where(flip.view(bshape), out.flip(-1), out)
    return spatial_jitter(out, crop)


def augment_flow(x: torch.Tensor, enc: Encoding, flip: torch.Tensor, crop: tuple) -> torch.Tensor:
    """Flow stack [N, 2L, H, W] (x1, y1, x2, y2, …): a horizontal flip mirrors the picture AND negates every
    x displacement, which in the encoded space is reflection about the zero-flow value."""
    n = x.shape[0]
    flipped = x.flip(-1).clone()
    flipped[:, 0::2] = 2 * enc.flow_zero - flipped[:, 0::2]
    out = torch.where(flip.view(n, 1, 1, 1), flipped, x)
    # Zooming in by z makes every displacement z times longer (in the −1…1 encoding, before re-clipping).
    zooms = crop[2] if crop[0] > 1 else torch.ones(n)
    out = (spatial_jitter(out, crop) - enc.flow_zero) * zooms.view(n, 1, 1, 1) + enc.flow_zero
    return out.clamp(-1, 1) if enc.flow_zero == 0 else out


def spatial_jitter(x: torch.Tensor, crop: tuple) -> torch.Tensor:
    """Zoom in by up to `crop[0]` at a random offset (the same for every sample's frames), back to the input
    size. crop = (max_zoom, offsets in −1…1 [N, 2], zooms [N])."""
    max_zoom, offsets, zooms = crop
    if max_zoom <= 1:
        return x
    n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
    flat = x.reshape(n, -1, h, w)
    theta = torch.zeros(n, 2, 3)
    s = 1 / zooms
    theta[:, 0, 0] = s
    theta[:, 1, 1] = s
    theta[:, 0, 2] = offsets[:, 0] * (1 - s)
    theta[:, 1, 2] = offsets[:, 1] * (1 - s)
    grid = F.affine_grid(theta, list(flat.shape), align_corners=False)
    out = F.grid_sample(flat, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.reshape(x.shape)
