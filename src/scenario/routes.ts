import type { HttpWarmupSettings, WarmupSettings } from '../results/types.js';

/** A route as a scenario file or `--path` gives it. */
export interface RouteDocument {
  path: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  weight?: number;
}

/**
 * Routes (the scenario's `routes`, `run --path`) on an HTTP warm-up: `path` becomes the first route's. A
 * warm-up by command or of another protocol sends one thing: routes there are bad input.
 */
export function withRoutes(
  warmup: WarmupSettings,
  routes: readonly RouteDocument[],
  fail: (field: string, value: unknown, fix: string) => never,
): void {
  if (warmup.command || (warmup.protocol !== undefined && warmup.protocol !== 'http'))
    fail(
      'routes',
      routes.map((r) => r.path),
      'routes are HTTP requests; this warm-up is a command or speaks another protocol: remove them',
    );
  const http = warmup as HttpWarmupSettings;
  http.routes = routes.map((r) => ({
    path: r.path,
    ...(r.method && r.method !== 'GET' ? { method: r.method } : {}),
    ...(r.body !== undefined ? { body: r.body } : {}),
    ...(r.headers ? { headers: r.headers } : {}),
    weight: r.weight ?? 1,
  }));
  http.path = routes[0]?.path ?? http.path;
}

/**
 * `--path PATH[:WEIGHT]`: a route of the mix, its share after the last colon when that is a number
 * (`/report:3`); a path must start with /. Undefined with the reason when the text is not one.
 */
export function parsePathSpec(spec: string): RouteDocument | { error: string } {
  const m = /^(.*):(\d+(?:\.\d+)?)$/.exec(spec);
  const path = m ? (m[1] as string) : spec;
  const weight = m ? Number(m[2]) : 1;
  if (!path.startsWith('/')) return { error: 'a path starts with / (e.g. /report, or /report:3 for three times the share)' };
  if (!(weight > 0 && weight <= 1000)) return { error: 'the weight after the colon is a share above 0, at most 1000 (e.g. /report:3)' };
  return { path, weight };
}
