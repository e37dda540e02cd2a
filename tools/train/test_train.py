# Checks of the training recipe's pieces that can be wrong silently: the flow flip (mirror + negate x),
# zoom scaling of displacements, photometric jitter staying in pixel range, the random dataset round trip and
# the export check, and the people model's letterbox, augmentation, assigner and export.
# Run: /path/to/venv/bin/python tools/train/test_train.py
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import make_models  # noqa: E402
import people  # noqa: E402
import siamese  # noqa: E402
import train  # noqa: E402
from people_net import PeopleNet  # noqa: E402
from siamese_net import SiameseNet  # noqa: E402

ENC = data.Encoding(mean=torch.tensor([0.45] * 3), std=torch.tensor([0.225] * 3), scale=1.0, flow_zero=0.0)


class FlowFlipTests(unittest.TestCase):
    def test_flip_mirrors_and_negates_x_only(self):
        x = torch.rand(2, 10, 4, 6) * 2 - 1
        flip = torch.tensor([True, False])
        out = data.augment_flow(x, ENC, flip, (1.0, None, None))
        want = x[0].flip(-1).clone()
        want[0::2] = -want[0::2]
        self.assertTrue(torch.equal(out[0], want))
        self.assertTrue(torch.equal(out[1], x[1]))

    def test_flip_of_a_rightward_field_points_left(self):
        x = torch.zeros(1, 2, 4, 4)
        x[0, 0] = 0.5      # every pixel moves right
        out = data.augment_flow(x, ENC, torch.tensor([True]), (1.0, None, None))
        self.assertTrue(torch.allclose(out[0, 0], torch.full((4, 4), -0.5)))
        self.assertTrue(torch.equal(out[0, 1], torch.zeros(4, 4)))

    def test_zoom_scales_displacements(self):
        x = torch.full((1, 2, 8, 8), 0.25)
        out = data.augment_flow(x, ENC, torch.tensor([False]),
                                (1.2, torch.zeros(1, 2), torch.tensor([1.2])))
        self.assertTrue(torch.allclose(out, torch.full_like(out, 0.3), atol=1e-6))


class RgbJitterTests(unittest.TestCase):
    def test_pixels_stay_in_range_and_flip_mirrors(self):
        g = torch.Generator().manual_seed(1)
        pix = torch.rand(4, 3, 2, 5, 7)                       # NCTHW batch
        x = (pix - 0.45) / 0.225
        out = data.augment_rgb(x, "NCTHW", ENC, g, torch.tensor([True, False, True, False]), (1.0, None, None))
        back = out * 0.225 + 0.45
        self.assertGreaterEqual(back.min().item(), -1e-5)
        self.assertLessEqual(back.max().item(), 1 + 1e-5)
        # Photometric jitter is mild: a flipped sample correlates with the mirrored input, not the original.
        mirrored = pix[0].flip(-1).flatten()
        self.assertGreater(np.corrcoef(back[0].flatten(), mirrored)[0, 1], 0.8)
        self.assertLess(abs(np.corrcoef(back[0].flatten(), pix[0].flatten())[0, 1]), 0.5)

    def test_channel_axis_of_ntchw(self):
        g = torch.Generator().manual_seed(2)
        x = torch.zeros(1, 3, 3, 4, 4)                        # NTCHW: channels on axis 2
        out = data.augment_rgb(x, "NTCHW", ENC, g, torch.tensor([False]), (1.0, None, None))
        self.assertEqual(out.shape, x.shape)


class RowsTests(unittest.TestCase):
    def test_rows_read_like_the_concatenated_array(self):
        a = np.arange(3 * 2 * 4, dtype=np.float32).reshape(3, 2, 4)
        b = -np.arange(2 * 2 * 4, dtype=np.float32).reshape(2, 2, 4)
        rows = data.Rows([a, b])
        whole = np.concatenate([a, b])
        self.assertEqual(rows.shape, whole.shape)
        idx = np.array([4, 0, 3, 1])
        self.assertTrue(np.array_equal(rows[idx], whole[idx]))
        self.assertTrue(np.array_equal(rows[1:4], whole[1:4]))
        self.assertTrue(np.array_equal(np.asarray(rows), whole))
        moved = data.Rows([a, b], axes=(1, 0))
        self.assertTrue(np.array_equal(moved[idx], whole[idx].transpose(0, 2, 1)))

    def test_half_cache_rounds_to_float16(self):
        with tempfile.TemporaryDirectory() as tmp:
            data.write_random(os.path.join(tmp, "d"), ["a", "b"], {"clip": (3, 2, 4, 4)}, clips=4, windows=2, seed=5)
            full = np.asarray(data.load(os.path.join(tmp, "d"), ["clip"]).inputs["clip"])
            half = data.load(os.path.join(tmp, "d"), ["clip"], drop_samples=True, half=True).inputs["clip"]
            self.assertEqual(half.parts[0].dtype, np.float16)
            self.assertTrue(np.array_equal(np.asarray(half), full.astype(np.float16).astype(np.float32)))
            self.assertFalse(os.listdir(os.path.join(tmp, "d", "tensors")))      # samples dropped once stacked


class LoopTests(unittest.TestCase):
    def test_random_dataset_trains_and_exports(self):
        card = make_models.cards()["actions-r2plus1d"]
        names = train.input_names(card)
        with tempfile.TemporaryDirectory() as tmp:
            labels = [f"a{i}" for i in range(3)]
            data.write_random(os.path.join(tmp, "d"), labels, {names["main"]: (3, 8, 64, 64)}, clips=6,
                              windows=2, seed=3)
            split = data.load(os.path.join(tmp, "d"), [names["main"]])
            self.assertEqual(split.inputs[names["main"]].shape, (12, 3, 8, 64, 64))
            self.assertEqual(split.labels, labels)
            again = data.load(os.path.join(tmp, "d"), [names["main"]])          # from the stacked cache
            self.assertTrue(np.array_equal(again.inputs[names["main"]], split.inputs[names["main"]]))
            models = train.build(card, 3)
            train.train(card, models, split, epochs=1, log=lambda _: None)
            report = train.export(card, models, tmp, split)
            self.assertLess(report[card["onnx"]]["max_abs_diff"], 1e-3)
            self.assertNotIn("BatchNormalization", report[card["onnx"]]["ops"])

    def test_cnn_gru_with_motion_exports_as_one_graph(self):
        card = make_models.cards()["actions-cnn-gru"]
        with tempfile.TemporaryDirectory() as tmp:
            x = np.random.default_rng(4).standard_normal((4, 8, 3, 64, 64)).astype(np.float32)
            split = data.Split([f"a{i}" for i in range(12)], {"clip": x}, np.arange(4), ["a", "a", "b", "b"])
            models = train.build(card, 12)
            report = train.export(card, models, tmp, split)[card["onnx"]]
            self.assertLess(report["max_abs_diff"], 1e-3)
            self.assertIn("GRU", report["ops"])
            self.assertIn("Sub", report["ops"])      # the frame differences are inside the graph

    def test_cnn_gru_reuses_the_3d_dataset(self):
        cards = make_models.cards()
        self.assertTrue(make_models.same_preprocessing(cards["actions-r2plus1d"], cards["actions-cnn-gru"]))
        self.assertFalse(make_models.same_preprocessing(cards["actions-r2plus1d"], cards["actions-two-stream"]))
        x = np.arange(2 * 3 * 4 * 2 * 2, dtype=np.float32).reshape(2, 3, 4, 2, 2)
        split = data.Split(["a"], {"clip": x}, np.zeros(2, np.int64), ["c", "c"])
        out = make_models.relayout(split, cards["actions-r2plus1d"], cards["actions-cnn-gru"])
        self.assertEqual(out.inputs["clip"].shape, (2, 4, 3, 2, 2))
        self.assertEqual(out.inputs["clip"][1, 2, 0, 1, 1], x[1, 0, 2, 1, 1])


class PeopleTests(unittest.TestCase):
    """The people model's recipe: letterbox as Ultralytics computes it, labels that follow the augmentation
    (flip swaps left and right), the assigner's positives inside their box, and the head's exported shape."""

    def test_letterbox_params(self):
        w, h = people.INPUT_W, people.INPUT_H
        self.assertEqual(people.letterbox_params(320, 240), (min(w / 320, h / 240), 0, 0, w, h))
        r, left, top, nw, nh = people.letterbox_params(640, 360)
        self.assertEqual((nw, nh), (round(640 * r), round(360 * r)))
        self.assertEqual((left, top), (round((w - nw) / 2 - 0.1), round((h - nh) / 2 - 0.1)))

    def test_flip_swaps_left_and_right_and_keeps_keypoints_in_boxes(self):
        rng = np.random.default_rng(3)
        img = np.full((people.INPUT_H, people.INPUT_W, 3), 100, np.uint8)
        lab = np.zeros((1, 5 + 51), np.float32)
        lab[0, :5] = [100, 40, 140, 160, 1.0]
        k = lab[0, 5:].reshape(17, 3)
        k[:, 0], k[:, 1], k[:, 2] = np.linspace(101, 139, 17), np.linspace(41, 159, 17), 2
        flips = 0
        for _ in range(20):
            _, out = people.augment(img, lab, rng)
            if len(out) == 0:
                continue
            ko = out[0, 5:].reshape(17, 3)
            inside = ko[:, 2] > 0
            self.assertTrue(((ko[inside, 0] >= out[0, 0] - 1e-3) & (ko[inside, 0] <= out[0, 2] + 1e-3)).all())
            # x grows with the keypoint index here. A flip mirrors x (the nose, which keeps its name, goes from
            # leftmost to rightmost) and swaps left and right names, so the left wrist (9) stays left of the right
            # wrist (10); mirroring without the swap would put it right of it.
            if ko[0, 0] > ko[16, 0]:
                flips += 1
            self.assertLess(ko[9, 0], ko[10, 0])
        self.assertGreater(flips, 0)

    def test_assigner_picks_anchors_inside_the_box(self):
        model = PeopleNet()
        centres, _ = model.grid([(people.INPUT_H // s, people.INPUT_W // s) for s in (8, 16, 32)], "cpu")
        n = centres.shape[1]
        boxes = torch.tensor([[50.0, 30.0, 90.0, 150.0]]).repeat(n, 1)
        gt = torch.tensor([[50.0, 30.0, 90.0, 150.0]])
        fg, index, target = people.assign(boxes, torch.full((n,), 0.5), centres, gt)
        self.assertGreater(int(fg.sum()), 0)
        chosen = centres[:, fg]
        self.assertTrue(((chosen[0] > 50) & (chosen[0] < 90) & (chosen[1] > 30) & (chosen[1] < 150)).all())
        self.assertTrue((target[fg] > 0).all() and (target[~fg] == 0).all())

    def test_export_has_the_ultralytics_pose_shape(self):
        model = PeopleNet().eval()
        x = torch.rand(1, 3, people.INPUT_H, people.INPUT_W)
        with tempfile.TemporaryDirectory() as d:
            info = people.export(model, os.path.join(d, "p.onnx"), x)
        cells = sum((people.INPUT_H // s) * (people.INPUT_W // s) for s in (8, 16, 32))
        self.assertEqual(info["shape"], [1, 56, cells])


class SiameseTests(unittest.TestCase):
    """The Siamese tracker's recipe: the crop formula the Swift side reproduces, the sizes and translation
    equivariance the response geometry relies on, labels at the target's displacement, and the export contract."""

    def test_crop_of_the_whole_frame_at_scale_one_is_the_frame(self):
        frame = np.random.default_rng(0).integers(0, 256, (10, 10, 3), dtype=np.uint8)
        out = siamese.crop(frame, 5.0, 5.0, 10.0, 10)
        np.testing.assert_allclose(out, frame.astype(np.float32), atol=1e-4)

    def test_crop_outside_the_frame_is_the_mean_colour(self):
        frame = np.random.default_rng(1).integers(0, 256, (12, 16, 3), dtype=np.uint8)
        out = siamese.crop(frame, -100.0, -100.0, 20.0, 8)
        np.testing.assert_allclose(out, np.broadcast_to(frame.reshape(-1, 3).mean(0), out.shape), atol=1e-3)

    def test_half_pixel_shift_averages_neighbours(self):
        frame = np.zeros((4, 4, 3), np.uint8)
        frame[:, 2:] = 200
        # Centre 2.5 instead of 2: every sample sits half a pixel right of a pixel centre.
        out = siamese.crop(frame, 2.5, 2.0, 4.0, 4)
        np.testing.assert_allclose(out[1, :3, 0], [0.0, 100.0, 200.0], atol=1e-4)

    def test_sizes_and_translation_equivariance(self):
        net = SiameseNet().eval()
        x = torch.rand(1, 3, 136, 136)
        with torch.no_grad():
            self.assertEqual(tuple(net(torch.rand(1, 3, 64, 64)).shape), (1, 128, 4, 4))
            self.assertEqual(tuple(net(x[:, :, :128, :128]).shape), (1, 128, 12, 12))
            # No padding: moving the input 8 pixels (the stride) moves the features exactly one cell.
            a = net(x[:, :, :128, :128])
            b = net(x[:, :, 8:, 8:])
        torch.testing.assert_close(a[:, :, 1:, 1:], b[:, :, :11, :11], atol=1e-5, rtol=1e-5)
        self.assertEqual(siamese.response_size(), 9)

    def test_labels_put_positives_at_the_displacement(self):
        pairs = [{"present": True, "d": np.array([16.0, -8.0])}, {"present": False, "d": np.zeros(2)}]
        y, w = siamese.labels(pairs)
        rows, cols = torch.nonzero(y[0, 0], as_tuple=True)
        self.assertIn((3, 6), list(zip(rows.tolist(), cols.tolist())))   # row 4 − 1 (up 8), column 4 + 2
        self.assertEqual(float(y[1].sum()), 0.0)
        self.assertAlmostEqual(float((w[0] * (y[0] > 0)).sum()), 0.5, places=5)
        self.assertAlmostEqual(float(w[1].sum()), 0.5, places=5)

    def test_export_is_dynamic_unpadded_and_matches_torch(self):
        net = SiameseNet()
        with tempfile.TemporaryDirectory() as d:
            info = siamese.export(net, os.path.join(d, "t.onnx"))
        self.assertEqual(set(info["ops"]), {"Conv", "MaxPool", "Relu"})
        self.assertEqual(info["shape_64"], [128, 4, 4])
        self.assertEqual(info["shape_128"], [128, 12, 12])


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main()
