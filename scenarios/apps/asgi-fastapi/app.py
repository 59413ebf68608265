"""An ASGI app with the imports of a typical FastAPI service: FastAPI and pydantic, numpy for a computation.

Every response carries X-Worker-Pid, the pid of the worker that served it.
"""

import os

import numpy
from fastapi import FastAPI, Response
from pydantic import BaseModel

app = FastAPI()
TABLE = numpy.arange(100_000, dtype=numpy.float64)


class Summary(BaseModel):
    worker: int
    mean: float


@app.get("/")
def summary(response: Response) -> Summary:
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return Summary(worker=os.getpid(), mean=float(TABLE.mean()))
