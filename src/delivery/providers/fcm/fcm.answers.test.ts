import { describe, expect, it } from 'vitest';
import { FAKE_FCM_ERRORS, type FakeFcmErrorName } from '../../../../test/fakes/fcm-server.js';
import {
  adapterFor,
  closeNow,
  fake,
  message,
  T0,
  useFcmTestbed,
} from '../../../../test/helpers/fcm-adapter.js';
import { createMemoryAccessTokenStore } from '../shared/access-tokens.js';

useFcmTestbed();

describe('the FCM adapter: answers', () => {
  it('classifies every FCM error answer, per message, in order', async () => {
    const adapter = adapterFor(fake);
    const names = Object.keys(FAKE_FCM_ERRORS).filter(
      (name) => name !== 'UNAUTHENTICATED',
    ) as FakeFcmErrorName[];
    for (const name of names) fake.script(name, name);
    fake.script('quota', { error: 'QUOTA_EXCEEDED', retryAfter: '120' });
    fake.script('busy', { error: 'UNAVAILABLE', retryAfter: new Date(T0 + 30_000).toUTCString() });
    const tokens = ['ok-1', ...names, 'quota', 'busy', 'ok-2'];
    const results = await adapter.send(tokens.map((token) => message({ token })));
    expect(Object.fromEntries(tokens.map((token, i) => [token, results[i]]))).toEqual({
      'ok-1': { ok: true, providerMessageId: expect.any(String) },
      UNREGISTERED: { ok: false, failure: 'dead', reason: 'UNREGISTERED' },
      INVALID_TOKEN: { ok: false, failure: 'dead', reason: 'INVALID_ARGUMENT' },
      INVALID_ARGUMENT: { ok: false, failure: 'bad_request', reason: 'INVALID_ARGUMENT' },
      SENDER_ID_MISMATCH: { ok: false, failure: 'dead', reason: 'SENDER_ID_MISMATCH' },
      QUOTA_EXCEEDED: { ok: false, failure: 'retry', reason: 'QUOTA_EXCEEDED', retryAfterMs: 60_000 },
      UNAVAILABLE: { ok: false, failure: 'retry', reason: 'UNAVAILABLE' },
      INTERNAL: { ok: false, failure: 'retry', reason: 'INTERNAL' },
      THIRD_PARTY_AUTH_ERROR: { ok: false, failure: 'creds', reason: 'THIRD_PARTY_AUTH_ERROR' },
      PERMISSION_DENIED: { ok: false, failure: 'creds', reason: 'PERMISSION_DENIED' },
      quota: { ok: false, failure: 'retry', reason: 'QUOTA_EXCEEDED', retryAfterMs: 120_000 },
      busy: { ok: false, failure: 'retry', reason: 'UNAVAILABLE', retryAfterMs: 30_000 },
      'ok-2': { ok: true, providerMessageId: expect.any(String) },
    });
  });

  it('takes scripted answers one per request, then succeeds again', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone', ['INTERNAL', 'UNAVAILABLE']);
    const failures = [];
    for (let i = 0; i < 3; i += 1) failures.push((await adapter.send([message({ token: 'phone' })]))[0]);
    expect(failures.map((result) => (result?.ok ? 'ok' : result?.reason))).toEqual([
      'INTERNAL',
      'UNAVAILABLE',
      'ok',
    ]);
  });

  it('reports a payload FCM refuses as bad_request (the fake checks the body like FCM)', async () => {
    const adapter = adapterFor(fake);
    const results = await adapter.send([message({ data: { from: 'me' } })]);
    expect(results).toEqual([{ ok: false, failure: 'bad_request', reason: 'INVALID_ARGUMENT' }]);
    expect(fake.received[0]?.status).toBe(400);
  });

  it('retries through an outage, and a proxy’s HTML error page', async () => {
    const adapter = adapterFor(fake);
    fake.setOutage('UNAVAILABLE');
    expect(await adapter.send([message(), message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'UNAVAILABLE' },
      { ok: false, failure: 'retry', reason: 'UNAVAILABLE' },
    ]);
    fake.setOutage({
      status: 502,
      body: '<html><body>Bad Gateway</body></html>',
      headers: { 'retry-after': '5' },
    });
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'HTTP_502', retryAfterMs: 5000 },
    ]);
    fake.setOutage(undefined);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
  });

  it('verifies the server certificate: without the CA, the fake is refused (retry, tls_error)', async () => {
    const { ca: _ca, ...withoutCa } = fake.credentials();
    const store = createMemoryAccessTokenStore();
    expect(await adapterFor(fake, { accessTokens: store }, withoutCa).send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_tls_error' },
    ]);
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    expect(await adapterFor(fake, { accessTokens: store }, withoutCa).send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'tls_error' },
    ]);
    expect(fake.received).toHaveLength(1);
  });

  it('returns retry, not an exception, when FCM cannot be reached', async () => {
    const adapter = adapterFor(fake);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);
    await closeNow(fake);
    expect(await adapter.send([message(), message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
  });

  it('returns retry when the connection drops mid-request', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone', 'reset');
    expect(await adapter.send([message({ token: 'phone' })])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
  });

  it('returns retry when FCM does not answer in time', async () => {
    const store = createMemoryAccessTokenStore();
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    const impatient = adapterFor(fake, { accessTokens: store, requestTimeoutMs: 200 });
    fake.script('phone', 'hang');
    expect(await impatient.send([message({ token: 'phone' })])).toEqual([
      { ok: false, failure: 'retry', reason: 'timeout' },
    ]);
    expect(fake.tokensIssued).toBe(1);
  });
});
