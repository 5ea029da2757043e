import { describe, expect, it } from 'vitest';
import { FAKE_HONOR_ERRORS, type FakeHonorErrorName } from '../../../../test/fakes/honor-server.js';
import { msUntilChinaMidnight } from '../shared/china-time.js';
import { classifyHonorFailure, HONOR_CODES, parseHonorReply, resultsPerToken } from './honor.errors.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0); // 20:00 in China
const classify = (status: number, body: string, retryAfter?: string) =>
  classifyHonorFailure({ status, body, retryAfter }, parseHonorReply(body), T0);

describe('classifyHonorFailure', () => {
  const expected: Record<number, string> = {
    80100001: 'bad_request',
    80100002: 'bad_request',
    80100003: 'bad_request',
    80100004: 'bad_request',
    80100013: 'bad_request',
    80100016: 'bad_request',
    80100017: 'retry',
    80100018: 'bad_request',
    80200001: 'creds',
    80200003: 'retry',
    80300002: 'creds',
    80300007: 'dead',
    80300008: 'bad_request',
    80300010: 'bad_request',
    80300011: 'creds',
    80300013: 'creds',
    80600003: 'creds',
    81000001: 'retry',
  };

  it('knows every code of the table', () => {
    expect(Object.keys(HONOR_CODES).map(Number).sort()).toEqual(Object.keys(expected).map(Number).sort());
  });

  for (const [code, failure] of Object.entries(expected)) {
    it(`${code} → ${failure}`, () => {
      for (const status of [200, 400]) {
        expect(classify(status, JSON.stringify({ code: Number(code), message: 'x' }))).toEqual({
          ok: false,
          failure,
          reason: code,
        });
      }
      // Codes also come as strings.
      expect(classify(200, JSON.stringify({ code, message: 'x' })).failure).toBe(failure);
    });
  }

  it('classifies every canned answer of the fake', () => {
    const classes: Record<FakeHonorErrorName, string> = {
      PARAMETER_ERROR: 'bad_request',
      ILLEGAL_PAYLOAD: 'bad_request',
      TTL_EXPIRED: 'bad_request',
      SENSITIVE_CONTENT: 'bad_request',
      TOO_MANY_TASKS: 'retry',
      OAUTH_ERROR: 'creds',
      OAUTH_TOKEN_EXPIRED: 'retry',
      APP_FORBIDDEN: 'creds',
      ALL_TOKENS_INVALID: 'dead',
      BODY_TOO_LARGE: 'bad_request',
      TOKEN_COUNT: 'bad_request',
      NO_RIGHT: 'creds',
      OAUTH_SERVER_ERROR: 'creds',
      INTERNAL: 'retry',
      QUOTA_EXCEEDED: 'retry',
      FLOW_CONTROL: 'retry',
      RATE_LIMITED: 'retry',
    };
    for (const [name, answer] of Object.entries(FAKE_HONOR_ERRORS)) {
      expect([name, classify(answer.status, answer.body).failure]).toEqual([
        name,
        classes[name as FakeHonorErrorName],
      ]);
    }
  });

  it('retries a daily quota at the next midnight in China (UTC+8)', () => {
    const quota = FAKE_HONOR_ERRORS.QUOTA_EXCEEDED;
    expect(classify(quota.status, quota.body)).toEqual({
      ok: false,
      failure: 'retry',
      reason: '80300009',
      retryAfterMs: 4 * 3600_000,
    });
    expect(classify(200, '{"code":81234567,"message":"超过当日推送上限"}').retryAfterMs).toBe(4 * 3600_000);
  });

  it('falls back to the HTTP status and honours Retry-After on retries', () => {
    expect(classify(503, '{"message":"Flow control"}', '30')).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'HTTP_503',
      retryAfterMs: 30_000,
    });
    expect(classify(429, '', new Date(T0 + 5000).toUTCString())).toMatchObject({ retryAfterMs: 5000 });
    expect(classify(502, '<html>Bad Gateway</html>')).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'HTTP_502',
    });
    expect(classify(401, 'Unauthorized').failure).toBe('creds');
    expect(classify(404, '').failure).toBe('bad_request');
    expect(classify(200, '{"code":89999999,"message":"new"}')).toEqual({
      ok: false,
      failure: 'bad_request',
      reason: '89999999',
    });
    // A code we know beats Retry-After on a class that is not retried.
    expect(classify(400, '{"code":80300007}', '10')).toEqual({
      ok: false,
      failure: 'dead',
      reason: '80300007',
    });
  });
});

describe('msUntilChinaMidnight', () => {
  it('counts to 00:00 UTC+8', () => {
    expect(msUntilChinaMidnight(Date.UTC(2026, 10, 30, 15, 59, 0))).toBe(60_000);
    expect(msUntilChinaMidnight(Date.UTC(2026, 10, 30, 16, 0, 0))).toBe(24 * 3600_000);
    expect(msUntilChinaMidnight(Date.UTC(2026, 11, 1, 3, 0, 0))).toBe(13 * 3600_000);
  });
});

describe('resultsPerToken', () => {
  it('maps expireTokens to dead and failTokens to retry, in the order sent', () => {
    const reply = parseHonorReply(
      JSON.stringify({
        code: 80100000,
        message: 'Some tokens failed',
        data: { sendResult: true, requestId: 'r-1', expireTokens: ['b'], failTokens: ['d', 'zz'] },
      }),
    );
    expect(resultsPerToken(['a', 'b', 'c', 'd'], reply)).toEqual([
      { ok: true, providerMessageId: 'r-1' },
      { ok: false, failure: 'dead', reason: 'expire_token' },
      { ok: true, providerMessageId: 'r-1' },
      { ok: false, failure: 'retry', reason: 'fail_token' },
    ]);
  });

  it('retries all when Honor says it sent nothing without naming a token', () => {
    const reply = parseHonorReply('{"code":200,"data":{"sendResult":false,"requestId":"r"}}');
    expect(resultsPerToken(['a'], reply)).toEqual([{ ok: false, failure: 'retry', reason: 'send_failed' }]);
  });

  it('reads unreadable bodies as empty', () => {
    expect(parseHonorReply('<html>')).toEqual({
      code: undefined,
      message: undefined,
      sendResult: undefined,
      requestId: undefined,
      expireTokens: [],
      failTokens: [],
    });
  });
});
