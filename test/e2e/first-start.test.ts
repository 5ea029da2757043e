import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChannelPhone } from '../helpers/channel-client.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { eventually } from '../helpers/wait.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/**
 * Starts the server with the push channel on a port that was free a moment ago (CHANNEL_PORT 0
 * turns the channel off, so the server cannot pick one); another test can take the port in
 * between, and the start is then tried again on another. The port it got is in its banner.
 */
async function startOnFreeChannelPort(environment: Record<string, string>): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startServerProcess({ ...environment, CHANNEL_PORT: String(await freePort()) });
    } catch (error) {
      if (attempt >= 5 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

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
    server = await startOnFreeChannelPort(environment);
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

    // The push socket, with a self-signed certificate kept in the data directory.
    const certificate = readFileSync(join(dataDir, 'channel-cert.pem'), 'utf8');
    const phone = await ChannelPhone.connect(server.channelPort ?? 0, certificate);
    const identity = { imei: '860000000000001', imsi: '460000000000001', bundle_id: 'com.example.bellhop' };
    const token = await phone.register(identity);
    await phone.close();

    // A restart prints no new key and keeps the same master key, certificate and push tokens.
    await server.stop();
    server = await startOnFreeChannelPort(environment);
    expect(server.output()).not.toContain('admin API key');
    expect(server.output()).not.toContain('generated a master key');
    expect(readFileSync(join(dataDir, 'channel-cert.pem'), 'utf8')).toBe(certificate);
    const again = await ChannelPhone.connect(server.channelPort ?? 0, certificate);
    expect(await again.register(identity)).toBe(token);
    await again.close();
    const apps2 = await fetch(`${server.url}/v1/admin/apps`, { headers: admin });
    expect(apps2.status).toBe(200);
  }, 120_000);
});
