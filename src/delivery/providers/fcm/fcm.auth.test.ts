import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  adapterFor,
  clock,
  fake,
  message,
  newFake,
  T0,
  useFcmTestbed,
} from '../../../../test/helpers/fcm-adapter.js';
import type { AccessTokenStore, CachedAccessToken } from '../shared/access-tokens.js';
import { FCM_SCOPE } from './fcm.auth.js';

useFcmTestbed();

describe('the FCM adapter: access tokens', () => {
  it('signs an assertion Google accepts, and uses one access token for many sends', async () => {
    const adapter = adapterFor(fake);
    for (let round = 0; round < 3; round += 1) {
      const results = await adapter.send(
        Array.from({ length: 20 }, (_, i) => message({ token: `t-${round}-${i}` })),
      );
      expect(results.every((result) => result.ok)).toBe(true);
      clock.advance(10 * 60_000);
    }
    expect(fake.tokensIssued).toBe(1);
    expect(fake.received).toHaveLength(60);
    const [tokenRequest] = fake.tokenRequests;
    expect(tokenRequest?.status).toBe(200);
    expect(tokenRequest?.header).toEqual({
      alg: 'RS256',
      typ: 'JWT',
      kid: fake.serviceAccount.private_key_id,
    });
    expect(tokenRequest?.claims).toEqual({
      iss: fake.serviceAccount.client_email,
      scope: FCM_SCOPE,
      aud: fake.tokenUrl,
      iat: T0 / 1000,
      exp: T0 / 1000 + 3600,
    });
  });

  it('replaces the access token once less than 5 minutes are left', async () => {
    const adapter = adapterFor(fake);
    await adapter.send([message()]);
    clock.advance(54 * 60_000 + 59_999);
    await adapter.send([message()]);
    expect(fake.tokensIssued).toBe(1);
    clock.advance(1);
    const results = await adapter.send([message()]);
    expect(results[0]?.ok).toBe(true);
    expect(fake.tokensIssued).toBe(2);
    expect(fake.tokenRequests[1]?.claims?.iat).toBe((T0 + 55 * 60_000) / 1000);
    expect(fake.received[2]?.headers.authorization).toBe(`Bearer ${fake.tokenRequests[1]?.accessToken}`);
  });

  it('on a 401 fetches one new access token, however many sends saw it, and sends again', async () => {
    const adapter = adapterFor(fake);
    await adapter.send([message()]);
    fake.revokeAccessTokens();
    const results = await adapter.send(Array.from({ length: 20 }, (_, i) => message({ token: `t-${i}` })));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.tokensIssued).toBe(2);
    const statuses = fake.received.slice(1).map((received) => received.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(20);
    expect(statuses.filter((status) => status === 200)).toHaveLength(20);
  });

  it('gives up with creds when the new token is refused too', async () => {
    const adapter = adapterFor(fake);
    fake.script('phone', 'UNAUTHENTICATED');
    const results = await adapter.send([message({ token: 'phone' })]);
    expect(results).toEqual([{ ok: false, failure: 'creds', reason: 'UNAUTHENTICATED' }]);
    expect(fake.tokensIssued).toBe(2);
    expect(fake.received).toHaveLength(2);
  });

  it('does not replace the access token for THIRD_PARTY_AUTH_ERROR (APNs credentials in Firebase)', async () => {
    const adapter = adapterFor(fake);
    fake.script('iphone', 'THIRD_PARTY_AUTH_ERROR');
    const results = await adapter.send([message({ token: 'iphone' })]);
    expect(results).toEqual([{ ok: false, failure: 'creds', reason: 'THIRD_PARTY_AUTH_ERROR' }]);
    expect(fake.tokensIssued).toBe(1);
    expect(fake.received).toHaveLength(1);
  });

  it('fails every send with creds when Google refuses the assertion (a key that is not the account’s)', async () => {
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const adapter = adapterFor(
      fake,
      {},
      {
        ...fake.credentials(),
        service_account: { ...fake.serviceAccount, private_key: otherKey },
      },
    );
    const results = await adapter.send([message(), message()]);
    expect(results).toEqual([
      { ok: false, failure: 'creds', reason: 'oauth_invalid_grant' },
      { ok: false, failure: 'creds', reason: 'oauth_invalid_grant' },
    ]);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.tokenRequests[0]?.status).toBe(400);
    expect(fake.received).toHaveLength(0);
  });

  it('retries when the token endpoint fails or cannot be reached', async () => {
    const adapter = adapterFor(fake);
    fake.scriptTokenEndpoint([{ status: 503, body: 'unavailable', headers: { 'retry-after': '3' } }]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_http_503', retryAfterMs: 3000 },
    ]);
    expect((await adapter.send([message()]))[0]?.ok).toBe(true);

    const gone = await newFake();
    const unreachable = adapterFor(fake, {}, { ...gone.credentials(), url: fake.url });
    await gone.close();
    expect(await unreachable.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'oauth_network_error' },
    ]);
  });

  it('shares access tokens through the store: keyed by account, token endpoint and key', async () => {
    const entries = new Map<string, CachedAccessToken>();
    const store: AccessTokenStore = {
      get: async (key) => entries.get(key),
      set: async (key, value) => {
        entries.set(key, value);
      },
    };
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    await adapterFor(fake, { accessTokens: store }).send([message()]);
    expect(fake.tokensIssued).toBe(1);
    const keys = [...entries.keys()];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(
      new RegExp(`^fcm ${fake.serviceAccount.client_email} ${fake.tokenUrl} [0-9a-f]{16}$`),
    );
    expect(keys[0]).not.toContain('PRIVATE KEY');
    expect([...entries.values()][0]?.expiresAt).toBe(T0 + 3_600_000);

    // Settings with another key for the same account never borrow that token.
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    const right = fake.credentials();
    const wrong = {
      ...right,
      service_account: { ...right.service_account, private_key: otherKey.toString() },
    };
    const [result] = await adapterFor(fake, { accessTokens: store }, wrong).send([message()]);
    expect(result).toMatchObject({ ok: false, failure: 'creds' });
    expect(fake.tokensIssued).toBe(1);
  });

  it('sends even when the shared token store fails', async () => {
    const broken: AccessTokenStore = {
      get: () => Promise.reject(new Error('store down')),
      set: () => {
        throw new Error('store down');
      },
    };
    const results = await adapterFor(fake, { accessTokens: broken }).send([message(), message()]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.tokensIssued).toBe(1);
  });
});
