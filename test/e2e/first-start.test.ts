import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/wait.js';

describe('the first start of the embedded default', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bellhop-first-'));
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints an admin key once, makes a master key file and an inbox-mode default app that captures deliveries', async () => {
    const environment = {
      DATA_DIR: dataDir,
      ARGON2_MEMORY_KIB: '64',
      ARGON2_ITERATIONS: '1',
      LOG_LEVEL: 'warn',
    };
    server = await startServerProcess(environment);
    const key = /admin API key[^\n]*\n\n\s+(bh_[A-Za-z0-9_-]+)/.exec(server.output())?.[1];
    expect(key).toBeDefined();
    expect(server.output()).toContain('generated a master key');
    expect(existsSync(join(dataDir, 'master.key'))).toBe(true);
    expect(statSync(join(dataDir, 'master.key')).mode & 0o077).toBe(0);
    const admin = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

    const apps = (await (await fetch(`${server.url}/v1/admin/apps`, { headers: admin })).json()) as Array<
      Record<string, unknown>
    >;
    expect(apps).toMatchObject([{ bundleid: 'com.example.bellhop', mode: 'inbox' }]);

    const user = (await (
      await fetch(`${server.url}/v1/api/user`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'firststart', password: 'long enough password' }),
      })
    ).json()) as { id: number; token: string };
    const registered = await fetch(`${server.url}/v1/api/user/message/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', token: user.token },
      body: JSON.stringify({ push_token: 'inbox-fcm-token', language: 'en', push_platform: 'FCM' }),
    });
    expect(registered.status).toBe(201);
    const sent = await fetch(`${server.url}/v1/push`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ channel: 'message', users: [user.id], title: 'Hello', body: 'From the inbox' }),
    });
    expect(sent.status).toBe(202);
    const inbox = await eventually(async () => {
      const entries = (await (
        await fetch(`${server?.url}/v1/admin/apps/com.example.bellhop/inbox`, { headers: admin })
      ).json()) as Array<{
        provider: string;
        request: { url: string; body: string };
      }>;
      return entries.length > 0 ? entries : undefined;
    }, 'the inbox entry');
    expect(inbox[0]?.provider).toBe('fcm');
    expect(inbox[0]?.request.url).toBe('https://fcm.googleapis.com/v1/projects/inbox/messages:send');
    expect(JSON.parse(inbox[0]?.request.body ?? '{}')).toMatchObject({
      message: { token: 'inbox-fcm-token', notification: { title: 'Hello', body: 'From the inbox' } },
    });

    // A restart prints no new key and keeps the same master key.
    await server.stop();
    server = await startServerProcess(environment);
    expect(server.output()).not.toContain('admin API key');
    expect(server.output()).not.toContain('generated a master key');
    const again = await fetch(`${server.url}/v1/admin/apps`, { headers: admin });
    expect(again.status).toBe(200);
  }, 120_000);
});
