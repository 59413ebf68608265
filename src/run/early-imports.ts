import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CHAIN, hookDirectory, type InheritedEnv } from './import-probe.js';
import { EARLY_REQUIRES } from './ruby-probe.js';

/**
 * The advice of `run --imports` applied: a sitecustomize (on PYTHONPATH; the app's files are not touched)
 * that imports, in the first interpreter of the server, before it forks, the modules its workers imported
 * after the fork. The working directory is on sys.path for those imports only (a server adds it later,
 * and the app's own modules live there). A module that fails (a framework's module that needs its settings,
 * which the app configures as it loads) is tried once more just before the first fork, when a preloading
 * server has loaded the app; one that fails then too is recorded with its error and left to the app, as
 * before. Kept as text here: written to a temporary directory for the applied runs and removed after them.
 */
const SITECUSTOMIZE = String.raw`# memcompare: the workers' after-fork imports, made before the fork (removed when the runs end).
import importlib, json, os, sys

_dir = os.environ.get("MEMCOMPARE_EARLY_DIR")
_modules = [m for m in os.environ.get("MEMCOMPARE_EARLY_MODULES", "").split("\n") if m]
_done, _failed = [], []


def _import_all(names):
    _cwd = os.getcwd()
    _added = _cwd not in sys.path
    if _added:
        sys.path.append(_cwd)
    for _name in names:
        try:
            importlib.import_module(_name)
            _done.append(_name)
        except BaseException as _e:  # an import that exits or raises is left to the app
            _failed.append({"module": _name, "error": (type(_e).__name__ + ": " + str(_e))[:200]})
    if _added and _cwd in sys.path:
        sys.path.remove(_cwd)


def _write():
    try:
        with open(os.path.join(_dir, "early-%d.json" % os.getpid()), "w") as _f:
            json.dump({"pid": os.getpid(), "imported": _done, "failed": _failed}, _f)
    except OSError:
        pass


def _again():
    # Once, in this interpreter, before its first fork: the app may have configured what they needed.
    if os.getpid() != _first or not _failed or _retried:
        return
    _retried.append(True)
    _names = [f["module"] for f in _failed]
    del _failed[:]
    _import_all(_names)
    _write()


if _dir:
    _first = os.getpid()
    _retried = []
    _import_all(_modules)
    _write()
    if _failed and hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_again)
${CHAIN}`;

/** What the first interpreter of an applied run did with the modules: those imported, and those that failed. */
export interface EarlyImportsOutcome {
  imported: string[];
  failed: { module: string; error: string }[];
}

/** A prepared set of early imports: the environment each applied run gets, what the interpreters said, and its removal. */
export interface EarlyImports {
  env: Record<string, string>;
  /** What the server's master said (`masterPid`; else the first process that wrote), or undefined if none wrote. */
  outcome(masterPid?: number): EarlyImportsOutcome | undefined;
  remove(): void;
}

/** Writes the sitecustomize (Python) and the file RUBYOPT loads (Ruby) to a new temporary directory. */
export function prepareEarlyImports(modules: readonly string[], inherited: InheritedEnv): EarlyImports {
  const { root, out, env } = hookDirectory(
    'memcompare-early-',
    { python: SITECUSTOMIZE, ruby: EARLY_REQUIRES, rubyName: 'memcompare_early_requires.rb' },
    inherited,
  );
  return {
    env: {
      ...env,
      MEMCOMPARE_EARLY_DIR: out,
      MEMCOMPARE_EARLY_MODULES: modules.join('\n'),
    },
    outcome: (masterPid) => {
      // The master's file, else the lowest pid: the first interpreter (a later one is a helper it started).
      const files = readdirSync(out)
        .filter((f) => /^early-\d+\.json$/.test(f))
        .sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')))
        .sort((a, b) => Number(b === `early-${masterPid}.json`) - Number(a === `early-${masterPid}.json`));
      for (const f of files) {
        try {
          const v = JSON.parse(readFileSync(join(out, f), 'utf8')) as EarlyImportsOutcome;
          return { imported: v.imported ?? [], failed: v.failed ?? [] };
        } catch {
          // cut by a kill
        }
      }
      return undefined;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
