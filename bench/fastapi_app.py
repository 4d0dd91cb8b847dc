"""The baseline a user would otherwise write: FastAPI around the same PythonPredictor.

Run by bench/run as
    /usr/bin/python3 -m uvicorn fastapi_app:app --http httptools --loop uvloop --workers N
with AXON_BENCH_PREDICTOR naming the predictor module.
"""
import importlib.util
import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

_spec = importlib.util.spec_from_file_location("predictor", os.environ["AXON_BENCH_PREDICTOR"])
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
_predictor = _module.PythonPredictor({})

app = FastAPI()


@app.post("/predict")
async def predict(request: Request):
    return JSONResponse(_predictor.predict(await request.json()))
