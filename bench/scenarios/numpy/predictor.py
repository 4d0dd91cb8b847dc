"""Bench scenario: a little numpy work per request (a 64x64 dense layer with ReLU)."""
import numpy as np


class PythonPredictor:
    def __init__(self, config):
        rng = np.random.default_rng(0)
        self.weights = rng.standard_normal((64, 64)).astype(np.float32)

    def predict(self, payload):
        x = np.asarray(payload["x"], dtype=np.float32)
        return {"y": np.maximum(self.weights @ x, 0).tolist()}
