import { beforeEach, describe, expect, it } from 'vitest';
import { xiaomiMessage } from '../../../../test/fakes/xiaomi-fixtures.js';
import {
  FAKE_XIAOMI_APP,
  FAKE_XIAOMI_ERRORS,
  type FakeXiaomi,
  type FakeXiaomiErrorName,
  startFakeXiaomi,
} from '../../../../test/fakes/xiaomi-server.js';
import { ManualClock } from '../../../../test/helpers/clock.js';
import { closedAfterEach } from '../../../../test/helpers/closing.js';
import type { PushAdapter, PushMessage } from '../adapter.js';
import { settingsOrThrow } from '../catalogue.js';
import { createMemoryAccessTokenStore } from '../shared/access-tokens.js';
import { xiaomiProvider } from './index.js';
import { createXiaomiAdapter, type XiaomiAdapterOptions } from './xiaomi.adapter.js';
import { validateXiaomiSettings, type XiaomiRegionUrls, type XiaomiSettingsInput } from './xiaomi.config.js';
import { classifyXiaomiCode } from './xiaomi.errors.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

function parsed(input: Record<string, unknown>, regionUrls?: XiaomiRegionUrls) {
  return settingsOrThrow('xiaomi', validateXiaomiSettings(input, regionUrls));
}

describe('the Xiaomi adapter, against the fake', () => {
  let clock: ManualClock;
  let fake: FakeXiaomi;
  const closing = closedAfterEach();

  const adapter = (
    overrides: Partial<XiaomiSettingsInput> = {},
    options: Partial<XiaomiAdapterOptions> = {},
  ): PushAdapter => {
    return closing.adapter(
      createXiaomiAdapter(parsed({ ...fake.credentials(), ...overrides }), { clock, ...options }),
    );
  };
  const message = (overrides: Partial<PushMessage> = {}) => xiaomiMessage(clock.now(), overrides);
  const messages = (count: number, overrides: Partial<PushMessage> = {}) =>
    Array.from({ length: count }, (_, index) => message({ token: `regid-${index}`, ...overrides }));

  beforeEach(async () => {
    clock = new ManualClock(T0);
    fake = closing.fake(await startFakeXiaomi({ clock }));
  });
  it('sends a ring on its own, on the call channel, authenticated with the AppSecret', async () => {
    const [result] = await adapter().send([
      message({ channel: 'ring', collapseId: 'ring-1', expiresAt: T0 + 30_000, data: { ring_id: 'ring-1' } }),
    ]);
    expect(result).toEqual({ ok: true, providerMessageId: expect.stringMatching(/^slm/) });
    const [received] = fake.received;
    expect(received?.path).toBe('/v3/message/regid');
    expect(received?.headers.authorization).toBe(`key=${FAKE_XIAOMI_APP.appSecret}`);
    expect(received?.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(received?.fields).toMatchObject({
      registration_id: 'regid-1',
      restricted_package_name: FAKE_XIAOMI_APP.packageName,
      pass_through: '0',
      notify_type: '-1',
      time_to_live: '30000',
      'extra.channel_id': FAKE_XIAOMI_APP.ringChannelId,
      'extra.only_send_once': '1',
      payload: '{"ring_id":"ring-1"}',
    });
  });

  it('sends each ring at once in a request of its own, never batched', async () => {
    const results = await adapter().send(messages(3, { channel: 'ring', collapseId: 'r' }));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(fake.received.map((entry) => entry.tokens)).toEqual([['regid-0'], ['regid-1'], ['regid-2']]);
  });

  it('fans a message out in requests of up to 1000 comma-joined regIds, results in order', async () => {
    const dead = ['regid-7', 'regid-1500', 'regid-2499'];
    for (const token of dead) fake.script(token, 'bad_regid');
    const results = await adapter().send(messages(2500));
    expect(fake.requestCount).toBe(3);
    expect(fake.received.map((entry) => entry.tokens.length).sort()).toEqual([1000, 1000, 500]);
    expect(fake.regIdCount).toBe(2500);
    expect(fake.received.every((entry) => entry.fields['extra.channel_id'] === 'doorbell_alert')).toBe(true);
    expect(results).toHaveLength(2500);
    results.forEach((result, index) => {
      expect(result.ok).toBe(!dead.includes(`regid-${index}`));
    });
  });

  it('honours a smaller batch size, and groups only identical messages', async () => {
    const mixed = [
      ...messages(5),
      message({ token: 'other-1', body: 'Battery low' }),
      message({ token: 'other-2', body: 'Battery low' }),
    ];
    await adapter({}, { batchSize: 2 }).send(mixed);
    expect(fake.received.map((entry) => entry.fields.registration_id).sort()).toEqual([
      'other-1,other-2',
      'regid-0,regid-1',
      'regid-2,regid-3',
      'regid-4',
    ]);
  });

  it('maps data.bad_regids back to the phones: those are dead, the others sent', async () => {
    fake.script('regid-1', 'bad_regid');
    fake.script('regid-3', 'bad_regid');
    const results = await adapter().send(messages(5));
    expect(fake.requestCount).toBe(1);
    expect(fake.received[0]?.badRegIds).toEqual(['regid-1', 'regid-3']);
    const messageId = fake.received[0] && (results[0] as { providerMessageId?: string }).providerMessageId;
    expect(messageId).toMatch(/^slm/);
    expect(results).toEqual([
      { ok: true, providerMessageId: messageId },
      { ok: false, failure: 'dead', reason: 'MIPUSH_BAD_REGID' },
      { ok: true, providerMessageId: messageId },
      { ok: false, failure: 'dead', reason: 'MIPUSH_BAD_REGID' },
      { ok: true, providerMessageId: messageId },
    ]);
  });

  it('reports every phone dead on 20301 "No valid targets!"', async () => {
    fake.script('regid-0', 'bad_regid');
    fake.script('regid-1', 'bad_regid');
    const results = await adapter().send(messages(2));
    expect(fake.received[0]?.code).toBe(20301);
    expect(results).toEqual([
      { ok: false, failure: 'dead', reason: 'MIPUSH_20301' },
      { ok: false, failure: 'dead', reason: 'MIPUSH_20301' },
    ]);
  });

  it('fails every phone with creds when the AppSecret is wrong', async () => {
    const results = await adapter({ app_secret: 'WrongSecretWrongSecret==' }).send(messages(3));
    expect(fake.received[0]?.code).toBe(21301);
    expect(
      results.every((result) => !result.ok && result.failure === 'creds' && result.reason === 'MIPUSH_21301'),
    ).toBe(true);
  });

  it('flags a channel id the console has not approved, and a package that is not the app’s', async () => {
    const [channel] = await adapter({ message_channel_id: 'unapproved' }).send([message()]);
    expect(channel).toEqual({ ok: false, failure: 'creds', reason: 'MIPUSH_27001' });
    const [pkg] = await adapter({ package_name: 'com.example.elsewhere' }).send([message()]);
    expect(pkg).toEqual({ ok: false, failure: 'creds', reason: 'MIPUSH_22022' });
  });

  it('retries after the daily quota resets, at midnight in China', async () => {
    fake.scriptNext(['DAILY_QUOTA']);
    const sender = adapter();
    const [first] = await sender.send([message()]);
    expect(first).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'MIPUSH_10034',
      retryAfterMs: 4 * 3600 * 1000,
    });
    clock.advance(3 * 3600 * 1000);
    fake.scriptNext(['DAILY_LIMIT']);
    const [second] = await sender.send([message()]);
    expect(second).toMatchObject({ failure: 'retry', reason: 'MIPUSH_200001', retryAfterMs: 3600 * 1000 });
    const [third] = await sender.send([message()]);
    expect(third?.ok).toBe(true);
  });

  it.each(Object.keys(FAKE_XIAOMI_ERRORS) as FakeXiaomiErrorName[])(
    'classifies MiPush’s %s answer for every phone of the request',
    async (name) => {
      fake.scriptNext([name]);
      const results = await adapter().send(messages(2));
      const expected = classifyXiaomiCode(FAKE_XIAOMI_ERRORS[name].code, clock.now());
      expect(results).toEqual([expected, expected]);
    },
  );

  it('retries a proxy’s HTML error page, and a 429 after its Retry-After', async () => {
    fake.scriptNext([
      { status: 502, body: '<html><body>502 Bad Gateway</body></html>' },
      { status: 429, body: 'slow down', headers: { 'retry-after': '20' } },
      { status: 200, body: 'not json' },
    ]);
    const sender = adapter();
    expect(await sender.send([message()])).toEqual([{ ok: false, failure: 'retry', reason: 'HTTP_502' }]);
    expect(await sender.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'HTTP_429', retryAfterMs: 20_000 },
    ]);
    expect(await sender.send([message()])).toEqual([{ ok: false, failure: 'retry', reason: 'bad_response' }]);
  });

  it('answers scripted requests in turn, then succeeds again', async () => {
    fake.script('regid-0', ['SYSTEM_BUSY', 'TOO_FREQUENT']);
    const sender = adapter();
    expect((await sender.send([message({ token: 'regid-0' })]))[0]).toMatchObject({ reason: 'MIPUSH_10002' });
    expect((await sender.send([message({ token: 'regid-0' })]))[0]).toMatchObject({ reason: 'MIPUSH_10027' });
    expect((await sender.send([message({ token: 'regid-0' })]))[0]?.ok).toBe(true);
  });

  it('reports a regId it cannot address dead without asking MiPush', async () => {
    const results = await adapter().send([message({ token: '' }), message({ token: 'a,b' }), message()]);
    expect(results.slice(0, 2)).toEqual([
      { ok: false, failure: 'dead', reason: 'INVALID_REGID' },
      { ok: false, failure: 'dead', reason: 'INVALID_REGID' },
    ]);
    expect(results[2]?.ok).toBe(true);
    expect(fake.received.map((entry) => entry.tokens)).toEqual([['regid-1']]);
  });

  it('sends to the host of the app’s region', async () => {
    const regionUrls = fake.regionUrls();
    const { url: _url, ...withoutUrl } = fake.credentials();
    for (const region of ['russia', 'singapore'] as const) {
      const sender = createXiaomiAdapter(parsed({ ...withoutUrl, region }, regionUrls), { clock });
      closing.adapter(sender);
      expect((await sender.send([message()]))[0]?.ok).toBe(true);
    }
    expect(fake.received.map((entry) => entry.region)).toEqual(['russia', 'singapore']);
  });

  it('returns retry, not an exception, on network faults and timeouts', async () => {
    fake.scriptNext(['reset', 'hang']);
    const sender = adapter({}, { requestTimeoutMs: 200 });
    expect(await sender.send([message()])).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
    expect(await sender.send([message()])).toEqual([{ ok: false, failure: 'retry', reason: 'timeout' }]);
    const unreachable = adapter({ url: 'https://127.0.0.1:1' });
    expect(await unreachable.send(messages(2))).toEqual([
      { ok: false, failure: 'retry', reason: 'network_error' },
      { ok: false, failure: 'retry', reason: 'network_error' },
    ]);
  });

  it('verifies the server certificate: without the CA, the fake is refused', async () => {
    const { ca: _ca, ...withoutCa } = fake.credentials();
    const sender = createXiaomiAdapter(parsed(withoutCa), { clock });
    closing.adapter(sender);
    expect(await sender.send([message()])).toEqual([{ ok: false, failure: 'retry', reason: 'tls_error' }]);
    expect(fake.requestCount).toBe(0);
  });

  it('after close, sends fail with retry and nothing reaches MiPush', async () => {
    const sender = adapter();
    await sender.close();
    expect(await sender.send(messages(2))).toEqual([
      { ok: false, failure: 'retry', reason: 'adapter_closed' },
      { ok: false, failure: 'retry', reason: 'adapter_closed' },
    ]);
    expect(fake.requestCount).toBe(0);
  });

  it('refuses invalid settings and options when created', () => {
    const context = { clock, accessTokens: createMemoryAccessTokenStore() };
    expect(() => xiaomiProvider.createAdapter({ ...fake.credentials(), region: 'moon' }, context)).toThrow(
      /region must be one of/,
    );
    expect(() => adapter({}, { batchSize: 1001 })).toThrow(RangeError);
    expect(() => adapter({}, { concurrency: 0 })).toThrow(RangeError);
  });
});
