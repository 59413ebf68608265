// Every output medium escapes what it did not write: results files come from other branches and
// other machines, so a variant name, a command, a path or a warning is untrusted text.

/** C0 controls (newline and tab included), DEL, C1 controls and the Unicode line/paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** A copy of a value with every string (keys of records included) passed through `f`. */
export function mapStrings<T>(value: T, f: (s: string) => string): T {
  if (typeof value === 'string') return f(value) as T;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [f(k), mapStrings(v, f)])) as T;
  }
  return value;
}

/** For a terminal: control characters (an escape sequence, a carriage return, a newline) shown as \x1b, \r, \n; never acted on. */
export function termText(s: string): string {
  return s.replace(CONTROL, (c) =>
    JSON.stringify(c)
      .slice(1, -1)
      .replace(/^\\u00/, '\\x'),
  );
}

/** For one line of plain text (an SVG label, a Mermaid label): control characters become spaces. */
export function lineText(s: string): string {
  return s.replace(CONTROL, ' ');
}

// CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that can start
// markup inline (emphasis, code, links and images, HTML, entities, strikethrough, math).
const MD_SPECIAL = /[\\`*_[\]<>~&$]/g;

/**
 * For Markdown text on one line: no HTML, link, image, emphasis or heading can form, and a table cell
 * stays one cell (its `|` is escaped by the table). Control characters become spaces; a leading
 * character that would start a list, a quote or a setext line is escaped.
 */
export function mdText(s: string): string {
  return lineText(s)
    .replace(MD_SPECIAL, '\\$&')
    .replace(/^(\s*)([-+=#])/, '$1\\$2')
    .replace(/^(\s*\d+)([.)])(?=\s|$)/, '$1\\$2');
}

/**
 * A GitHub-flavoured Markdown table. Cells are Markdown already (escape untrusted text with mdText
 * first); here a `|` is escaped, so a cell stays one cell, and a newline cannot end the row.
 */
export function mdTable(head: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|').replace(CONTROL, ' ')).join(' | ')} |`;
  return [line(head), `|${align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`, ...rows.map(line)].join('\n');
}
