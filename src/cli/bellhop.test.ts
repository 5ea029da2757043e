import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, UsageError } from './bellhop.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function tables(file: string): string[] {
  const db = new SQLite(file, { readonly: true });
  try {
    const rows = db.prepare("select name from sqlite_master where type = 'table' order by name").all();
    return (rows as Array<{ name: string }>).map((row) => row.name);
  } finally {
    db.close();
  }
}

describe('the bellhop command line', () => {
  const dirs: string[] = [];
  function freshEnvironment(): { DATA_DIR: string; LOG_LEVEL: string } {
    const dir = mkdtempSync(join(tmpdir(), 'bellhop-cli-'));
    dirs.push(dir);
    return { DATA_DIR: dir, LOG_LEVEL: 'silent' };
  }
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('leaves the schema alone for key commands: a database that is behind is named, not migrated', async () => {
    const env = freshEnvironment();
    await expect(runCli(['keys', 'list'], env)).rejects.toThrow(UsageError);
    await expect(runCli(['keys', 'list'], env)).rejects.toThrow(/run "npm run migrate" first/);
    expect(tables(join(env.DATA_DIR, 'bellhop.db'))).toEqual([]);
  });

  it('migrates once, then manages keys', async () => {
    const env = freshEnvironment();
    const applied = await runCli(['migrate'], env);
    expect(applied.at(-1)).toMatch(/^\d+ migration\(s\) applied$/);
    expect(await runCli(['migrate'], env)).toEqual(['database is up to date']);
    expect(await runCli(['keys', 'list'], env)).toEqual(['no API keys']);
    const [created] = await runCli(['keys', 'create', '--name', 'cloud', '--scope', 'send'], env);
    const id = /^created (key_\w+)/.exec(created ?? '')?.[1];
    expect(id).toBeDefined();
    expect(await runCli(['keys', 'revoke', id ?? ''], env)).toEqual([`revoked ${id}`]);
  });

  it('runs from the built bundle, as npm run migrate and npm run bellhop do', () => {
    const env = freshEnvironment();
    const run = (...args: string[]) =>
      execFileSync(process.execPath, ['dist/bellhop.js', ...args], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', ...env },
        encoding: 'utf8',
      });
    expect(run('migrate')).toMatch(/migration\(s\) applied/);
    expect(run('keys', 'list')).toBe('no API keys\n');
  });
});
