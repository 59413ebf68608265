import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { ImportProcess, ImportRecord } from '../results/imports.js';
import { REQUIRE_PROBE } from './ruby-probe.js';

/** The end of each sitecustomize memcompare writes: the one it shadows (Debian's, a virtualenv's), if any, imported after it. */
export const CHAIN = `
# The sitecustomize this one shadows, if any.
_here = os.path.dirname(os.path.abspath(__file__))
_saved = sys.path[:]
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_mine = sys.modules.pop("sitecustomize", None)
try:
    import sitecustomize  # noqa: F401
except ImportError:
    pass
finally:
    sys.path[:] = _saved
    if _mine is not None:
        sys.modules["sitecustomize"] = _mine
`;

/**
 * The Python side of `--imports`: a sitecustomize (Python imports it at start from PYTHONPATH, so the app
 * is not changed) that wraps `builtins.__import__` and, around each first import, reads the process's
 * Private_Clean + Private_Dirty from /proc/self/smaps_rollup. Each record goes to a file of the process's
 * own (one JSON line, written at once: a worker that is killed keeps what it recorded); a fork is marked
 * with os.register_at_fork. The sitecustomize the interpreter would have imported otherwise is imported
 * after it (Debian's, a virtualenv's). Kept as text here: it is written to a temporary directory for the
 * one instrumented start and removed after it.
 */
const SITECUSTOMIZE = String.raw`# memcompare's import probe (removed when the instrumented start ends).
import builtins, json, os, sys, time

_dir = os.environ.get("MEMCOMPARE_IMPORTS_DIR")
_orig = builtins.__import__
_files = {}
_stack = []
_state = {"forked": False, "busy": False}


def _private():
    try:
        with open("/proc/self/smaps_rollup", "rb") as f:
            data = f.read()
    except OSError:
        return 0
    kb = 0
    for line in data.split(b"\n"):
        if line.startswith(b"Private_Clean:") or line.startswith(b"Private_Dirty:"):
            kb += int(line.split()[1])
    return kb * 1024


def _write(record):
    pid = os.getpid()
    f = _files.get(pid)
    if f is None:
        f = open(os.path.join(_dir, "imports-%d.jsonl" % pid), "a", buffering=1)
        _files[pid] = f
        f.write(json.dumps({"pid": pid, "ppid": os.getppid(), "forked": _state["forked"], "startPrivateBytes": _private()}) + "\n")
    f.write(json.dumps(record) + "\n")


def _resolve(name, globals, level):
    if level == 0:
        return name
    package = (globals or {}).get("__package__") or ""
    bits = package.rsplit(".", level - 1)
    base = bits[0]
    return base + "." + name if name else base


def _hook(name, globals=None, locals=None, fromlist=(), level=0):
    if _state["busy"] or not _dir:
        return _orig(name, globals, locals, fromlist, level)
    try:
        key = _resolve(name, globals, level)
    except Exception:
        return _orig(name, globals, locals, fromlist, level)
    new = key not in sys.modules
    label = key
    if not new and fromlist:
        parent = sys.modules.get(key)
        subs = [key + "." + s for s in fromlist if isinstance(s, str) and s != "*" and not hasattr(parent, s)]
        if not subs:
            return _orig(name, globals, locals, fromlist, level)
        label = subs[0]
    elif not new:
        return _orig(name, globals, locals, fromlist, level)
    # A package's __init__ that imports from itself ("from html.entities import …" inside html.entities' load).
    if any(f[0] == label for f in _stack):
        return _orig(name, globals, locals, fromlist, level)
    _state["busy"] = True
    before = _private()
    _state["busy"] = False
    started = time.perf_counter()
    frame = [label, 0]
    _stack.append(frame)
    try:
        return _orig(name, globals, locals, fromlist, level)
    finally:
        if _stack and _stack[-1] is frame:
            _stack.pop()
        _state["busy"] = True
        try:
            after = _private()
            inclusive = max(0, after - before)
            if _stack:
                _stack[-1][1] += inclusive
            if label in sys.modules:
                _write({
                    "module": label,
                    "parent": _stack[-1][0] if _stack else None,
                    "inclusiveBytes": inclusive,
                    "exclusiveBytes": max(0, inclusive - frame[1]),
                    "ms": (time.perf_counter() - started) * 1000,
                    "afterFork": _state["forked"],
                })
        finally:
            _state["busy"] = False


def _forked():
    _state["forked"] = True
    del _stack[:]


if _dir:
    os.register_at_fork(after_in_child=_forked)
    builtins.__import__ = _hook

${CHAIN}`;

/** A prepared probe: the environment an instrumented start gets, where its records land, and its removal. */
export interface ImportProbe {
  env: Record<string, string>;
  /** Every process's records so far. */
  read(): ImportProcess[];
  /** Removes everything the probe wrote. */
  remove(): void;
}

/** The search path and options an interpreter would have had without memcompare's files (the variant's, else memcompare's own). */
export interface InheritedEnv {
  PYTHONPATH?: string | undefined;
  RUBYOPT?: string | undefined;
}

/**
 * A new temporary directory with the two start hooks memcompare writes (a sitecustomize for Python, a file
 * RUBYOPT loads for Ruby) in site/ and an empty out/ for what they record, and the environment that loads
 * them first: PYTHONPATH with site/ ahead of the inherited one, RUBYOPT with `-r` of the Ruby file ahead.
 * The probe and the applied advice (run/early-imports.ts) both start this way.
 */
export function hookDirectory(
  prefix: string,
  hooks: { python: string; ruby: string; rubyName: string },
  inherited: InheritedEnv,
): { root: string; out: string; env: Record<string, string> } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const site = join(root, 'site');
  const out = join(root, 'out');
  mkdirSync(site);
  mkdirSync(out);
  writeFileSync(join(site, 'sitecustomize.py'), hooks.python);
  const rubyFile = join(site, hooks.rubyName);
  writeFileSync(rubyFile, hooks.ruby);
  return {
    root,
    out,
    env: {
      PYTHONPATH: inherited.PYTHONPATH ? `${site}${delimiter}${inherited.PYTHONPATH}` : site,
      RUBYOPT: inherited.RUBYOPT ? `-r${rubyFile} ${inherited.RUBYOPT}` : `-r${rubyFile}`,
    },
  };
}

/**
 * Writes the probe to a new temporary directory, for Python (a sitecustomize) and Ruby (a file RUBYOPT
 * loads) alike: whichever interpreter the server runs records its imports there.
 */
export function prepareImportProbe(inherited: InheritedEnv): ImportProbe {
  const { root, out, env } = hookDirectory(
    'memcompare-imports-',
    { python: SITECUSTOMIZE, ruby: REQUIRE_PROBE, rubyName: 'memcompare_require_probe.rb' },
    inherited,
  );
  return {
    env: { ...env, MEMCOMPARE_IMPORTS_DIR: out },
    read: () => readImportRecords(out),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The records in a probe's output directory: one file per process, a header line then one line per import. */
export function readImportRecords(dir: string): ImportProcess[] {
  const out: ImportProcess[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!/^imports-\d+\.jsonl$/.test(name)) continue;
    const lines = readFileSync(join(dir, name), 'utf8').split('\n');
    let header: Omit<ImportProcess, 'imports'> | undefined;
    const imports: ImportRecord[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue; // a line cut by a kill
      }
      const v = value as Record<string, unknown>;
      if (header === undefined && typeof v.pid === 'number') {
        header = {
          pid: v.pid,
          ppid: Number(v.ppid),
          forked: v.forked === true,
          startPrivateBytes: Number(v.startPrivateBytes) || 0,
        };
      } else if (typeof v.module === 'string') {
        imports.push({
          module: v.module,
          parent: typeof v.parent === 'string' ? v.parent : null,
          inclusiveBytes: Number(v.inclusiveBytes) || 0,
          exclusiveBytes: Number(v.exclusiveBytes) || 0,
          ms: Number(v.ms) || 0,
          afterFork: v.afterFork === true,
        });
      }
    }
    if (header) out.push({ ...header, imports });
  }
  return out;
}
