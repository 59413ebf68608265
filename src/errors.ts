import type { Io } from './memory.js';

/** Exit codes, documented in the README ("Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** `check` found a regression. */
  regression: 1,
  /** Bad input: a flag, a file, a pid, a regex. Nothing was measured. */
  usage: 2,
  /** The server under test failed: it died during boot, never became ready, or lost its workers. */
  server: 3,
  /** `check` could not decide: a row's interval straddles the threshold (more runs would decide it). */
  inconclusive: 4,
  /** memcompare was interrupted (SIGINT); results so far are kept, marked incomplete. */
  interrupted: 130,
  /** memcompare's terminal hung up (SIGHUP); results so far are kept, marked incomplete. */
  hangup: 129,
  /** memcompare was terminated (SIGTERM); results so far are kept, marked incomplete. */
  terminated: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'BAD_ARGUMENT'
  | 'NO_SUCH_PROCESS'
  | 'PERMISSION'
  | 'BAD_SCENARIO'
  | 'BAD_RESULTS'
  | 'OUTPUT_UNWRITABLE'
  | 'PORT_TAKEN'
  | 'SERVER_DIED'
  | 'SERVER_NOT_READY'
  | 'SERVER_DAEMONIZED'
  | 'LOCKED'
  | 'INTERRUPTED';

const exitFor: Record<ErrorCode, ExitCodeValue> = {
  BAD_ARGUMENT: ExitCode.usage,
  NO_SUCH_PROCESS: ExitCode.usage,
  PERMISSION: ExitCode.usage,
  BAD_SCENARIO: ExitCode.usage,
  BAD_RESULTS: ExitCode.usage,
  OUTPUT_UNWRITABLE: ExitCode.usage,
  PORT_TAKEN: ExitCode.usage,
  SERVER_DIED: ExitCode.server,
  SERVER_NOT_READY: ExitCode.server,
  SERVER_DAEMONIZED: ExitCode.usage,
  LOCKED: ExitCode.usage,
  INTERRUPTED: ExitCode.interrupted,
};

/**
 * The one error type memcompare throws on purpose. `message` is a single line that names
 * the input, the value and the fix; `detail` holds extra lines (a server's last output).
 */
export class MemcompareError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCodeValue;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; detail?: string; exitCode?: ExitCodeValue } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MemcompareError';
    this.code = code;
    this.exitCode = options.exitCode ?? exitFor[code];
    this.detail = options.detail;
  }
}

export function badArgument(flag: string, value: unknown, fix: string): MemcompareError {
  return new MemcompareError('BAD_ARGUMENT', `${flag} ${JSON.stringify(value)}: ${fix}`);
}

/** errno of a Node system error, or undefined. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Prints an error for a person: one line (plus a server's output, if any); returns the exit code. */
export function reportError(error: unknown, io: Io): number {
  if (error instanceof MemcompareError) {
    io.stderr.write(`memcompare: ${error.message}\n`);
    if (error.detail) io.stderr.write(`${error.detail.replace(/\n?$/, '\n')}`);
    return error.exitCode;
  }
  // A bug, not bad input: say so in one line and keep the trace behind an env var.
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`memcompare: internal error: ${message.split('\n')[0]} (set MEMCOMPARE_DEBUG=1 for the stack; please report it)\n`);
  if (process.env.MEMCOMPARE_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
  return 70;
}
