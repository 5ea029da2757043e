import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  TEST_APNS_BUNDLE_ID,
  TEST_APNS_KEY_ID,
  TEST_APNS_TEAM_ID,
  testApnsTokenCredentials,
} from '../../../../test/fakes/apns-fixtures.js';
import {
  clock,
  createAdapter,
  message,
  requestsFor,
  sendOne,
  startFake,
  useApnsTestbed,
} from '../../../../test/helpers/apns-adapter.js';

useApnsTestbed();

describe('APNs adapter: requests', () => {
  it('sends a message as an alert and a ring as a VoIP push', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const alert = message({ collapseId: 'door-1', badge: 4 });
    const ring = message({ channel: 'ring', sound: 'ring.caf', data: { call_id: 'c-9' } });

    expect(await adapter.send([alert, ring])).toEqual([
      { ok: true, providerMessageId: alert.deliveryId },
      { ok: true, providerMessageId: ring.deliveryId },
    ]);

    const [sentAlert] = requestsFor(fake, alert.token);
    expect(sentAlert?.path).toBe(`/3/device/${alert.token}`);
    expect(sentAlert?.method).toBe('POST');
    expect(sentAlert?.headers).toMatchObject({
      'apns-push-type': 'alert',
      'apns-topic': TEST_APNS_BUNDLE_ID,
      'apns-priority': '10',
      'apns-expiration': String(Math.floor(alert.expiresAt / 1000)),
      'apns-id': alert.deliveryId,
      'apns-collapse-id': 'door-1',
      'content-type': 'application/json',
    });
    expect(sentAlert?.headers.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sentAlert?.jwtHeader).toEqual({ alg: 'ES256', kid: TEST_APNS_KEY_ID });
    expect(sentAlert?.jwtClaims).toEqual({ iss: TEST_APNS_TEAM_ID, iat: Math.floor(clock.now() / 1000) });
    expect(sentAlert?.payload).toEqual({
      aps: { alert: { title: 'Front door', body: 'Someone is at the door' }, sound: 'default', badge: 4 },
      device_id: 'cam-1',
    });

    const [sentRing] = requestsFor(fake, ring.token);
    expect(sentRing?.headers).toMatchObject({
      'apns-push-type': 'voip',
      'apns-topic': `${TEST_APNS_BUNDLE_ID}.voip`,
      'apns-priority': '10',
      'apns-id': ring.deliveryId,
    });
    expect(sentRing?.headers).not.toHaveProperty('apns-collapse-id');
    expect(sentRing?.payload).toEqual({
      aps: { alert: { title: 'Front door', body: 'Someone is at the door' }, sound: 'ring.caf' },
      call_id: 'c-9',
    });
  });

  it('sends sandbox tokens to the sandbox host and the rest to production', async () => {
    const production = await startFake();
    const sandbox = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(production, sandbox));
    const pushes = [
      message({ environment: 'sandbox' }),
      message({ environment: 'production' }),
      message({ environment: null }),
    ];
    const results = await adapter.send(pushes);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(sandbox.received.map((request) => request.token)).toEqual([pushes[0]?.token]);
    expect(production.received.map((request) => request.token).sort()).toEqual(
      [pushes[1]?.token, pushes[2]?.token].sort(),
    );
    expect(sandbox.received[0]?.authority).toBe(new URL(sandbox.url).host);
  });

  it('keeps apns-id and the expiration across retries of a delivery', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const push = message({ expiresAt: clock.now() + 30_999 });
    fake.script(push.token, [{ status: 503, reason: 'ServiceUnavailable' }]);

    expect(await sendOne(adapter, push)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'ServiceUnavailable',
    });
    clock.advance(5_000);
    expect(await sendOne(adapter, push)).toEqual({ ok: true, providerMessageId: push.deliveryId });

    const sent = requestsFor(fake, push.token);
    expect(sent.map((request) => request.headers['apns-id'])).toEqual([push.deliveryId, push.deliveryId]);
    expect(sent.map((request) => request.headers['apns-expiration'])).toEqual([
      String(Math.floor(push.expiresAt / 1000)),
      String(Math.floor(push.expiresAt / 1000)),
    ]);
  });

  it('gives one result per message, in order', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const pushes = Array.from({ length: 30 }, () => message());
    pushes.forEach((push, index) => {
      if (index % 3 === 1) fake.script(push.token, [{ status: 410, reason: 'Unregistered' }]);
      if (index % 3 === 2) fake.script(push.token, [{ status: 429, reason: 'TooManyRequests' }]);
    });
    const results = await adapter.send(pushes);
    results.forEach((result, index) => {
      if (index % 3 === 0) expect(result).toEqual({ ok: true, providerMessageId: pushes[index]?.deliveryId });
      if (index % 3 === 1) expect(result).toEqual({ ok: false, failure: 'dead', reason: 'Unregistered' });
      if (index % 3 === 2) expect(result).toEqual({ ok: false, failure: 'retry', reason: 'TooManyRequests' });
    });
  });
});

describe('APNs adapter: answers', () => {
  it.each([
    [410, 'Unregistered', 'dead'],
    [410, 'ExpiredToken', 'dead'],
    [400, 'BadDeviceToken', 'dead'],
    [400, 'DeviceTokenNotForTopic', 'dead'],
    [403, 'InvalidProviderToken', 'creds'],
    [403, 'BadCertificateEnvironment', 'creds'],
    [403, 'Forbidden', 'creds'],
    [400, 'TopicDisallowed', 'creds'],
    [429, 'TooManyRequests', 'retry'],
    [503, 'ServiceUnavailable', 'retry'],
    [500, 'InternalServerError', 'retry'],
    [400, 'IdleTimeout', 'retry'],
    [413, 'PayloadTooLarge', 'bad_request'],
    [400, 'BadCollapseId', 'bad_request'],
  ] as const)('%i %s → %s', async (status, reason, failure) => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const push = message();
    fake.script(push.token, [{ status, reason }]);
    expect(await sendOne(adapter, push)).toEqual({ ok: false, failure, reason });
  });

  it('passes Retry-After on as retryAfterMs', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const push = message();
    fake.script(push.token, [{ status: 429, reason: 'TooManyRequests', headers: { 'retry-after': '30' } }]);
    expect(await sendOne(adapter, push)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'TooManyRequests',
      retryAfterMs: 30_000,
    });
  });

  it('is dead on a token APNs has unregistered', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const push = message();
    fake.unregister(push.token);
    expect(await sendOne(adapter, push)).toEqual({ ok: false, failure: 'dead', reason: 'Unregistered' });
  });

  it('is creds when APNs rejects the signature (another key under the same ids)', async () => {
    const fake = await startFake();
    const wrongKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const adapter = createAdapter({ ...testApnsTokenCredentials(fake), key: wrongKey });
    expect(await sendOne(adapter, message())).toEqual({
      ok: false,
      failure: 'creds',
      reason: 'InvalidProviderToken',
    });
  });

  it('is creds for a key id or team APNs does not know', async () => {
    const fake = await startFake();
    const unknownKey = createAdapter({ ...testApnsTokenCredentials(fake), key_id: 'OTHERKEY12' });
    expect(await sendOne(unknownKey, message())).toEqual({
      ok: false,
      failure: 'creds',
      reason: 'InvalidProviderToken',
    });
    const otherTeam = createAdapter({ ...testApnsTokenCredentials(fake), team_id: 'OTHERTEAM1' });
    expect(await sendOne(otherTeam, message())).toEqual({
      ok: false,
      failure: 'creds',
      reason: 'InvalidProviderToken',
    });
  });

  it('answers what APNs would, without sending, for requests APNs would refuse', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const results = await adapter.send([
      message({ token: '<740f4707 bebcf74f>' }),
      message({ token: 'abc' }),
      message({ data: { blob: 'x'.repeat(4100) } }),
      message({ collapseId: 'c'.repeat(65) }),
      message({ bundleId: '' }),
      message({ expiresAt: clock.now() }),
    ]);
    expect(results).toEqual([
      { ok: false, failure: 'dead', reason: 'BadDeviceToken' },
      { ok: false, failure: 'dead', reason: 'BadDeviceToken' },
      { ok: false, failure: 'bad_request', reason: 'PayloadTooLarge' },
      { ok: false, failure: 'bad_request', reason: 'BadCollapseId' },
      { ok: false, failure: 'bad_request', reason: 'MissingTopic' },
      { ok: false, failure: 'bad_request', reason: 'expired' },
    ]);
    expect(fake.received).toHaveLength(0);
  });

  it('allows VoIP payloads up to 5120 bytes and alerts up to 4096', async () => {
    const fake = await startFake();
    const adapter = createAdapter(testApnsTokenCredentials(fake));
    const ring = message({ channel: 'ring', data: { blob: 'x'.repeat(4600) } });
    const alert = message({ data: { blob: 'x'.repeat(3900) } });
    expect(await adapter.send([ring, alert])).toEqual([
      { ok: true, providerMessageId: ring.deliveryId },
      { ok: true, providerMessageId: alert.deliveryId },
    ]);
  });
});
