import type { ResultsDocument } from '../results/types.js';

/** A file an exporter writes beside its main output (a chart), by a path relative to it. */
export interface SideFile {
  name: string;
  content: string;
}

export interface ExportOutput {
  /** The main output: what goes to --out or stdout. */
  text: string;
  /** Files to write next to --out (charts). */
  files: SideFile[];
}

export interface ExportOptions {
  /**
   * Prefix of side files' names, from the output's base name (`report` -> `report-total-pss.svg`);
   * undefined when the output goes to stdout, where no side file can sit beside it.
   */
  assetPrefix: string | undefined;
  /** The terminal's width, for the terminal table format (undefined: no limit). */
  width?: number;
}

/** Every output format reads the one results document through this interface. */
export interface Exporter {
  format: string;
  describe: string;
  render(doc: ResultsDocument, options: ExportOptions): Promise<ExportOutput>;
}

export const text = (t: string): ExportOutput => ({ text: t, files: [] });
