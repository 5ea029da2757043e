import { describe, expect, it } from 'vitest';
import { msUntilChinaMidnight } from '../shared/china-time.js';
import { classifyHttpStatus } from '../shared/errors.js';
import { classifyXiaomiCode, parseXiaomiAnswer } from './xiaomi.errors.js';

// 20:00 in China.
const now = Date.UTC(2026, 10, 30, 12, 0, 0);
const untilMidnight = 4 * 3600 * 1000;

describe('classifyXiaomiCode', () => {
  it.each([
    [-1, 'retry'],
    [1, 'retry'],
    [10001, 'retry'],
    [10002, 'retry'],
    [10003, 'retry'],
    [10027, 'retry'],
    [10037, 'retry'],
    [26003, 'retry'],
    [65029, 'retry'],
    [65003, 'retry'],
    [10008, 'bad_request'],
    [10016, 'bad_request'],
    [10017, 'bad_request'],
    [21305, 'bad_request'],
    [65009, 'bad_request'],
    [65011, 'bad_request'],
    [20301, 'dead'],
    [21301, 'creds'],
    [21302, 'creds'],
    [21303, 'creds'],
    [22000, 'creds'],
    [22006, 'creds'],
    [22007, 'creds'],
    [22022, 'creds'],
    [10031, 'creds'],
    [10036, 'creds'],
    [26005, 'creds'],
    [27001, 'creds'],
  ] as const)('%i → %s', (code, failure) => {
    expect(classifyXiaomiCode(code, now)).toEqual({ ok: false, failure, reason: `MIPUSH_${code}` });
  });

  it.each([10034, 200001])('%i (daily quota) → retry once the quota resets, at midnight in China', (code) => {
    expect(classifyXiaomiCode(code, now)).toEqual({
      ok: false,
      failure: 'retry',
      reason: `MIPUSH_${code}`,
      retryAfterMs: untilMidnight,
    });
  });

  it('never retries a code it does not know unchanged', () => {
    expect(classifyXiaomiCode(99999, now)).toEqual({
      ok: false,
      failure: 'bad_request',
      reason: 'MIPUSH_99999',
    });
  });
});

describe('msUntilChinaMidnight', () => {
  it('counts to the next 00:00 UTC+8', () => {
    expect(msUntilChinaMidnight(now)).toBe(untilMidnight);
    // 00:00 in China exactly: a whole day to the next reset.
    expect(msUntilChinaMidnight(Date.UTC(2026, 10, 30, 16, 0, 0))).toBe(24 * 3600 * 1000);
    // 07:59:59 in China, 23:59:59 UTC the day before.
    expect(msUntilChinaMidnight(Date.UTC(2026, 10, 29, 23, 59, 59))).toBe(16 * 3600 * 1000 + 1000);
  });
});

describe('classifyHttpStatus', () => {
  it('retries 5xx, 429 and 408 (honouring Retry-After), flags 401/403, refuses other 4xx', () => {
    expect(classifyHttpStatus(502, undefined, now)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'HTTP_502',
    });
    expect(classifyHttpStatus(429, '30', now)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'HTTP_429',
      retryAfterMs: 30_000,
    });
    expect(classifyHttpStatus(503, new Date(now + 120_000).toUTCString(), now).retryAfterMs).toBe(120_000);
    expect(classifyHttpStatus(408, undefined, now).failure).toBe('retry');
    expect(classifyHttpStatus(401, undefined, now).failure).toBe('creds');
    expect(classifyHttpStatus(403, undefined, now).failure).toBe('creds');
    expect(classifyHttpStatus(404, undefined, now).failure).toBe('bad_request');
  });
});

describe('parseXiaomiAnswer', () => {
  it('reads MiPush’s real success and error bodies', () => {
    expect(
      parseXiaomiAnswer(
        '{"result":"ok","trace_id":"Xlm12b34488763708227kX","code":0,"data":{"id":"alm12b34488763708232Vy"},"description":"成功","info":"Received push messages for 1 REGID"}',
      ),
    ).toEqual({ code: 0, messageId: 'alm12b34488763708232Vy', badRegIds: new Set() });
    expect(
      parseXiaomiAnswer(
        '{"result":"error","reason":"No valid targets!","trace_id":"Xcm07b77488763663927bm","code":20301,"description":"发送消息失败"}',
      ),
    ).toEqual({ code: 20301, messageId: undefined, badRegIds: new Set() });
  });

  it('splits data.bad_regids', () => {
    expect(
      parseXiaomiAnswer('{"result":"ok","code":0,"data":{"id":"m1","bad_regids":"a,b,"}}')?.badRegIds,
    ).toEqual(new Set(['a', 'b']));
  });

  it('gives undefined for what is not MiPush’s JSON, and no code for a code that is not a number', () => {
    expect(parseXiaomiAnswer('<html>502 Bad Gateway</html>')).toBeUndefined();
    expect(parseXiaomiAnswer('[1]')).toBeUndefined();
    expect(parseXiaomiAnswer('{"code":"x"}')?.code).toBeUndefined();
    expect(parseXiaomiAnswer('{"code":"21301"}')?.code).toBe(21301);
  });
});
