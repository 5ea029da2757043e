import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createTestServices, registerUser } from '../helpers/app.js';

/** The SQLite file on disk: readable by its owner alone, and no trace of a deleted account. */
describe('the SQLite database at rest', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });

  function freshDataDir(): string {
    const root = mkdtempSync(join(tmpdir(), 'bellhop-at-rest-'));
    roots.push(root);
    return join(root, 'data');
  }

  const mode = (path: string) => statSync(path).mode & 0o777;

  it('creates the data directory for its owner alone and the database files 0600', async () => {
    const dataDir = freshDataDir();
    const file = join(dataDir, 'bellhop.db');
    const handle = createDatabase({ dialect: 'sqlite', file });
    try {
      await migrateToLatest(handle.db);
      expect(mode(dataDir)).toBe(0o700);
      for (const path of [file, `${file}-wal`, `${file}-shm`]) {
        expect(existsSync(path), path).toBe(true);
        expect(mode(path), path).toBe(0o600);
      }
    } finally {
      await handle.close();
    }
  });

  it('leaves no trace of a deleted account’s e-mail or phone in the file', async () => {
    const file = join(freshDataDir(), 'bellhop.db');
    const config = { dialect: 'sqlite', file } as const;
    const handle = createDatabase(config);
    await migrateToLatest(handle.db);
    const services = createTestServices({ handle, config, drop: () => handle.close() });
    const app = await buildApp(services.config, services);
    const secret = randomBytes(6).toString('hex');
    const email = `gone-${secret}@example.com`;
    const phone = `+1555${Number.parseInt(secret.slice(0, 6), 16)}`.slice(0, 16);
    try {
      // Neighbours on the same pages: a deletion frees a cell, not a whole page.
      for (let i = 0; i < 5; i += 1) await registerUser(app, { email: `stays-${i}-${secret}@example.com` });
      const user = await registerUser(app, { email, phone });
      for (let i = 5; i < 10; i += 1) await registerUser(app, { email: `stays-${i}-${secret}@example.com` });
      const deleted = await app.inject({
        method: 'DELETE',
        url: '/v1/api/user',
        headers: { token: user.token },
        payload: { password: user.password },
      });
      expect(deleted.statusCode, deleted.body).toBe(200);
    } finally {
      await app.close();
      await services.stopChannel();
      await handle.close();
    }
    const bytes = Buffer.concat(
      [file, `${file}-wal`].filter((path) => existsSync(path)).map((path) => readFileSync(path)),
    );
    // The kept accounts are there: the search itself works.
    expect(bytes.includes(`stays-0-${secret}@example.com`)).toBe(true);
    expect(bytes.includes(email)).toBe(false);
    expect(bytes.includes(phone)).toBe(false);
  });
});
