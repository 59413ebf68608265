import { apache } from './apache.js';
import { celery } from './celery.js';
import type { ServerFamily } from './family.js';
import { generic } from './generic.js';
import { gunicorn } from './gunicorn.js';
import { passenger } from './passenger.js';
import { phpFpm } from './php-fpm.js';
import { puma } from './puma.js';
import { unicorn } from './unicorn.js';
import { uvicorn } from './uvicorn.js';
import { uwsgi } from './uwsgi.js';

export type { ServerFamily };

/**
 * Every server family memcompare knows, in the order a command is recognised: the first whose
 * `recognise` accepts it, the catch-all last. Adding a family: one module, one entry here.
 */
export const FAMILIES: readonly ServerFamily[] = [gunicorn, uwsgi, puma, unicorn, passenger, phpFpm, apache, celery, uvicorn, generic];

/** A scenario without `server` is this family's. */
export const DEFAULT_FAMILY = gunicorn;

/** The family that knows nothing particular: services and unknown servers are stopped its way. */
export const FALLBACK_FAMILY = generic;

/** The help's examples: commands of the default family. */
export const EXAMPLES = {
  match: 'gunicorn',
  commands: ['gunicorn -b 127.0.0.1:{port} -w 5 app:app', 'gunicorn -b 127.0.0.1:{port} -w 5 --preload app:app'],
} as const;

/** The family of that name, or undefined. */
export function familyNamed(name: string): ServerFamily | undefined {
  return FAMILIES.find((f) => f.name === name);
}

/** The names, for error messages and the scenario schema. */
export const familyNames = (): string[] => FAMILIES.map((f) => f.name);

/** Guesses the family from a command (for `--command` runs without `--server`). */
export function familyForCommand(argv: readonly string[]): ServerFamily {
  return FAMILIES.find((f) => f.recognise(argv)) ?? FALLBACK_FAMILY;
}

/** A count of workers in the named family's words ("pm.max_children = 4"); a plain count for an unknown name. */
export function workerSetting(name: string | undefined, n: number): string {
  return (familyNamed(name ?? '') ?? FALLBACK_FAMILY).workerSetting.text(n);
}

/** The packages whose versions the results record: every family's, per interpreter. */
export function familyPackages(): { python: string[]; ruby: string[] } {
  return {
    python: FAMILIES.flatMap((f) => f.packages.python ?? []),
    ruby: FAMILIES.flatMap((f) => f.packages.ruby ?? []),
  };
}
