# Checks of the training recipe's pieces that can be wrong silently: the flow flip (mirror + negate x),
# zoom scaling of displacements, photometric jitter staying in pixel range, the random dataset round trip and
# the export check. Run: /path/to/venv/bin/python tools/train/test_train.py
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import make_models  # noqa: E402
import train  # noqa: E402

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


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main()
