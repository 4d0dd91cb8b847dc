"""The baseline a user would otherwise write: FastAPI around the same PythonPredictor.

Run by bench/run as
    /usr/bin/python3 -m uvicorn fastapi_app:app --http httptools --loop uvloop --workers N
with AXON_BENCH_PREDICTOR naming the predictor module. Two routes:

- POST /predict: the fastest form, the body read as JSON and the answer sent as a
  JSONResponse (no validation);
- POST /predict-typed: what FastAPI's documentation teaches, a pydantic model of the request
  body (one per scenario, below) and the predictor's result returned for FastAPI to encode.
"""
import importlib.util
import os
import pathlib

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

_spec = importlib.util.spec_from_file_location("predictor", os.environ["AXON_BENCH_PREDICTOR"])
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
_predictor = _module.PythonPredictor({})


class EchoPayload(BaseModel):
    text: str
    values: list[int]


class VectorPayload(BaseModel):
    x: list[float]


class InstancesPayload(BaseModel):
    instances: list[list[float]]


# The request model of each scenario, by the folder of its predictor.
_PAYLOADS = {"echo": EchoPayload, "numpy": VectorPayload, "mlp": InstancesPayload}
Payload = _PAYLOADS[pathlib.Path(os.environ["AXON_BENCH_PREDICTOR"]).parent.name]

app = FastAPI()


@app.post("/predict")
async def predict(request: Request):
    return JSONResponse(_predictor.predict(await request.json()))


@app.post("/predict-typed")
def predict_typed(payload: Payload):
    return _predictor.predict(payload.dict())
