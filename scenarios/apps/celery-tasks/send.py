# The warm-up by command: sends N tasks (default 30) at once, waits for every result, and prints the
# pid of the child that ran each, one per line (memcompare counts them per worker).
# Usage: send.py [N] [BROKER_URL]
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["IMPORT_AT"] = "sender"  # the sender only sends: it imports neither numpy nor matplotlib
if len(sys.argv) > 2:
    os.environ["BROKER_URL"] = sys.argv[2]
from tasks import work  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
results = [work.delay(1000) for _ in range(n)]
for r in results:
    pid, _ = r.get(timeout=60)
    print(pid, flush=True)
