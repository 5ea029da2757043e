import { describe, expect, it } from 'vitest';
import { apnsErrorReason, classifyApnsError, parseRetryAfter } from './apns.errors.js';

const now = Date.UTC(2026, 10, 30, 12, 0, 0);

describe('classifyApnsError', () => {
  it.each([
    [410, 'Unregistered', 'dead'],
    [410, 'ExpiredToken', 'dead'],
    [400, 'BadDeviceToken', 'dead'],
    [400, 'DeviceTokenNotForTopic', 'dead'],
    [403, 'InvalidProviderToken', 'creds'],
    [403, 'MissingProviderToken', 'creds'],
    [403, 'BadCertificate', 'creds'],
    [403, 'BadCertificateEnvironment', 'creds'],
    [403, 'Forbidden', 'creds'],
    [400, 'TopicDisallowed', 'creds'],
    [403, 'ExpiredProviderToken', 'retry'],
    [429, 'TooManyRequests', 'retry'],
    [429, 'TooManyProviderTokenUpdates', 'retry'],
    [400, 'IdleTimeout', 'retry'],
    [500, 'InternalServerError', 'retry'],
    [503, 'ServiceUnavailable', 'retry'],
    [503, 'Shutdown', 'retry'],
    [400, 'BadCollapseId', 'bad_request'],
    [400, 'BadExpirationDate', 'bad_request'],
    [400, 'BadMessageId', 'bad_request'],
    [400, 'BadPriority', 'bad_request'],
    [400, 'BadTopic', 'bad_request'],
    [400, 'DuplicateHeaders', 'bad_request'],
    [400, 'InvalidPushType', 'bad_request'],
    [400, 'MissingDeviceToken', 'bad_request'],
    [400, 'MissingTopic', 'bad_request'],
    [400, 'PayloadEmpty', 'bad_request'],
    [404, 'BadPath', 'bad_request'],
    [405, 'MethodNotAllowed', 'bad_request'],
    [413, 'PayloadTooLarge', 'bad_request'],
  ] as const)('%i %s → %s', (status, reason, failure) => {
    expect(classifyApnsError(status, reason)).toEqual({ ok: false, failure, reason });
  });

  it('falls back on the status for unknown reasons', () => {
    expect(classifyApnsError(400, 'SomethingNew')).toEqual({
      ok: false,
      failure: 'bad_request',
      reason: 'SomethingNew',
    });
    expect(classifyApnsError(403, 'SomethingNew').failure).toBe('creds');
    expect(classifyApnsError(502, undefined)).toEqual({ ok: false, failure: 'retry', reason: 'http_502' });
    expect(classifyApnsError(408, '').failure).toBe('retry');
    expect(classifyApnsError(421, undefined)).toEqual({
      ok: false,
      failure: 'bad_request',
      reason: 'http_421',
    });
  });

  it('does not read inherited keys as reasons', () => {
    expect(classifyApnsError(400, 'constructor').failure).toBe('bad_request');
    expect(classifyApnsError(400, '__proto__').failure).toBe('bad_request');
  });

  it('honours Retry-After on retries, in seconds or as a date', () => {
    expect(classifyApnsError(429, 'TooManyRequests', { header: '30', now })).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'TooManyRequests',
      retryAfterMs: 30_000,
    });
    expect(
      classifyApnsError(503, 'ServiceUnavailable', { header: new Date(now + 120_000).toUTCString(), now })
        .retryAfterMs,
    ).toBe(120_000);
    expect(classifyApnsError(503, 'ServiceUnavailable', { header: undefined, now })).not.toHaveProperty(
      'retryAfterMs',
    );
    expect(classifyApnsError(410, 'Unregistered', { header: '30', now })).not.toHaveProperty('retryAfterMs');
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and dates, ignores junk', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 5 ', now)).toBe(5000);
    expect(parseRetryAfter(new Date(now - 5000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('apnsErrorReason', () => {
  it('reads the reason of an APNs error body', () => {
    expect(apnsErrorReason('{"reason":"Unregistered","timestamp":1798600000000}')).toBe('Unregistered');
    expect(apnsErrorReason('')).toBeUndefined();
    expect(apnsErrorReason('<html>Bad gateway</html>')).toBeUndefined();
    expect(apnsErrorReason('{"reason":42}')).toBeUndefined();
  });
});
