// Apart from table.ts so that `snapshot` (its start-up fast path) reads the width without loading cli-table3.

/**
 * The width a human table may take: the terminal's columns when the stream is a terminal, else
 * $COLUMNS when set; undefined (no limit: piped output stays whole) otherwise.
 */
export function terminalWidth(stream: unknown): number | undefined {
  const s = stream as { isTTY?: boolean; columns?: number };
  if (s?.isTTY && s.columns) return s.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env >= 20 ? env : undefined;
}
