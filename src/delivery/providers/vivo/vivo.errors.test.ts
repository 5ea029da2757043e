import { describe, expect, it } from 'vitest';
import { msUntilChinaMidnight } from '../shared/china-time.js';
import { classifyVivoAnswer, invalidUserFailure, parseVivoAnswer } from './vivo.errors.js';

// 2026-11-30 12:00 UTC = 20:00 in China: the quotas reset in 4 hours.
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const vivo = (result: number, extra: Record<string, unknown> = {}) => ({
  status: 200,
  body: JSON.stringify({ result, desc: 'x', ...extra }),
});

describe('vivo result classification', () => {
  it.each([
    [10302, { failure: 'dead', reason: 'vivo_10302' }],
    [10000, { failure: 'creds', reason: 'vivo_10000' }],
    [10070, { failure: 'retry', reason: 'vivo_10070', retryAfterMs: 4 * 3_600_000 }],
    [10252, { failure: 'retry', reason: 'vivo_10252', retryAfterMs: 4 * 3_600_000 }],
    [10072, { failure: 'retry', reason: 'vivo_10072' }],
    [10096, { failure: 'bad_request', reason: 'vivo_10096' }],
    [10097, { failure: 'bad_request', reason: 'vivo_10097' }],
    [10050, { failure: 'bad_request', reason: 'vivo_10050' }],
  ])('result %i → %j', (result, expected) => {
    expect(classifyVivoAnswer(vivo(result), T0)).toEqual({ ok: false, ...expected });
  });

  it.each([
    [{ status: 503, body: '<html>busy</html>', retryAfter: '7' }, 'retry', 'HTTP_503', 7000],
    [{ status: 502, body: '' }, 'retry', 'HTTP_502', undefined],
    [{ status: 429, body: '{}', retryAfter: '2' }, 'retry', 'HTTP_429', 2000],
    [{ status: 408, body: '' }, 'retry', 'HTTP_408', undefined],
    [{ status: 401, body: '' }, 'creds', 'HTTP_401', undefined],
    [{ status: 403, body: 'denied' }, 'creds', 'HTTP_403', undefined],
    [{ status: 404, body: 'Not Found' }, 'bad_request', 'HTTP_404', undefined],
    [{ status: 200, body: '<html>proxy</html>' }, 'retry', 'bad_response', undefined],
  ])('HTTP %j → %s', (answer, failure, reason, retryAfterMs) => {
    expect(classifyVivoAnswer(answer, T0)).toEqual({
      ok: false,
      failure,
      reason,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  });

  it('reads invalidUser statuses: 1 and 2 are dead, others are refused as they are', () => {
    expect(invalidUserFailure({ userid: 'r', status: 1 })).toEqual({
      ok: false,
      failure: 'dead',
      reason: 'invalid_user_1',
    });
    expect(invalidUserFailure({ userid: 'r', status: 2 }).failure).toBe('dead');
    expect(invalidUserFailure({ userid: 'r', status: 3 }).failure).toBe('bad_request');
    expect(invalidUserFailure({ userid: 'r', status: 4 })).toEqual({
      ok: false,
      failure: 'bad_request',
      reason: 'invalid_user_4',
    });
  });

  it('parses send and list answers, and survives garbage', () => {
    expect(
      parseVivoAnswer(
        JSON.stringify({ result: 0, desc: '请求成功', taskId: 5, invalidUser: { userid: 'r1', status: 2 } }),
      ),
    ).toMatchObject({ result: 0, taskId: '5', invalidUser: { userid: 'r1', status: 2 }, invalidUsers: [] });
    expect(
      parseVivoAnswer(
        JSON.stringify({ result: 0, invalidUsers: [{ userid: 'a', status: 1 }, { nope: true }, null] }),
      ).invalidUsers,
    ).toEqual([{ userid: 'a', status: 1 }]);
    expect(parseVivoAnswer('<html>')).toMatchObject({ result: undefined, invalidUsers: [] });
    expect(parseVivoAnswer('[1]').result).toBeUndefined();
  });

  it('counts to the next midnight in China (UTC+8)', () => {
    expect(msUntilChinaMidnight(T0)).toBe(4 * 3_600_000);
    expect(msUntilChinaMidnight(Date.UTC(2026, 10, 30, 16, 0, 0))).toBe(24 * 3_600_000);
    expect(msUntilChinaMidnight(Date.UTC(2026, 10, 30, 15, 59, 59))).toBe(1000);
    expect(msUntilChinaMidnight(Date.UTC(2026, 11, 1, 1, 0, 0))).toBe(15 * 3_600_000);
  });
});
