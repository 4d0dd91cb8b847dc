"""Builds the model this example serves: a small residual conv net (random weights, seed 0)
mapping `image` float32 [N,3,32,32] to `logits` [N,10], exported to ONNX opset 11.
Writes DIR/1/model.onnx (DIR defaults to this folder's model/) and sample.json if missing.
"""
import argparse
import json
import pathlib

import numpy as np
import onnx
import torch
from torch import nn

HERE = pathlib.Path(__file__).resolve().parent


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels))

    def forward(self, x):
        return torch.relu(self.body(x) + x)


def make_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          ResidualBlock(8), nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(8, 10))
    return model.eval()


def build(out_dir):
    """Exports the model to out_dir/1/model.onnx, checks it; returns (path, check summary)."""
    model = make_model()
    path = pathlib.Path(out_dir) / "1" / "model.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 3, 32, 32), str(path), opset_version=11,
                      input_names=["image"], output_names=["logits"], do_constant_folding=True,
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    onnx.checker.check_model(onnx.load(str(path)))
    try:
        from onnx.reference import ReferenceEvaluator  # onnx >= 1.13
    except ImportError:
        return path, f"onnx {onnx.__version__}: checker ok, no ReferenceEvaluator to compare outputs"
    else:
        batch = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            expected = model(batch).numpy()
        (got,) = ReferenceEvaluator(str(path)).run(None, {"image": batch.numpy()})
        diff = float(np.abs(got - expected).max())
        assert diff < 1e-4, f"ONNX reference output differs from torch by {diff}"
        return path, f"onnx {onnx.__version__}: checker ok, max abs diff vs torch {diff:.1e}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "model")
    args = parser.parse_args()
    path, check = build(args.out)
    sample = HERE / "sample.json"
    if not sample.exists():
        image = np.random.RandomState(0).rand(3, 32, 32).round(3)
        sample.write_text(json.dumps({"instances": [image.tolist()]}) + "\n")
    print(f"wrote ONNX residual net image[N,3,32,32] -> logits[N,10] -> {path} ({check})")


if __name__ == "__main__":
    main()
