"""Builds the model this example serves: the same small residual conv net as ../resnet-onnx
(image float32 [N,3,32,32] -> logits [N,10], random weights, seed 0), exported to ONNX.
Writes DIR/1/model.onnx (DIR defaults to this folder's model/) and sample.json if missing.
"""
import argparse
import importlib.util
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent


def load_resnet_builder():
    spec = importlib.util.spec_from_file_location("resnet_build_model",
                                                  HERE.parent / "resnet-onnx" / "build_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "model")
    args = parser.parse_args()
    path, check = load_resnet_builder().build(args.out)
    sample = HERE / "sample.json"
    if not sample.exists():  # a 32x32 RGB gradient, HWC, 0..255
        pixels = [[[8 * x, 8 * y, 4 * (x + y)] for x in range(32)] for y in range(32)]
        sample.write_text(json.dumps({"pixels": pixels}) + "\n")
    print(f"wrote ONNX residual net image[N,3,32,32] -> logits[N,10] -> {path} ({check})")


if __name__ == "__main__":
    main()
