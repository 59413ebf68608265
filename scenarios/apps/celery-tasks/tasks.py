# A Celery app whose tasks use numpy and matplotlib. IMPORT_AT=module imports them when the module
# loads, in the MainProcess before the pool forks (shared with every child); IMPORT_AT=task imports
# them inside the task, in each child (private to it). The broker and the result backend are Redis,
# at BROKER_URL (memcompare starts it as a companion service). GC_FREEZE=1 freezes the imported
# objects before the pool forks.
import os

from celery import Celery

IMPORT_AT = os.environ.get("IMPORT_AT", "module")
if IMPORT_AT == "module":
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401

if os.environ.get("GC_FREEZE") == "1":
    # Move everything imported so far to the permanent generation: the cyclic GC no longer writes to
    # those objects' headers in the children, so their pages stay shared with the MainProcess.
    import gc

    gc.freeze()

app = Celery("tasks", broker=os.environ["BROKER_URL"], backend=os.environ["BROKER_URL"])
# One task at a time per child, no prefetching beyond it: with the defaults one child takes most tasks.
app.conf.worker_prefetch_multiplier = 1
app.conf.task_acks_late = True
app.conf.broker_connection_retry_on_startup = True


@app.task
def work(n):
    if IMPORT_AT == "task":
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
        import numpy  # noqa: F401
    import numpy as np

    a = np.arange(n, dtype=np.float64)
    return [os.getpid(), float(a.sum())]
