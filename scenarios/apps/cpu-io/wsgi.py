"""Two views for weighing processes against threads: /cpu burns about a millisecond of CPU in Python
(the GIL lets one thread of a process run it at a time), /io waits 20 ms as on a database or an API
(a thread waiting lets the others run). Each response names the worker process that served it."""

import os
import time


def cpu():
    total = 0
    for i in range(20_000):
        total += i * i
    return b"cpu %d\n" % (total % 10)


def io():
    time.sleep(0.02)
    return b"io\n"


VIEWS = {"/cpu": cpu, "/io": io}


def application(environ, start_response):
    view = VIEWS.get(environ.get("PATH_INFO", "/"), cpu)
    body = view()
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(body))),
            ("X-Worker-Pid", str(os.getpid())),
        ],
    )
    return [body]
