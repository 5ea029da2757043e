import { describe, expect, it, vi } from 'vitest';
import {
  apnsFixtures,
  TEST_APNS_BUNDLE_ID,
  testApnsCertificateCredentials,
  testApnsTokenCredentials,
} from '../../../../test/fakes/apns-fixtures.js';
import { startFakeApns } from '../../../../test/fakes/apns-server.js';
import {
  clock,
  createAdapter,
  MINUTE,
  message,
  requestsFor,
  sendOne,
  startFake,
  useApnsTestbed,
} from '../../../../test/helpers/apns-adapter.js';
import { createApnsAdapter } from './apns.adapter.js';

useApnsTestbed();

describe('APNs adapter: connections', () => {
  it('reuses one connection for sequential sends', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    for (let i = 0; i < 5; i += 1) expect((await sendOne(adapter, message())).ok).toBe(true);
    expect(fake.stats.connections).toBe(1);
  });

  it('sends 2,000 concurrent pushes over at most maxConnections connections', async () => {
    const fake = await startFake({ responseDelayMs: 1, tokenUpdateMinIntervalMs: 20 * MINUTE });
    const adapter = createAdapter(testApnsTokenCredentials(fake), { maxConnections: 2 });
    const batch = Array.from({ length: 1000 }, (_, index) =>
      message({ channel: index % 2 === 0 ? 'ring' : 'message' }),
    );
    const singles = Array.from({ length: 1000 }, () => message());
    const [batchResults, singleResults] = await Promise.all([
      adapter.send(batch),
      Promise.all(singles.map((push) => sendOne(adapter, push))),
    ]);
    expect([...batchResults, ...singleResults].filter((result) => !result.ok)).toEqual([]);
    expect(fake.received).toHaveLength(2000);
    expect(new Set(fake.received.map((request) => request.token)).size).toBe(2000);
    expect(fake.stats.connections).toBeLessThanOrEqual(2);
    expect(fake.stats.maxStreamsInFlight).toBeGreaterThan(1);
    // One stream per connection until the JWT was accepted, as APNs requires.
    expect(fake.stats.streamsBeforeAuth).toBe(0);
    expect(fake.distinctJwts()).toBe(1);
  });

  it('keeps within a small server stream limit', async () => {
    const fake = await startFake({ maxConcurrentStreams: 5, responseDelayMs: 1 });
    const adapter = createAdapter(testApnsTokenCredentials(fake), { maxConnections: 1 });
    const results = await adapter.send(Array.from({ length: 200 }, () => message()));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.stats.maxStreamsInFlight).toBeLessThanOrEqual(5);
    expect(fake.stats.connections).toBe(1);
  });

  it('after a GOAWAY mid-batch answers retry for what went unanswered and reconnects', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake), { maxConnections: 1 });
    const batch = Array.from({ length: 100 }, () => message());
    fake.script(batch[49]?.token ?? '', [{ action: 'goaway' }]);

    const results = await adapter.send(batch);
    expect(results[49]).toEqual({ ok: false, failure: 'retry', reason: 'connection_lost' });
    for (const result of results) {
      expect([true, 'connection_lost']).toContain(result.ok ? true : result.reason);
    }
    expect(results.filter((result) => result.ok).length).toBeGreaterThan(0);
    expect(fake.stats.goaways).toBe(1);

    const again = batch.filter((_, index) => !results[index]?.ok);
    expect((await adapter.send(again)).every((result) => result.ok)).toBe(true);
    expect(fake.stats.connections).toBe(2);
    for (const push of again) expect(requestsFor(fake, push.token).at(-1)?.connection).toBe(2);
  });

  it('rides out a period of GOAWAYs and of 503s', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    expect((await sendOne(adapter, message())).ok).toBe(true);

    fake.setOutage('goaway', MINUTE);
    const lost = { ok: false, failure: 'retry', reason: 'connection_lost' };
    expect(await adapter.send([message(), message(), message()])).toEqual([lost, lost, lost]);
    // New connections that APNs sends away before any answer: then a back-off, no reconnect storm.
    expect(await adapter.send([message(), message()])).toEqual([lost, lost]);
    const connections = fake.stats.connections;
    expect(await adapter.send([message(), message()])).toEqual([lost, lost]);
    expect(fake.stats.connections).toBe(connections);
    clock.advance(MINUTE);
    expect((await adapter.send([message(), message()])).every((result) => result.ok)).toBe(true);

    fake.setOutage('unavailable');
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'ServiceUnavailable',
    });
    fake.setOutage(undefined);
    expect((await sendOne(adapter, message())).ok).toBe(true);
  });

  it('replaces every connection APNs closes', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    expect(
      (await adapter.send(Array.from({ length: 50 }, () => message()))).every((result) => result.ok),
    ).toBe(true);
    const before = fake.stats.connections;
    fake.goawayAll();
    await vi.waitFor(() => expect(fake.stats.openConnections).toBe(0));
    expect(
      (await adapter.send(Array.from({ length: 50 }, () => message()))).every((result) => result.ok),
    ).toBe(true);
    expect(fake.stats.connections).toBeGreaterThan(before);
  });

  it('answers retry for a request APNs never answers, and keeps the connection', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake), { requestTimeoutMs: 300 });
    expect((await sendOne(adapter, message())).ok).toBe(true);
    const push = message();
    fake.script(push.token, [{ action: 'hang' }]);
    expect(await sendOne(adapter, push)).toEqual({ ok: false, failure: 'retry', reason: 'timeout' });
    expect((await sendOne(adapter, message())).ok).toBe(true);
    expect(fake.stats.connections).toBe(1);
  });

  it('answers retry for a reset stream', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const push = message();
    fake.script(push.token, [{ action: 'reset' }]);
    expect(await sendOne(adapter, push)).toEqual({ ok: false, failure: 'retry', reason: 'connection_lost' });
    expect((await sendOne(adapter, push)).ok).toBe(true);
  });

  it('answers retry when APNs cannot be reached, and does not hammer it', async () => {
    const gone = await startFakeApns({ clock });
    await gone.close();
    const adapter = createAdapter(testApnsTokenCredentials(gone));
    const [first] = await adapter.send([message()]);
    expect(first).toEqual({ ok: false, failure: 'retry', reason: 'connect_failed:ECONNREFUSED' });
    // Within the back-off: answered at once, without a new attempt.
    expect(await adapter.send([message(), message()])).toEqual(
      Array(2).fill({ ok: false, failure: 'retry', reason: 'connect_failed:ECONNREFUSED' }),
    );
    clock.advance(MINUTE);
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'connect_failed:ECONNREFUSED',
    });
  });

  it('answers retry when the server certificate is not trusted', async () => {
    const fake = await startFake();
    const { ca: _ca, ...withoutCa } = testApnsTokenCredentials(fake);
    const adapter = createAdapter(withoutCa);
    const result = await sendOne(adapter, message());
    expect(result).toMatchObject({ ok: false, failure: 'retry' });
    expect(result.ok ? '' : result.reason).toMatch(/^connect_failed:/);
    expect(fake.received).toHaveLength(0);
  });

  it('closes its connections and answers retry afterwards', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    await adapter.send([message({ environment: 'sandbox' }), message()]);
    await adapter.close();
    await vi.waitFor(() => expect(fake.stats.openConnections).toBe(0));
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'adapter_closed',
    });
  });
});

describe('APNs adapter: certificate auth', () => {
  it('authenticates with the client certificate and sends no JWT', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsCertificateCredentials(fake));
    const pushes = [message(), message({ channel: 'ring' }), ...Array.from({ length: 50 }, () => message())];
    expect((await adapter.send(pushes)).every((result) => result.ok)).toBe(true);
    expect(fake.received).toHaveLength(52);
    for (const request of fake.received) {
      expect(request.jwt).toBeUndefined();
      expect(request.clientCertificate?.UID).toBe(TEST_APNS_BUNDLE_ID);
    }
    expect(fake.stats.connections).toBeLessThanOrEqual(2);
  });

  it('is creds when APNs does not accept the certificate', async () => {
    const fake = await startFake();
    const adapter = createAdapter({
      ...testApnsCertificateCredentials(fake),
      certificate: apnsFixtures.untrustedClientP12Base64,
    });
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'creds',
      reason: 'BadCertificate',
    });
  });
});

describe('createApnsAdapter', () => {
  it('refuses invalid credentials at creation', () => {
    expect(() =>
      createApnsAdapter({ team_id: 'TEAMID1234', key_id: 'KEYID12345', key: 'nope' }, { clock }),
    ).toThrow(/Invalid APNs credentials: key is not a PEM private key/);
  });
});
