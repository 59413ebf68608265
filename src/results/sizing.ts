/**
 * A worker count in each family's own words: the setting a user puts in the server's configuration,
 * and the rule of thumb that community's tuning guides give (budget ÷ the average worker's RSS).
 */
export const SETTING: Record<string, (n: number) => string> = {
  gunicorn: (n) => `--workers ${n} (or WEB_CONCURRENCY=${n})`,
  uwsgi: (n) => `processes = ${n}`,
  puma: (n) => `workers ${n}`,
  unicorn: (n) => `worker_processes ${n}`,
  'php-fpm': (n) => `pm.max_children = ${n}`,
  apache: (n) => `MaxRequestWorkers ${n} (with ServerLimit ${n})`,
  celery: (n) => `--concurrency ${n}`,
};

/** The setting for `n` workers of a family; generic servers get the plain count. */
export function settingFor(family: string, n: number): string {
  return SETTING[family]?.(n) ?? `${n} workers`;
}
