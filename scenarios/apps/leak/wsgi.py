# Keeps LEAK_BYTES (default 10 KiB) per request in a module-level list: private memory that grows
# with the work a worker serves, as a per-request cache without a bound does. With CACHE_ENTRIES=N the
# cache stops at N entries: memory grows, then holds (a plateau, not a leak).
import os

LEAK = int(os.environ.get("LEAK_BYTES", "10240"))
CAP = int(os.environ.get("CACHE_ENTRIES", "0"))
_cache = []


def application(environ, start_response):
    # /health keeps nothing: a second route, so that a soak over both tells them apart.
    if environ.get("PATH_INFO") != "/health" and (CAP == 0 or len(_cache) < CAP):
        _cache.append(b"x" * LEAK)
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Worker-Pid", str(os.getpid()))])
    return [b"ok\n"]
