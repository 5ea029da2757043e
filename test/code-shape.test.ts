import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The shape every TypeScript file of the project keeps: at most 400 lines a file, and at most
 * 80 lines a function outside the tests. A factory's whole closure counts as one function, so
 * a service cannot grow into one long closure again.
 *
 * Migrations are exempt from the function limit: each is a frozen record of a schema change,
 * and rewriting one risks databases migrated before and after the rewrite drifting apart.
 */
const root = join(import.meta.dirname, '..');
const maxFileLines = 400;
const maxFunctionLines = 80;

/** The project's TypeScript: every `.ts` under the source folders (git's view is not needed). */
function projectTypeScript(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return entry.name === 'results' ? [] : walk(path);
      return entry.name.endsWith('.ts') ? [path] : [];
    });
  const topLevel = readdirSync(root).filter((name) => name.endsWith('.ts'));
  return [...topLevel, ...['src', 'test', 'bench', 'scripts'].flatMap(walk)];
}

const isTest = (file: string) => file.startsWith('test/') || file.endsWith('.test.ts');
const isMigration = (file: string) => file.startsWith('src/db/migrations/');

/** Functions of a source text longer than the limit: `line: length`. */
function longFunctions(file: string, text: string, limit: number): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.end).line;
      if (last - first + 1 > limit) found.push(`${file}:${first + 1} is ${last - first + 1} lines`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('code shape', () => {
  const files = projectTypeScript();

  it(`keeps every file at ${maxFileLines} lines or fewer`, () => {
    const long = files.flatMap((file) => {
      const lines = readFileSync(join(root, file), 'utf8').split('\n').length - 1;
      return lines > maxFileLines ? [`${file} has ${lines} lines`] : [];
    });
    expect(long).toEqual([]);
  });

  it(`keeps every function outside the tests at ${maxFunctionLines} lines or fewer`, () => {
    const long = files
      .filter((file) => !isTest(file) && !isMigration(file))
      .flatMap((file) => longFunctions(file, readFileSync(join(root, file), 'utf8'), maxFunctionLines));
    expect(long).toEqual([]);
  });

  it('finds a long function and a factory closure as one', () => {
    const body = Array.from({ length: 81 }, (_, index) => `  const a${index} = ${index};`).join('\n');
    expect(longFunctions('x.ts', `function f() {\n${body}\n}\n`, 80)).toEqual(['x.ts:1 is 83 lines']);
    const members = Array.from({ length: 30 }, (_, index) => `    m${index}() { return ${index}; },`);
    const factory = `export function create() {\n  return {\n${members.join('\n')}\n  };\n}\n`;
    expect(longFunctions('y.ts', factory, 20)).toEqual(['y.ts:1 is 34 lines']);
    expect(longFunctions('z.ts', 'const g = () => 1;\n', 80)).toEqual([]);
  });
});
