"""Builds the model this example serves: a TorchScript MLP 64 -> 256 -> 256 -> 10 with ReLU,
random weights (torch.manual_seed(0)), taking one float32 input `x` of shape [batch, 64].
Writes DIR/1/model.pt; DIR defaults to this folder's model/.
"""
import argparse
import pathlib

import torch
from torch import nn

HERE = pathlib.Path(__file__).resolve().parent


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                    nn.Linear(256, 10))

    def forward(self, x):
        return self.layers(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "model")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = torch.jit.trace(MLP().eval(), torch.zeros(1, 64))
    path = args.out / "1" / "model.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.save(model, str(path))
    print(f"wrote TorchScript MLP 64->256->256->10 -> {path}")


if __name__ == "__main__":
    main()
