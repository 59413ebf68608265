import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { MemcompareError } from '../errors.js';
import { isAlive } from '../proc/stat.js';
import type { Revision } from '../results/types.js';

/** A checkout of the baseline ref beside the working tree (`run --baseline-ref`). */
export interface BaseTree {
  /** The repository's top folder. */
  repo: string;
  /** The temporary worktree holding the baseline ref. */
  dir: string;
  base: Revision;
  head: Revision;
  /** A path of the working tree, as it is in the base worktree (paths outside the repository stay). */
  inBase(path: string): string;
  /** Removes the worktree (synchronous: it also runs from exit hooks). */
  remove(): void;
}

const PREFIX = 'memcompare-base-';

function git(args: string[], cwd: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.error) {
    throw new MemcompareError(
      'BAD_ARGUMENT',
      `--baseline-ref: git cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install git`,
    );
  }
  return { ok: r.status === 0, out: r.stdout.trim(), err: r.stderr.trim().split('\n')[0] ?? '' };
}

/**
 * Worktrees left by a memcompare that was SIGKILLed (its pid is in the folder's name and gone):
 * removed before a new one is made, so at most one stale worktree outlives a killed run.
 */
function removeStale(repo: string): void {
  const list = git(['worktree', 'list', '--porcelain'], repo);
  for (const line of list.out.split('\n')) {
    const path = line.startsWith('worktree ') ? line.slice('worktree '.length) : '';
    const m = new RegExp(`${PREFIX}(\\d+)-`).exec(path);
    if (m && !isAlive(Number(m[1]))) git(['worktree', 'remove', '--force', path], repo);
  }
  git(['worktree', 'prune'], repo);
}

/**
 * Checks `ref` out into a temporary worktree of the repository that holds `anchor` (the scenario
 * file, or the server's folder for --command). Every failure is a one-line usage error (exit 2).
 */
export function openBaseTree(anchor: string, ref: string): BaseTree {
  const flag = `--baseline-ref ${JSON.stringify(ref)}`;
  const start = existsSync(anchor) && statSync(anchor).isDirectory() ? anchor : dirname(anchor);
  const top = git(['rev-parse', '--show-toplevel'], start);
  if (!top.ok) {
    throw new MemcompareError(
      'BAD_ARGUMENT',
      `${flag}: ${start} is not inside a git repository; run from the repository that holds the scenario file (or give --cwd inside it)`,
    );
  }
  const repo = top.out;
  const commit = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], repo);
  if (!commit.ok) {
    throw new MemcompareError(
      'BAD_ARGUMENT',
      `${flag}: no such commit in ${repo}; fetch it first (git fetch origin ${ref}; in GitHub Actions, actions/checkout with fetch-depth: 0)`,
    );
  }
  const headCommit = git(['rev-parse', 'HEAD'], repo);
  const dirty = git(['status', '--porcelain', '--untracked-files=no'], repo).out !== '';
  removeStale(repo);
  const dir = join(tmpdir(), `${PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  const added = git(['worktree', 'add', '--detach', '--quiet', dir, commit.out], repo);
  if (!added.ok) {
    throw new MemcompareError('BAD_ARGUMENT', `${flag}: the worktree could not be made in ${dir} (${added.err}); check the repository`);
  }
  let removed = false;
  return {
    repo,
    dir,
    base: { role: 'base', ref, commit: commit.out, dirty: false },
    head: { role: 'head', ref: 'working tree', commit: headCommit.ok ? headCommit.out : '', dirty },
    inBase(path: string) {
      const rel = relative(repo, resolve(path));
      return rel.startsWith('..') || rel.startsWith('/') ? path : join(dir, rel);
    },
    remove() {
      if (removed) return;
      removed = true;
      git(['worktree', 'remove', '--force', dir], repo);
      rmSync(dir, { recursive: true, force: true });
      git(['worktree', 'prune'], repo);
    },
  };
}

/**
 * Base and head in one run: every variant twice, `NAME@base` running in the base worktree (its
 * folder mapped into it) before `NAME` in the working tree, so that each pair is interleaved.
 */
export function withBaseline<V extends { name: string; cwd?: string }>(
  variants: readonly V[],
  scenarioCwd: string,
  tree: Pick<BaseTree, 'base' | 'head' | 'inBase'>,
): (V & { revision: Revision })[] {
  return variants.flatMap((v) => [
    { ...v, name: `${v.name}@base`, cwd: tree.inBase(v.cwd ?? scenarioCwd), revision: tree.base },
    { ...v, revision: tree.head },
  ]);
}
