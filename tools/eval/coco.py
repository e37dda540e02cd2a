# COCO-style evaluation of person boxes and COCO-17 keypoints against `actiond synth` ground truth, with
# pycocotools. Shared by `tools/eval/detect_ap.py` (evaluates `actiond detect --json`) and the training recipe
# (`tools/train/people.py`, which evaluates its own predictions on validation clips the same way).
#
# Conventions (docs/models.md, "Evaluation"):
# - one COCO image per evaluated frame, one annotation per person whose box is in the picture;
# - people less than MIN_VISIBLE visible (ground truth `visible`) are neither hits nor misses: they become
#   COCO crowd regions (`iscrowd: 1`), which pycocotools ignores, with any detection matched to them;
# - keypoints keep COCO's visibility flags (2 visible, 1 hidden in the picture, 0 outside: not labelled);
#   a person with no keypoint in the picture is ignored for keypoint AP, as COCO does;
# - `area` (COCO's object scale for OKS and for the small/medium/large ranges) is the box area, since the
#   rendered world has no segmentation masks.
import contextlib
import io
import json

import numpy as np

MIN_VISIBLE = 0.30
SIGMAS = [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087,
          0.087, 0.089, 0.089]


def truth_frames(truth: dict, frames=None) -> dict:
    """frame index → [(box xywh, keypoints [[x, y, v]×17], visible fraction)] for one ground-truth JSON."""
    out = {i: [] for i in (range(truth["frames"]) if frames is None else frames)}
    for person in truth["people"]:
        for f in person["frames"]:
            if f["index"] in out:
                out[f["index"]].append((f["box"], f["keypoints"], f.get("visible", 1.0)))
    return out


class Collector:
    """Accumulates ground truth and predictions image by image, then evaluates them."""

    def __init__(self, min_visible: float = MIN_VISIBLE):
        self.min_visible = min_visible
        self.images, self.annotations, self.detections = [], [], []

    def add_image(self, width: int, height: int, people: list, predictions: list) -> None:
        """people: [(box xywh, keypoints 17×[x, y, v], visible)]; predictions: [(box xywh, score, keypoints
        17×[x, y, score] or None)]."""
        image_id = len(self.images) + 1
        self.images.append({"id": image_id, "width": width, "height": height})
        for box, keypoints, visible in people:
            flat, labelled = [], 0
            for x, y, v in keypoints:
                v = int(v)
                inside = v > 0 and 0 <= x < width and 0 <= y < height
                flat += [float(x), float(y), v] if inside else [0.0, 0.0, 0]
                labelled += inside
            self.annotations.append({
                "id": len(self.annotations) + 1, "image_id": image_id, "category_id": 1,
                "bbox": [float(b) for b in box], "area": float(box[2] * box[3]),
                "iscrowd": int(visible < self.min_visible), "keypoints": flat, "num_keypoints": labelled})
        for box, score, keypoints in predictions:
            det = {"image_id": image_id, "category_id": 1, "bbox": [float(b) for b in box], "score": float(score)}
            if keypoints is not None:
                det["keypoints"] = [float(c) for kp in keypoints for c in kp]
            self.detections.append(det)

    def evaluate(self, keypoints: bool = True) -> dict:
        """{'AP50', 'AP', 'AR100' (boxes), 'kAP', 'kAP50' (keypoints, when asked and predicted)} and counts."""
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
        result = {"images": len(self.images),
                  "people": sum(1 for a in self.annotations if not a["iscrowd"]),
                  "ignored": sum(1 for a in self.annotations if a["iscrowd"]),
                  "detections": len(self.detections)}
        if not self.detections:
            return {**result, "AP50": 0.0, "AP": 0.0, "AR100": 0.0, "kAP": 0.0, "kAP50": 0.0}
        gt = COCO()
        gt.dataset = {"images": self.images, "annotations": self.annotations, "categories": [{
            "id": 1, "name": "person", "keypoints": [str(k) for k in range(17)], "skeleton": []}]}
        with contextlib.redirect_stdout(io.StringIO()):
            gt.createIndex()
            dt = gt.loadRes(json.loads(json.dumps(self.detections)))
            kinds = ["bbox"] + (["keypoints"] if keypoints and "keypoints" in self.detections[0] else [])
            for kind in kinds:
                ev = COCOeval(gt, dt, kind)
                ev.params.maxDets = [1, 10, 100] if kind == "bbox" else [20]
                if kind == "keypoints":
                    ev.params.kpt_oks_sigmas = np.array(SIGMAS)
                ev.evaluate()
                ev.accumulate()
                ev.summarize()
                if kind == "bbox":
                    result.update(AP=ev.stats[0], AP50=ev.stats[1], AR100=ev.stats[8])
                else:
                    result.update(kAP=ev.stats[0], kAP50=ev.stats[1])
        return result
