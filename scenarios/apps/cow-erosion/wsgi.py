# The seed article's app, plus what real apps do: every request adds objects to a process-wide cache.
# Python's cyclic GC then visits every tracked object, including those inherited from a preloading
# master, and writes to their headers: copy-on-write turns shared pages private ("erosion").
import os

import matplotlib.pyplot as plt  # noqa: F401  (imported for its memory footprint)
import numpy as np  # noqa: F401

CACHE = []


def application(environ, start_response):
    CACHE.append([{"i": i, "path": environ.get("PATH_INFO", "/")} for i in range(100)])
    start_response("204 No Content", [("X-Worker-Pid", str(os.getpid()))])
    return [b""]
