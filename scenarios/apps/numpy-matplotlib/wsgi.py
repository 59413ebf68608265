# The seed article's app: heavy imports, a trivial handler.
import os

import matplotlib.pyplot as plt  # noqa: F401  (imported for its memory footprint)
import numpy as np  # noqa: F401


def application(environ, start_response):
    # The worker's pid lets memcompare check that every worker served traffic during the warm-up.
    start_response("204 No Content", [("X-Worker-Pid", str(os.getpid()))])
    return [b""]
