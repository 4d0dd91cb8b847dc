"""Classifies a 32x32 RGB image: numpy pre/post-processing around the `resnet` ONNX model,
which Axon runs natively through model_client."""
import numpy as np


class BadInput(Exception):
    status_code = 400  # Axon answers with this status and the message as {"error": ...}


class PythonPredictor:
    def __init__(self, config, model_client):
        self.client = model_client
        self.labels = config["labels"]

    def predict(self, payload):
        if not isinstance(payload, dict) or "pixels" not in payload:
            raise BadInput('send {"pixels": a 32x32x3 list of 0..255 values (height, width, RGB)}')
        try:
            pixels = np.asarray(payload["pixels"], dtype=np.float32)
        except (TypeError, ValueError):
            raise BadInput("pixels must be numbers")
        if pixels.shape != (32, 32, 3):
            raise BadInput(f"pixels must have shape 32x32x3, got {'x'.join(map(str, pixels.shape))}")
        x = (pixels / 255.0 - 0.5) / 0.5                   # scale to [-1, 1]
        x = x.transpose(2, 0, 1)[np.newaxis]               # HWC -> NCHW, batch of one
        logits = self.client.predict(np.ascontiguousarray(x, dtype=np.float32))[0]
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        top = np.argsort(probs)[::-1][:3]
        return {"label": self.labels[top[0]], "probability": float(probs[top[0]]),
                "top3": [{"label": self.labels[i], "probability": float(probs[i])} for i in top]}
