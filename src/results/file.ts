import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemcompareError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { RESULTS_SCHEMA_VERSION, type ResultsDocument } from './types.js';

type Validate = ((doc: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };
let validate: Validate | undefined;

/** The published JSON Schema of the results document (schema/results.schema.json). */
export function resultsSchema(): object {
  return JSON.parse(readFileSync(join(packageRoot(), 'schema', 'results.schema.json'), 'utf8')) as object;
}

/** Validates against the JSON Schema; returns the first problem as "<path>: <message>", or undefined. */
export function schemaProblem(doc: unknown): string | undefined {
  if (!validate) {
    const Ajv = createRequire(import.meta.url)('ajv') as { default: new (o: object) => { compile(s: object): Validate } };
    validate = new Ajv.default({ allErrors: false, strict: false }).compile(resultsSchema());
  }
  if (validate(doc)) return undefined;
  const e = validate.errors?.[0];
  return `${e?.instancePath || '(document)'} ${e?.message ?? 'is invalid'}`;
}

/** Reads and checks a results file; every failure is one line naming the file, the problem and the fix. */
export function readResults(path: string, flag = 'results file'): ResultsDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new MemcompareError(
      'BAD_RESULTS',
      `${flag} ${JSON.stringify(path)}: cannot be read (${code ?? 'error'}); pass a file written by memcompare run --json`,
      { cause: error },
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    const why = text.trim() === '' ? 'empty' : `not valid JSON (${(error as Error).message.split('\n')[0]}), maybe truncated`;
    throw new MemcompareError('BAD_RESULTS', `${flag} ${JSON.stringify(path)}: ${why}; regenerate it with memcompare run --json`, {
      cause: error,
    });
  }
  const version = (doc as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof doc === 'object' && doc !== null && version !== undefined && version !== RESULTS_SCHEMA_VERSION) {
    throw new MemcompareError(
      'BAD_RESULTS',
      `${flag} ${JSON.stringify(path)}: schemaVersion ${JSON.stringify(version)} is not ${RESULTS_SCHEMA_VERSION}; regenerate it with this memcompare version`,
    );
  }
  const problem = schemaProblem(doc);
  if (problem) {
    throw new MemcompareError(
      'BAD_RESULTS',
      `${flag} ${JSON.stringify(path)}: not a memcompare results document (${problem}); pass a file written by memcompare run --json`,
    );
  }
  return doc as ResultsDocument;
}
