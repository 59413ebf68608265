import { renderRunSummary } from '../render/terminal.js';
import { type Exporter, text } from './exporter.js';
import { html } from './html.js';
import { bmf, csv, gab, json } from './machine.js';
import { markdown } from './markdown.js';

const table: Exporter = {
  format: 'table',
  describe: 'the terminal tables memcompare run prints',
  render: async (doc, { width }) => text(renderRunSummary(doc, width, true)),
};

export const EXPORTERS: Record<string, Exporter> = { markdown, html, json, table, csv, gab, bmf };
