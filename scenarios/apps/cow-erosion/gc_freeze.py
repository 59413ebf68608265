# gunicorn config: keep the preloaded objects out of the cyclic GC so that it never writes to them.
# The documented pattern: disable GC early in the master, freeze just before each fork, enable in the child.
import gc

gc.disable()


def pre_fork(server, worker):
    gc.freeze()


def post_fork(server, worker):
    gc.enable()
