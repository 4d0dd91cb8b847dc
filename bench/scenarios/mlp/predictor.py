# The FastAPI baseline's model server for the MLP scenarios: the same TorchScript file Axon
# serves natively, run with torch and answering the same V1 JSON. AXON_BENCH_MODEL names it.
import os

import torch

torch.set_num_threads(1)  # one per worker process, as Axon's replicas use one intra-op thread


class PythonPredictor:
    def __init__(self, config):
        self.model = torch.jit.load(os.environ["AXON_BENCH_MODEL"])

    def predict(self, payload):
        x = torch.tensor(payload["instances"], dtype=torch.float32)
        with torch.inference_mode():
            y = self.model(x)
        return {"predictions": y.tolist()}
