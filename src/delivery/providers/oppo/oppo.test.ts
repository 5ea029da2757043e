import { beforeEach, describe, expect, it } from 'vitest';
import { oppoPushMessage } from '../../../../test/fakes/oppo-fixtures.js';
import {
  FAKE_OPPO_MESSAGE_CHANNEL,
  FAKE_OPPO_RING_CHANNEL,
  type FakeOppo,
  startFakeOppo,
} from '../../../../test/fakes/oppo-server.js';
import { ManualClock } from '../../../../test/helpers/clock.js';
import { closedAfterEach } from '../../../../test/helpers/closing.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import { settingsOrThrow } from '../catalogue.js';
import {
  type AccessTokenStore,
  type CachedAccessToken,
  createMemoryAccessTokenStore,
} from '../shared/access-tokens.js';
import { oppoProvider } from './index.js';
import { createOppoAdapter, type OppoAdapterOptions } from './oppo.adapter.js';
import { oppoAuthTokenKey, oppoSign } from './oppo.auth.js';
import { validateOppoSettings } from './oppo.config.js';
import { notifyIdOf } from './oppo.request.js';

/** 20:00 in China: the daily quota resets in four hours. */
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const HOUR = 3600_000;

describe('the OPPO adapter, against the fake', () => {
  let clock: ManualClock;
  let fake: FakeOppo;
  const closing = closedAfterEach();
  let sequence = 0;

  function adapterFor(
    options: Partial<OppoAdapterOptions> = {},
    overrides: Record<string, unknown> = {},
  ): PushAdapter {
    return closing.adapter(
      createOppoAdapter(settingsOrThrow('oppo', validateOppoSettings(fake.credentials(overrides))), {
        clock,
        ...options,
      }),
    );
  }

  function message(overrides: Partial<PushMessage> = {}): PushMessage {
    sequence += 1;
    return oppoPushMessage(clock.now(), {
      deliveryId: `delivery-${sequence}`,
      token: `CN_phone-${sequence}`,
      ...overrides,
    });
  }
  const messages = (count: number, overrides: Partial<PushMessage> = {}) =>
    Array.from({ length: count }, () => message(overrides));
  const statuses = (results: readonly PushResult[]) =>
    results.map((result) => (result.ok ? 'ok' : result.reason));

  beforeEach(async () => {
    clock = new ManualClock(T0);
    fake = await startFakeOppo({ clock });
    closing.fake(fake);
  });

  it('sends a ring with unicast on the call channel, signed in with a fresh auth_token', async () => {
    const adapter = adapterFor();
    const ring = message({
      channel: 'ring',
      token: 'CN_ring-a',
      collapseId: 'ring-1',
      expiresAt: T0 + 30_000,
    });
    const results = await adapter.send([ring]);
    expect(results).toEqual([
      { ok: true, providerMessageId: expect.stringMatching(/^30912345-1-1-[0-9a-f]{24}$/) },
    ]);

    const [auth] = fake.authRequests;
    expect(auth?.code).toBe(0);
    expect(auth?.fields).toEqual({
      app_key: fake.appKey,
      timestamp: String(T0),
      sign: oppoSign(fake.appKey, String(T0), fake.masterSecret),
    });
    const [received] = fake.received;
    expect(received).toMatchObject({ api: 'unicast', region: 'cn', code: 0, authToken: auth?.authToken });
    expect(received?.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(received?.messages).toEqual([
      {
        target_type: 2,
        target_value: 'CN_ring-a',
        notification: {
          app_message_id: ring.deliveryId,
          style: 1,
          title: 'Front door',
          content: 'Someone is at the door',
          click_action_type: 0,
          action_parameters: '{"device":"cam-1","channel":"ring"}',
          channel_id: FAKE_OPPO_RING_CHANNEL,
          category: 'IM',
          notify_level: 16,
          off_line: true,
          off_line_ttl: 30,
          notify_id: notifyIdOf('ring-1'),
        },
      },
    ]);
  });

  it('sends a message fan-out with unicast_batch: 2,500 phones in 3 requests, results mapped back in order', async () => {
    const adapter = adapterFor();
    const batch = messages(2500);
    const gone = new Set([3, 999, 1000, 2499]);
    for (const index of gone) fake.script(batch[index]?.token ?? '', 10000);
    const results = await adapter.send(batch);

    expect(fake.received.map((received) => `${received.api} ${received.messages.length}`).sort()).toEqual([
      'unicast_batch 1000',
      'unicast_batch 1000',
      'unicast_batch 500',
    ]);
    expect(fake.counts.authTokensIssued).toBe(1);
    expect(results).toHaveLength(2500);
    results.forEach((result, index) => {
      if (gone.has(index)) expect(result).toEqual({ ok: false, failure: 'dead', reason: 'OPPO_10000' });
      else expect(result).toEqual({ ok: true, providerMessageId: expect.stringMatching(/^30912345-1-1-/) });
    });
    const notification = fake.received[0]?.messages[0]?.notification as Record<string, unknown>;
    expect(notification).toMatchObject({
      channel_id: FAKE_OPPO_MESSAGE_CHANNEL,
      category: 'DEVICE_REMINDER',
    });
    expect(notification).not.toHaveProperty('notify_level');
  });

  it('maps batch results by registration id, whatever order OPPO answers in', async () => {
    const adapter = adapterFor();
    fake.scriptRequests([
      {
        status: 200,
        body: JSON.stringify({
          code: 0,
          message: '',
          data: [
            {
              messageId: '',
              registrationId: 'CN_b',
              errorCode: 10000,
              errorMessage: 'Invalid Registration_id',
            },
            { messageId: 'm-a', registrationId: 'CN_a' },
          ],
        }),
      },
    ]);
    const results = await adapter.send([
      message({ token: 'CN_a' }),
      message({ token: 'CN_b' }),
      message({ token: 'CN_c' }),
    ]);
    expect(results).toEqual([
      { ok: true, providerMessageId: 'm-a' },
      { ok: false, failure: 'dead', reason: 'OPPO_10000' },
      { ok: false, failure: 'retry', reason: 'OPPO_no_result' },
    ]);
  });

  it('sends rings one by one, first, and batches messages by content and host', async () => {
    const adapter = adapterFor();
    const sent = [
      message({ token: 'CN_m1' }),
      message({ token: 'SG_m2' }),
      message({ channel: 'ring', token: 'CN_r1' }),
      message({ token: 'OPPO_IN_m3' }),
      message({ token: 'm4', body: 'Jemand ist an der Tür' }),
      message({ channel: 'ring', token: 'OPPO_SG_r2' }),
      message({ token: 'OPPO_CN_m5' }),
    ];
    const results = await adapter.send(sent);
    expect(results.every((result) => result.ok)).toBe(true);
    const requests = fake.received.map(
      (received) => `${received.region} ${received.api} ${received.tokens.join(',')}`,
    );
    expect(requests.slice(0, 2).sort()).toEqual(['cn unicast CN_r1', 'intl unicast OPPO_SG_r2']);
    expect(requests.slice(2).sort()).toEqual([
      'cn unicast m4',
      'cn unicast_batch CN_m1,OPPO_CN_m5',
      'intl unicast_batch SG_m2,OPPO_IN_m3',
    ]);
    // One auth_token per host.
    expect(fake.authRequests.map((auth) => auth.region).sort()).toEqual(['cn', 'intl']);
  });

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

  it('retries a daily quota at midnight, China time', async () => {
    const adapter = adapterFor();
    fake.setDailyLimit(3);
    expect(statuses(await adapter.send(messages(3)))).toEqual(['ok', 'ok', 'ok']);
    expect(await adapter.send(messages(2))).toEqual([
      { ok: false, failure: 'retry', reason: 'OPPO_33', retryAfterMs: 4 * HOUR },
      { ok: false, failure: 'retry', reason: 'OPPO_33', retryAfterMs: 4 * HOUR },
    ]);
    clock.advance(4 * HOUR);
    expect(statuses(await adapter.send(messages(2)))).toEqual(['ok', 'ok']);
  });

  it('classifies OPPO’s request-level codes for every message of the request', async () => {
    const adapter = adapterFor();
    const answers = [-1, -2, 13, 55, 26, 28, 30, 41, 40];
    fake.scriptRequests(answers);
    const seen = [];
    for (const _ of answers) {
      const results = await adapter.send(messages(2));
      expect(results[0]).toEqual(results[1]);
      seen.push(results[0]);
    }
    expect(seen.map((result) => (result?.ok ? 'ok' : `${result?.reason} ${result?.failure}`))).toEqual([
      'OPPO_-1 retry',
      'OPPO_-2 retry',
      'OPPO_13 retry',
      'OPPO_55 retry',
      'OPPO_26 creds',
      'OPPO_28 creds',
      'OPPO_30 creds',
      'OPPO_41 bad_request',
      'OPPO_40 bad_request',
    ]);
  });

  it('flags a ring category OPPO has not approved for the strong reminder (67)', async () => {
    const adapter = adapterFor({}, { ring_category: 'ACCOUNT' });
    expect(await adapter.send([message({ channel: 'ring' })])).toEqual([
      { ok: false, failure: 'creds', reason: 'OPPO_67' },
    ]);
    const lower = adapterFor({}, { ring_category: 'ACCOUNT', notify_level: 2 });
    expect(statuses(await lower.send([message({ channel: 'ring' })]))).toEqual(['ok']);
  });

  it('sends a batch OPPO refuses as a whole for a bad registration id again phone by phone', async () => {
    const adapter = adapterFor();
    const batch = messages(3);
    fake.scriptRequests([10000]);
    fake.script(batch[1]?.token ?? '', 10000);
    expect(statuses(await adapter.send(batch))).toEqual(['ok', 'OPPO_10000', 'ok']);
    expect(fake.received.map((received) => received.api)).toEqual([
      'unicast_batch',
      'unicast',
      'unicast',
      'unicast',
    ]);
  });

  it('shows a retried delivery once: app_message_id is the delivery id', async () => {
    const adapter = adapterFor();
    const first = message();
    const [sent] = await adapter.send([first]);
    const [again] = await adapter.send([{ ...first }]);
    expect(again).toEqual(sent);
    expect(fake.counts.messagesAccepted).toBe(1);
  });

  it('returns retry for a proxy’s error page, a dropped connection, a silent server and a closed adapter', async () => {
    const store = createMemoryAccessTokenStore();
    const adapter = adapterFor({ accessTokens: store });
    fake.scriptRequests([
      { status: 502, body: '<html><body>Bad Gateway</body></html>', headers: { 'retry-after': '5' } },
      { status: 429, body: '', headers: { 'retry-after': '2' } },
      { status: 200, body: 'OK' },
      // The client sends once more on a fresh connection when a kept-alive one drops.
      'reset',
      'reset',
    ]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'HTTP_502', retryAfterMs: 5000 },
    ]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'HTTP_429', retryAfterMs: 2000 },
    ]);
    expect(await adapter.send([message()])).toEqual([{ ok: false, failure: 'retry', reason: 'HTTP_502' }]);
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);

    const impatient = adapterFor({ accessTokens: store, requestTimeoutMs: 200 });
    fake.scriptRequests(['hang']);
    expect(await impatient.send([message()])).toEqual([{ ok: false, failure: 'retry', reason: 'timeout' }]);
    expect(fake.counts.authTokensIssued).toBe(1);

    await adapter.close();
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'adapter_closed' },
    ]);
  });

  it('returns retry, not an exception, when OPPO cannot be reached', async () => {
    const adapter = adapterFor();
    expect(statuses(await adapter.send([message()]))).toEqual(['ok']);
    await closing.closeNow(fake);
    expect(await adapter.send([message(), message({ channel: 'ring' })])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
  });

  it('verifies the server certificate: without the CA the fake is refused (retry, tls_error)', async () => {
    const adapter = adapterFor({}, { ca: undefined });
    expect(await adapter.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'auth_tls_error' },
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

  it('does not send what OPPO cannot show: a ring’s cancel has no text', async () => {
    const adapter = adapterFor();
    const cancel = message({ channel: 'ring', title: undefined, body: undefined, data: { type: 'cancel' } });
    expect(statuses(await adapter.send([message(), cancel, message()]))).toEqual([
      'ok',
      'oppo_no_text',
      'ok',
    ]);
    expect(fake.received.flatMap((received) => received.tokens)).not.toContain(cancel.token);
  });

  it('refuses invalid settings when created', () => {
    const context = { clock, accessTokens: createMemoryAccessTokenStore() };
    expect(() => oppoProvider.createAdapter({ app_key: 'k' }, context)).toThrow(/missing master_secret/);
  });
});
