import { basename, dirname, join, resolve } from 'node:path';
import { badArgument } from '../errors.js';
import { EXPORTERS } from '../export/index.js';
import { renderMatrixJson, renderMatrixMarkdown } from '../export/matrix.js';
import type { Io } from '../memory.js';
import { checkWritable, writeAtomic, writeOutput } from '../persist.js';
import { terminalWidth } from '../render/width.js';
import { readResults } from '../results/file.js';
import type { ResultsDocument } from '../results/types.js';
import type { FlagValues, REPORT_FLAGS } from './flags.js';

export function checkFormat(format: string): string {
  if (!(format in EXPORTERS)) throw badArgument('--format', format, `use one of: ${Object.keys(EXPORTERS).join(', ')}`);
  return format;
}

/** Renders a results document in a format to a file (charts beside it) or to stdout (`-`). */
export async function writeExport(doc: ResultsDocument, format: string, out: string | undefined, io: Io): Promise<void> {
  const exporter = EXPORTERS[checkFormat(format)];
  if (!exporter) return;
  const toFile = out !== undefined && out !== '-';
  const assetPrefix = toFile ? basename(out).replace(/\.[^.]+$/, '') : undefined;
  const width = toFile ? undefined : terminalWidth(io.stdout);
  const result = await exporter.render(doc, { assetPrefix, ...(width ? { width } : {}) });
  const dir = toFile ? dirname(resolve(out)) : process.cwd();
  for (const f of result.files) writeAtomic(join(dir, f.name), f.content);
  if (toFile) await writeOutput(out, result.text);
  else io.stdout.write(result.text);
  if (result.files.length > 0) io.stderr.write(`memcompare: wrote ${result.files.map((f) => join(dir, f.name)).join(', ')}\n`);
}

/** `memcompare report`'s options: its flag table (flags.ts) and the results positional. */
export type ReportCommandOptions = FlagValues<typeof REPORT_FLAGS> & { results: string[] };

export async function runReportCommand(o: ReportCommandOptions, io: Io): Promise<number> {
  checkFormat(o.format);
  if (o.results.length > 1 && o.format !== 'markdown' && o.format !== 'json') {
    throw badArgument('--format', o.format, 'several results files render side by side as markdown or json only');
  }
  if (o.out !== undefined && o.out !== '-') checkWritable(o.out, '--out');
  const docs = o.results.map((file) => ({ file, doc: readResults(file, 'RESULTS') }));
  const [only] = docs;
  if (docs.length === 1 && only) {
    await writeExport(only.doc, o.format, o.out, io);
    return 0;
  }
  const text = o.format === 'json' ? renderMatrixJson(docs) : renderMatrixMarkdown(docs);
  if (o.out !== undefined && o.out !== '-') await writeOutput(o.out, text);
  else io.stdout.write(text);
  return 0;
}
