# The seed article's app with a version in its answer: does a reload pick up a code change?
# memcompare edits VERSION in a copy of this folder, reloads the server and asks again.
import os

import matplotlib.pyplot as plt  # noqa: F401  (imported for its memory footprint)
import numpy as np  # noqa: F401

VERSION = "v1"


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Worker-Pid", str(os.getpid()))])
    return [VERSION.encode()]
