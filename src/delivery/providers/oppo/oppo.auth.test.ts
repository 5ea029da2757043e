import { describe, expect, it } from 'vitest';
import { startFakeOppo } from '../../../../test/fakes/oppo-server.js';
import {
  adapterFor,
  clock,
  fake,
  HOUR,
  message,
  messages,
  statuses,
  T0,
  useOppoTestbed,
} from '../../../../test/helpers/oppo-adapter.js';
import {
  type AccessTokenStore,
  type CachedAccessToken,
  createMemoryAccessTokenStore,
} from '../shared/access-tokens.js';
import { oppoAuthTokenKey } from './oppo.auth.js';

useOppoTestbed();

describe('the OPPO adapter: auth tokens', () => {
  it('keeps the auth_token 23 hours, then fetches a new one', async () => {
    const adapter = adapterFor();
    await adapter.send([message()]);
    clock.advance(23 * HOUR - 1);
    await adapter.send([message()]);
    expect(fake.counts.authTokensIssued).toBe(1);
    clock.advance(1);
    expect(statuses(await adapter.send([message()]))).toEqual(['ok']);
    expect(fake.counts.authTokensIssued).toBe(2);
    expect(fake.received[2]?.authToken).toBe(fake.authRequests[1]?.authToken);
  });

  it('on 11 Invalid AuthToken fetches one new token, however many requests saw it, and sends again', async () => {
    const adapter = adapterFor({ concurrency: 4 });
    await adapter.send([message({ channel: 'ring' })]);
    fake.expireAuthTokens();
    const rings = messages(6, { channel: 'ring' });
    const results = await adapter.send(rings);
    expect(statuses(results)).toEqual(Array(6).fill('ok'));
    expect(fake.counts.authTokensIssued).toBe(2);
    const codes = fake.received.slice(1).map((received) => received.code);
    expect(codes.filter((code) => code === 11).length).toBeGreaterThanOrEqual(1);
    expect(codes.filter((code) => code === 0)).toHaveLength(6);
  });

  it('refreshes once only: a new token refused too is a retry', async () => {
    const adapter = adapterFor();
    fake.scriptRequests([11, 11]);
    expect(await adapter.send([message()])).toEqual([{ ok: false, failure: 'retry', reason: 'OPPO_11' }]);
    expect(fake.counts.authTokensIssued).toBe(2);
    expect(fake.received).toHaveLength(2);
  });

  it('fails with creds when OPPO refuses the signature (wrong master secret), sending nothing', async () => {
    const adapter = adapterFor({}, { master_secret: 'not-the-secret' });
    expect(await adapter.send([message(), message({ channel: 'ring' })])).toEqual([
      { ok: false, failure: 'creds', reason: 'auth_OPPO_16' },
      { ok: false, failure: 'creds', reason: 'auth_OPPO_16' },
    ]);
    expect(fake.authRequests.map((auth) => auth.code)).toEqual([16]);
    expect(fake.received).toHaveLength(0);
    const other = adapterFor({}, { app_key: 'someone-else' });
    expect(await other.send([message()])).toEqual([{ ok: false, failure: 'creds', reason: 'auth_OPPO_14' }]);
  });

  it('retries when the auth call is refused for a while or cannot be reached', async () => {
    const adapter = adapterFor();
    fake.scriptAuth([-2, { status: 503, body: '<html>busy</html>', headers: { 'retry-after': '9' } }]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'auth_OPPO_-2' },
    ]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'auth_HTTP_503', retryAfterMs: 9000 },
    ]);
    expect(statuses(await adapter.send([message()]))).toEqual(['ok']);

    const gone = await startFakeOppo({ clock });
    const unreachable = adapterFor({}, { url: gone.url });
    await gone.close();
    expect(await unreachable.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'auth_network_error' },
    ]);
  });

  it('shares auth_tokens through the store, keyed by app key and host, never by secret', async () => {
    const entries = new Map<string, CachedAccessToken>();
    const store: AccessTokenStore = {
      get: async (key) => entries.get(key),
      set: async (key, value) => {
        entries.set(key, value);
      },
    };
    await adapterFor({ accessTokens: store }).send([message()]);
    await adapterFor({ accessTokens: store }).send([message(), message({ token: 'SG_x' })]);
    expect(fake.counts.authTokensIssued).toBe(2);
    const identity = { appKey: fake.appKey, masterSecret: fake.masterSecret };
    expect([...entries.keys()].sort()).toEqual([
      oppoAuthTokenKey(identity, fake.url),
      oppoAuthTokenKey(identity, fake.intlUrl),
    ]);
    expect(oppoAuthTokenKey(identity, fake.url)).toMatch(
      new RegExp(`^oppo ${fake.appKey} [0-9a-f]{16} ${fake.url}$`),
    );
    expect(entries.get(oppoAuthTokenKey(identity, fake.url))?.expiresAt).toBe(T0 + 24 * HOUR);
    expect(JSON.stringify([...entries])).not.toContain(fake.masterSecret);
  });

  it('never lends a token to settings with the same app key and another secret', async () => {
    const store = createMemoryAccessTokenStore();
    expect(statuses(await adapterFor({ accessTokens: store }).send([message()]))).toEqual(['ok']);
    const wrong = adapterFor({ accessTokens: store }, { master_secret: 'not-the-secret' });
    expect(statuses(await wrong.send([message()]))).toEqual(['auth_OPPO_16']);
  });
});
