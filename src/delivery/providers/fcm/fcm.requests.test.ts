import { describe, expect, it } from 'vitest';
import { adapterFor, clock, fake, message, useFcmTestbed } from '../../../../test/helpers/fcm-adapter.js';
import { createMemoryAccessTokenStore } from '../shared/access-tokens.js';
import { fcmProvider } from './index.js';

useFcmTestbed();

describe('the FCM adapter: requests', () => {
  it('sends a ring as data-only HIGH with its TTL, authenticated with the access token', async () => {
    const adapter = adapterFor(fake);
    const results = await adapter.send([
      message({ channel: 'ring', token: 'phone-a', collapseId: 'call-1', expiresAt: clock.now() + 20_000 }),
    ]);
    expect(results).toEqual([
      { ok: true, providerMessageId: expect.stringMatching(/^projects\/bellhop-test\/messages\/\d+$/) },
    ]);
    const [received] = fake.received;
    expect(received?.status).toBe(200);
    expect(received?.headers.authorization).toBe(`Bearer ${fake.tokenRequests[0]?.accessToken}`);
    expect(received?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(received?.body).toEqual({
      message: {
        token: 'phone-a',
        data: { device: 'cam-1', title: 'Front door', body: 'Someone is at the door', channel: 'ring' },
        android: { priority: 'HIGH', ttl: '20s', collapse_key: 'call-1' },
      },
    });
  });

  it('sends a message with notification, data, channel id and collapse key', async () => {
    const adapter = adapterFor(fake);
    const results = await adapter.send([
      message({ token: 'phone-b', androidChannelId: 'doorbell', sound: 'ding', collapseId: 'door-1' }),
    ]);
    expect(results[0]?.ok).toBe(true);
    expect(fake.received[0]?.body).toEqual({
      message: {
        token: 'phone-b',
        notification: { title: 'Front door', body: 'Someone is at the door' },
        data: { device: 'cam-1' },
        android: {
          priority: 'HIGH',
          ttl: '30s',
          collapse_key: 'door-1',
          notification: { channel_id: 'doorbell', sound: 'ding', tag: 'door-1' },
        },
      },
    });
  });

  it('reuses one connection for sequential sends', async () => {
    const adapter = adapterFor(fake, { concurrency: 1 });
    for (let i = 0; i < 5; i += 1) await adapter.send([message(), message()]);
    expect(fake.received).toHaveLength(10);
    expect(fake.connectionsOpened).toBe(1);
    expect(new Set(fake.received.map((received) => received.connection))).toEqual(new Set([1]));
  });

  it('sends 500 messages concurrently over a bounded number of connections, results in order', async () => {
    const adapter = adapterFor(fake, { concurrency: 8 });
    const tokens = Array.from({ length: 500 }, (_, i) => `device-${i}`);
    for (const [i, token] of tokens.entries()) if (i % 7 === 0) fake.script(token, 'UNREGISTERED');

    // Nothing is answered until 8 sends are in flight: the bound is reached, and not passed.
    fake.pause();
    let arrived = 0;
    const eight = new Promise<void>((resolve) => {
      fake.on('request', () => {
        arrived += 1;
        if (arrived === 8) resolve();
      });
    });
    // Two `send` calls at once: the bound is the adapter's, not the call's.
    const sending = Promise.all([
      adapter.send(tokens.slice(0, 250).map((token) => message({ token }))),
      adapter.send(tokens.slice(250).map((token) => message({ token }))),
    ]);
    await eight;
    expect(arrived).toBe(8);
    fake.resume();
    const results = (await sending).flat();

    expect(results).toHaveLength(500);
    for (const [i, result] of results.entries()) {
      expect(result.ok ? 'ok' : result.failure).toBe(i % 7 === 0 ? 'dead' : 'ok');
    }
    expect(new Set(fake.received.map((received) => received.token)).size).toBe(500);
    expect(fake.maxConcurrentSends).toBe(8);
    expect(fake.maxOpenConnections).toBeLessThanOrEqual(8);
    expect(fake.connectionsOpened).toBeLessThanOrEqual(8);
    expect(fake.tokensIssued).toBe(1);
  });

  it('after close, sends fail with retry and nothing reaches FCM', async () => {
    const adapter = adapterFor(fake);
    fake.script('slow', 'hang');
    const inFlight = adapter.send([message({ token: 'slow' })]);
    await new Promise<void>((resolve) => fake.once('request', () => resolve()));
    await adapter.close();
    expect(await inFlight).toEqual([{ ok: false, failure: 'retry', reason: 'adapter_closed' }]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'adapter_closed' },
    ]);
    expect(fake.received).toHaveLength(1);
  });

  it('refuses invalid credentials when created', () => {
    const context = { clock, accessTokens: createMemoryAccessTokenStore() };
    expect(() =>
      fcmProvider.createAdapter({ service_account: { ...fake.serviceAccount, private_key: 'x' } }, context),
    ).toThrow(/private_key/);
  });
});
