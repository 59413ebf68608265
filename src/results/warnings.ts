import type { Warning } from './types.js';

type Kind = Warning['kind'];

/** Every warning's text and remedy, in one table keyed by kind (hyperfine keeps its warnings so). */
export const WARNINGS: { [K in Kind]: { remedy: string } } = {
  'idle-worker': {
    remedy: 'raise warmup.requests and warmup.connections so that every worker gets traffic; an unwarmed worker understates memory',
  },
  'worker-replaced': {
    remedy: 'memcompare warmed and measured the new workers; look for crashes, timeouts or max_requests in the server output',
  },
  'not-settled': { remedy: 'raise settle.timeoutMs or settle.tolerancePercent, or look for background work in the app' },
  'foreign-sharers': {
    remedy: 'stop them for numbers comparable across hosts; Pss_Anon (reported beside PSS) does not depend on them',
  },
  'soak-errors': {
    remedy:
      "a soak that reads no answer measures nothing per request: check the app's output (--show-output), and that its responses end (a Content-Length, chunked encoding, or the connection's close)",
  },
  'warmup-errors': { remedy: "a failing app is not a warm one: check the app's output (--show-output) and warmup.path" },
  'pid-header-not-worker': {
    remedy:
      'read the pid when each request is served (os.getpid(), Process.pid, getmypid() in the handler), not at import: a preloaded app is imported by the master',
  },
  'worker-count': { remedy: 'check the --workers value and the server output (--show-output)' },
  'skipped-processes': { remedy: 'run memcompare as the server user or as root' },
  noisy: { remedy: 'quiet the host (other servers share pages) or raise --runs' },
  'pool-not-fixed': {
    remedy: "for a measurement, fix the pool's size with the server's setting the warning names, and measure again",
  },
  'warmup-not-steady': {
    remedy:
      'the workers still grew when the warm-up reached its bound: measure after a soak (--soak SECONDS) to see whether they level off, or fix a count (--warmup-requests N) and say so',
  },
  'inherited-connection': {
    remedy:
      "open the connection in each worker after the fork, not at import (the server's hook for it is named in the message): every worker's requests interleave on the one socket",
  },
  'not-linear': {
    remedy:
      'look at that point (a worker count where the server behaves differently, or a noisy host); raise --runs, or fit only the linear range',
  },
};

/** A variant whose total PSS moved more than this across runs gets a `noisy` warning. */
export const NOISY_PERCENT = 1;

export function noisyWarning(variant: string, spreadPercent: number): Warning {
  return {
    kind: 'noisy',
    variant,
    message: `total PSS of ${variant} varied by ${spreadPercent.toFixed(2)}% across runs`,
    remedy: WARNINGS.noisy.remedy,
  };
}
