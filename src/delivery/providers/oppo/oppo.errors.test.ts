import { describe, expect, it } from 'vitest';
import { FAKE_OPPO_MESSAGES } from '../../../../test/fakes/oppo-server.js';
import { msUntilChinaMidnight } from '../shared/china-time.js';
import { classifyHttpStatus } from '../shared/errors.js';
import { oppoSign } from './oppo.auth.js';
import { classifyOppoCode, OPPO_CODES, parseOppoAnswer } from './oppo.errors.js';

/** 2026-11-30 12:00 UTC = 20:00 in China: four hours to the quota reset. */
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

/** reference/providers.md §5.1 and §8, code by code. */
const expected: Record<number, string> = {
  [-2]: 'retry',
  [-1]: 'retry',
  11: 'retry',
  12: 'bad_request',
  13: 'retry',
  14: 'creds',
  15: 'creds',
  16: 'creds',
  17: 'creds',
  18: 'creds',
  19: 'creds',
  20: 'bad_request',
  21: 'bad_request',
  22: 'bad_request',
  23: 'bad_request',
  24: 'bad_request',
  25: 'bad_request',
  26: 'creds',
  27: 'creds',
  28: 'creds',
  29: 'retry',
  30: 'creds',
  31: 'bad_request',
  32: 'bad_request',
  33: 'retry',
  34: 'retry',
  40: 'bad_request',
  41: 'bad_request',
  51: 'bad_request',
  55: 'retry',
  59: 'creds',
  67: 'creds',
  10000: 'dead',
};

describe('classifyOppoCode', () => {
  it('knows every code of OPPO’s table, and the fake answers each with OPPO’s wording', () => {
    expect(Object.keys(OPPO_CODES).map(Number).sort()).toEqual(Object.keys(expected).map(Number).sort());
    for (const code of Object.keys(OPPO_CODES).map(Number)) {
      expect(FAKE_OPPO_MESSAGES[code]).toBe(OPPO_CODES[code]?.meaning);
    }
  });

  for (const [code, failure] of Object.entries(expected)) {
    it(`code ${code} → ${failure}`, () => {
      const result = classifyOppoCode(Number(code), T0);
      expect(result).toMatchObject({ ok: false, failure, reason: `OPPO_${code}` });
      if (code === '33' || code === '34') expect(result.retryAfterMs).toBe(4 * 3600_000);
      else expect(result).not.toHaveProperty('retryAfterMs');
    });
  }

  it('treats codes OPPO does not list: its own faults as retry, the rest as bad_request', () => {
    expect(classifyOppoCode(-7, T0)).toEqual({ ok: false, failure: 'retry', reason: 'OPPO_-7' });
    expect(classifyOppoCode(10001, T0)).toEqual({ ok: false, failure: 'bad_request', reason: 'OPPO_10001' });
  });
});

describe('msUntilChinaMidnight', () => {
  it('counts to the next 00:00 in UTC+8', () => {
    expect(msUntilChinaMidnight(T0)).toBe(4 * 3600_000);
    expect(msUntilChinaMidnight(Date.UTC(2026, 10, 30, 16, 0, 0))).toBe(24 * 3600_000);
    expect(msUntilChinaMidnight(Date.UTC(2026, 10, 30, 15, 59, 59, 999))).toBe(1);
    expect(msUntilChinaMidnight(Date.UTC(2026, 11, 31, 17, 30))).toBe(22.5 * 3600_000);
  });
});

describe('classifyHttpStatus', () => {
  it('retries 5xx and 429 honouring Retry-After, flags 401/403, refuses the rest', () => {
    expect(classifyHttpStatus(502, '7', T0)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'HTTP_502',
      retryAfterMs: 7000,
    });
    expect(classifyHttpStatus(429, new Date(T0 + 30_000).toUTCString(), T0)).toMatchObject({
      failure: 'retry',
      retryAfterMs: 30_000,
    });
    expect(classifyHttpStatus(503, undefined, T0)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'HTTP_503',
    });
    expect(classifyHttpStatus(403, '5', T0)).toEqual({ ok: false, failure: 'creds', reason: 'HTTP_403' });
    expect(classifyHttpStatus(404, undefined, T0)).toMatchObject({ failure: 'bad_request' });
  });
});

describe('parseOppoAnswer', () => {
  it('reads unicast, unicast_batch and auth answers', () => {
    expect(parseOppoAnswer('{"code":0,"message":"","data":{"messageId":"app-1-1-abc"}}')).toMatchObject({
      code: 0,
      messageId: 'app-1-1-abc',
      entries: undefined,
    });
    expect(
      parseOppoAnswer(
        '{"code":0,"message":"","data":[{"messageId":"m1","registrationId":"r1"},{"messageId":"","registrationId":"r2","errorCode":10000,"errorMessage":"Invalid Registration_id"}]}',
      )?.entries,
    ).toEqual([
      { messageId: 'm1', registrationId: 'r1', errorCode: undefined },
      { messageId: undefined, registrationId: 'r2', errorCode: 10000 },
    ]);
    expect(parseOppoAnswer('{"code":"0","data":{"auth_token":"t","create_time":1}}')).toMatchObject({
      code: 0,
      authToken: 't',
    });
  });

  it('gives undefined for what is not OPPO’s JSON', () => {
    expect(parseOppoAnswer('<html>Bad Gateway</html>')).toBeUndefined();
    expect(parseOppoAnswer('{"message":"no code"}')).toBeUndefined();
    expect(parseOppoAnswer('[1]')).toBeUndefined();
  });
});

describe('oppoSign', () => {
  it('is the lowercase hex SHA-256 of app key, timestamp and master secret', () => {
    // printf 'key1700000000000secret' | sha256sum
    expect(oppoSign('key', '1700000000000', 'secret')).toBe(
      'ee412f504f93d283888979ab4f37e98beb471243575d468a4048c57285abad84',
    );
  });
});
