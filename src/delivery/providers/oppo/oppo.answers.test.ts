import { describe, expect, it } from 'vitest';
import {
  adapterFor,
  clock,
  closeNow,
  fake,
  HOUR,
  message,
  messages,
  statuses,
  useOppoTestbed,
} from '../../../../test/helpers/oppo-adapter.js';
import { createMemoryAccessTokenStore } from '../shared/access-tokens.js';

useOppoTestbed();

describe('the OPPO adapter: answers', () => {
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
    await closeNow(fake);
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
});
