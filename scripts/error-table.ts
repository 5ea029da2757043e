/**
 * Writes the error table of docs/errors.md from the catalogue in src/errors.ts, between its
 * markers (`npm run docs:errors`). test/docs/error-table.test.ts fails when they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorCatalogue } from '../src/errors.js';

export const errorsDoc = fileURLToPath(new URL('../docs/errors.md', import.meta.url));
const start = '<!-- error-table:start (generated from src/errors.ts by npm run docs:errors) -->';
const end = '<!-- error-table:end -->';

const cell = (text: string) => text.replaceAll('|', '\\|');

/** One row per code, by status, in the catalogue's order within a status. */
export function errorTable(): string {
  const rows = Object.entries(errorCatalogue)
    .map(([code, entry], index) => ({ code, ...entry, index }))
    .sort((a, b) => a.status - b.status || a.index - b.index)
    .map(
      (entry) =>
        `| ${entry.status} | \`${entry.code}\` | \`${cell(entry.message.replace('{field}', '<field>'))}\` | ${cell(entry.when)} |`,
    );
  return ['| status | code | message | when |', '| ---: | --- | --- | --- |', ...rows].join('\n');
}

/** The document with the table between the markers replaced by the current one. */
export function withErrorTable(document: string): string {
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/errors.md lacks the markers ${start} … ${end}`);
  return `${document.slice(0, from + start.length)}\n${errorTable()}\n${document.slice(to)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(errorsDoc, withErrorTable(readFileSync(errorsDoc, 'utf8')));
  process.stdout.write(`wrote the error table of ${errorsDoc}\n`);
}
