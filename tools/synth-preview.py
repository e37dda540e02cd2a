#!/usr/bin/env python3
"""Overlay `actiond synth` ground truth on its video, for eyeballing: boxes (red when less than 30 % of the
person is visible), skeletons (green = visible, orange = occluded; outside-the-frame keypoints are not drawn),
the current label and the visible fraction, tiled into one PNG.

Needs the ffmpeg CLI and Pillow:  tools/synth-preview.py DIR/s1-c00000.json out.png [--every 10] [--columns 5]
"""
import argparse
import json
import os
import subprocess
import tempfile

from PIL import Image, ImageDraw

BONES = [(5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14),
         (14, 16), (0, 1), (0, 2), (1, 3), (2, 4)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("truth")
    ap.add_argument("out")
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--columns", type=int, default=5)
    args = ap.parse_args()
    truth = json.load(open(args.truth))
    video = os.path.join(os.path.dirname(args.truth), truth["video"])
    picked = list(range(0, truth["frames"], args.every))
    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", video, os.path.join(tmp, "f%05d.png")], check=True)
        for index in picked:
            image = Image.open(os.path.join(tmp, "f%05d.png" % (index + 1))).convert("RGB")
            draw = ImageDraw.Draw(image)
            for person in truth["people"]:
                frame = next((f for f in person["frames"] if f["index"] == index), None)
                if frame is None:
                    continue
                x, y, w, h = frame["box"]
                visible = frame.get("visible")  # absent before ground-truth version 2
                hidden = visible is not None and visible < 0.3
                draw.rectangle([x, y, x + w, y + h], outline=(255, 0, 0) if hidden else (255, 255, 0))
                kps = frame["keypoints"]
                for a, b in BONES:
                    if kps[a][2] > 0 and kps[b][2] > 0:
                        draw.line([tuple(kps[a][:2]), tuple(kps[b][:2])], fill=(0, 200, 255))
                for kx, ky, v in kps:
                    if v > 0:
                        colour = (0, 255, 0) if v == 2 else (255, 140, 0)
                        draw.ellipse([kx - 1.5, ky - 1.5, kx + 1.5, ky + 1.5], fill=colour)
                t = index / truth["fps"]
                label = next((s["label"] for s in person["segments"] if s["start"] <= t < s["end"]), "?")
                text = "%d %s" % (person["id"], label) + ("" if visible is None else " %.2f" % visible)
                draw.text((x, max(0, y - 10)), text, fill=(255, 255, 255))
            tiles.append(image)
    columns = min(args.columns, len(tiles))
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * truth["width"], rows * truth["height"]))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % columns) * truth["width"], (i // columns) * truth["height"]))
    sheet.save(args.out)


if __name__ == "__main__":
    main()
