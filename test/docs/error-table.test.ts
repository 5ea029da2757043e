import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorsDoc, errorTable, withErrorTable } from '../../scripts/error-table.js';
import { errorCatalogue } from '../../src/errors.js';

describe('the error table of docs/errors.md', () => {
  it('is the one generated from src/errors.ts (run npm run docs:errors after a change)', () => {
    const document = readFileSync(errorsDoc, 'utf8');
    expect(withErrorTable(document)).toBe(document);
  });

  it('has one row per code', () => {
    const table = errorTable();
    for (const code of Object.keys(errorCatalogue)) expect(table).toContain(`| \`${code}\` |`);
  });
});
