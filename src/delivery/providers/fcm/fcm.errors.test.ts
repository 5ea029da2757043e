import { describe, expect, it } from 'vitest';
import { FAKE_FCM_ERRORS, type FakeFcmErrorName } from '../../../../test/fakes/fcm-server.js';
import { T0 } from '../../../../test/helpers/fcm-adapter.js';
import { parseRetryAfter } from '../retry-after.js';
import { classifyFcmError } from './fcm.errors.js';

describe('classifyFcmError', () => {
  const expected: Record<FakeFcmErrorName, string> = {
    UNREGISTERED: 'dead',
    INVALID_TOKEN: 'dead',
    INVALID_ARGUMENT: 'bad_request',
    SENDER_ID_MISMATCH: 'dead',
    QUOTA_EXCEEDED: 'retry',
    UNAVAILABLE: 'retry',
    INTERNAL: 'retry',
    THIRD_PARTY_AUTH_ERROR: 'creds',
    UNAUTHENTICATED: 'creds',
    PERMISSION_DENIED: 'creds',
  };
  const reasons: Record<FakeFcmErrorName, string> = {
    UNREGISTERED: 'UNREGISTERED',
    INVALID_TOKEN: 'INVALID_ARGUMENT',
    INVALID_ARGUMENT: 'INVALID_ARGUMENT',
    SENDER_ID_MISMATCH: 'SENDER_ID_MISMATCH',
    QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
    UNAVAILABLE: 'UNAVAILABLE',
    INTERNAL: 'INTERNAL',
    THIRD_PARTY_AUTH_ERROR: 'THIRD_PARTY_AUTH_ERROR',
    UNAUTHENTICATED: 'UNAUTHENTICATED',
    PERMISSION_DENIED: 'PERMISSION_DENIED',
  };

  for (const [name, answer] of Object.entries(FAKE_FCM_ERRORS)) {
    it(`classifies FCM's real ${name} answer`, () => {
      const result = classifyFcmError({ status: answer.status, body: answer.body }, T0);
      expect(result.failure).toBe(expected[name as FakeFcmErrorName]);
      expect(result.reason).toBe(reasons[name as FakeFcmErrorName]);
    });
  }

  it('reads the FCM errorCode before the status', () => {
    const unregistered400 =
      '{"error":{"code":400,"message":"Requested entity was not found.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}';
    expect(classifyFcmError({ status: 400, body: unregistered400 }, T0)).toEqual({
      ok: false,
      failure: 'dead',
      reason: 'UNREGISTERED',
    });
  });

  it('falls back to the status, then the HTTP status; never declares a token dead without an FCM code', () => {
    expect(
      classifyFcmError({ status: 404, body: '{"error":{"code":404,"status":"NOT_FOUND"}}' }, T0),
    ).toEqual({
      ok: false,
      failure: 'bad_request',
      reason: 'NOT_FOUND',
    });
    expect(classifyFcmError({ status: 502, body: '<html>Bad Gateway</html>', retryAfter: '7' }, T0)).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'HTTP_502',
      retryAfterMs: 7000,
    });
    expect(classifyFcmError({ status: 413, body: '' }, T0)).toMatchObject({ failure: 'bad_request' });
    expect(classifyFcmError({ status: 429, body: '' }, T0)).toMatchObject({
      failure: 'retry',
      reason: 'HTTP_429',
    });
    expect(classifyFcmError({ status: 403, body: 'Forbidden' }, T0)).toMatchObject({ failure: 'creds' });
    const unspecified =
      '{"error":{"code":503,"status":"UNAVAILABLE","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNSPECIFIED_ERROR"}]}}';
    expect(classifyFcmError({ status: 503, body: unspecified }, T0)).toMatchObject({
      failure: 'retry',
      reason: 'UNAVAILABLE',
    });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120', T0)).toBe(120_000);
    expect(parseRetryAfter(new Date(T0 + 45_000).toUTCString(), T0)).toBe(45_000);
    expect(parseRetryAfter(new Date(T0 - 45_000).toUTCString(), T0)).toBe(0);
    expect(parseRetryAfter('soon', T0)).toBeUndefined();
    expect(parseRetryAfter(undefined, T0)).toBeUndefined();
  });
});
