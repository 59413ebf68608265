import Table from 'cli-table3';

const BOXED = { head: [] as string[], border: [] as string[] };

const visible = (s: string) => [...s].length;

/** Lines of a laid-out table wider than `width`. */
const tooWide = (text: string, width: number) => text.split('\n').some((l) => visible(l) > width);

/**
 * A boxed table (cli-table3) that fits `width`: as it is when it fits; else its widest columns
 * narrowed, their cells wrapped onto more lines; else, with too many columns for the width, one
 * block per row ("header: value" lines), which always fits.
 */
export function boxTable(head: readonly string[], rows: readonly (readonly string[])[], width?: number): string {
  const natural = new Table({ head: [...head], style: BOXED });
  natural.push(...rows.map((r) => [...r]));
  const text = natural.toString();
  if (width === undefined || !tooWide(text, width)) return `${text}\n`;
  // Column widths including one space of padding each side; borders take columns + 1.
  const widths = head.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))) + 2);
  const MIN = 8;
  while (widths.reduce((a, b) => a + b, 0) + widths.length + 1 > width) {
    const widest = widths.indexOf(Math.max(...widths));
    if ((widths[widest] as number) <= MIN) break;
    widths[widest] = (widths[widest] as number) - 1;
  }
  const narrowed = new Table({ head: [...head], style: BOXED, colWidths: widths, wordWrap: true });
  narrowed.push(...rows.map((r) => [...r]));
  const fitted = narrowed.toString();
  if (!tooWide(fitted, width)) return `${fitted}\n`;
  return stacked(head, rows, width);
}

/** One block per row: its first cell as a title, then "header: value", each line cut to the width. */
function stacked(head: readonly string[], rows: readonly (readonly string[])[], width: number): string {
  const cut = (s: string) => (visible(s) > width ? `${[...s].slice(0, width - 1).join('')}…` : s);
  const label = Math.min(Math.max(...head.slice(1).map(visible)), Math.floor(width / 2));
  return `${rows
    .map((r) =>
      [cut(`${head[0]}: ${r[0] ?? ''}`), ...head.slice(1).map((h, i) => cut(`  ${h.padEnd(label)}  ${r[i + 1] ?? ''}`))].join('\n'),
    )
    .join('\n\n')}\n`;
}

const BOX_CHARS = /[│┌┐└┘├┤┬┴┼─]/;

/**
 * Wraps prose lines (not table lines) longer than `width` at spaces, continuation lines indented by
 * two spaces; a word longer than the width is cut with "…". Tables are made to fit by boxTable and
 * the smem layout; their lines are left alone.
 */
export function wrapProse(text: string, width?: number): string {
  if (width === undefined) return text;
  return text
    .split('\n')
    .flatMap((line) => {
      if (visible(line) <= width || BOX_CHARS.test(line)) return [line];
      const indent = line.match(/^\s*/)?.[0] ?? '';
      const out: string[] = [];
      let cur = '';
      for (const word of line.trim().split(/\s+/)) {
        const prefix = out.length === 0 ? indent : `${indent}  `;
        const w =
          visible(prefix) + visible(word) > width ? `${[...word].slice(0, Math.max(1, width - visible(prefix) - 1)).join('')}…` : word;
        if (cur !== '' && visible(cur) + 1 + visible(w) > width) {
          out.push(cur);
          cur = `${indent}  ${w}`;
        } else cur = cur === '' ? `${prefix}${w}` : `${cur} ${w}`;
      }
      if (cur !== '') out.push(cur);
      return out;
    })
    .join('\n');
}
