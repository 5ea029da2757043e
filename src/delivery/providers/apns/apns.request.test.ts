import { describe, expect, it } from 'vitest';
import type { PushMessage } from '../adapter.js';
import { apnsEndpoints } from './apns.config.js';
import { buildApnsRequest, isApnsDeviceToken } from './apns.request.js';

const now = Date.UTC(2026, 10, 30, 12, 0, 0);
const endpoints = apnsEndpoints({});
const token = 'a1'.repeat(32);

function message(overrides: Partial<PushMessage> = {}): PushMessage {
  return {
    deliveryId: '6f1c2a4e-9b7d-4c3e-8a5f-0d1e2f3a4b5c',
    token,
    channel: 'message',
    bundleId: 'com.example.doorbell',
    environment: 'production',
    title: 'Front door',
    body: 'Someone is at the door',
    data: { device_id: 'cam-1', event: 'motion' },
    sound: 'default',
    badge: 3,
    collapseId: undefined,
    expiresAt: now + 3_600_500,
    androidChannelId: 'alerts',
    ...overrides,
  };
}

describe('buildApnsRequest', () => {
  it('builds an alert for a message', () => {
    expect(buildApnsRequest(message(), endpoints, now)).toEqual({
      method: 'POST',
      url: `https://api.push.apple.com/3/device/${token}`,
      headers: {
        'apns-push-type': 'alert',
        'apns-topic': 'com.example.doorbell',
        'apns-priority': '10',
        'apns-expiration': String(Math.floor((now + 3_600_500) / 1000)),
        'apns-id': '6f1c2a4e-9b7d-4c3e-8a5f-0d1e2f3a4b5c',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        aps: { alert: { title: 'Front door', body: 'Someone is at the door' }, sound: 'default', badge: 3 },
        device_id: 'cam-1',
        event: 'motion',
      }),
    });
  });

  it('builds a VoIP push for a ring, without badge', () => {
    const request = buildApnsRequest(message({ channel: 'ring', sound: 'ring.caf' }), endpoints, now);
    expect(request.headers['apns-push-type']).toBe('voip');
    expect(request.headers['apns-topic']).toBe('com.example.doorbell.voip');
    expect(request.headers['apns-priority']).toBe('10');
    expect(JSON.parse(request.body)).toEqual({
      aps: { alert: { title: 'Front door', body: 'Someone is at the door' }, sound: 'ring.caf' },
      device_id: 'cam-1',
      event: 'motion',
    });
  });

  it('sends sandbox tokens to the sandbox host, others to production', () => {
    expect(buildApnsRequest(message({ environment: 'sandbox' }), endpoints, now).url).toBe(
      `https://api.sandbox.push.apple.com/3/device/${token}`,
    );
    expect(buildApnsRequest(message({ environment: null }), endpoints, now).url).toBe(
      `https://api.push.apple.com/3/device/${token}`,
    );
    const custom = { productionUrl: 'https://proxy.example:8443/', sandboxUrl: 'https://sandbox.example' };
    expect(buildApnsRequest(message(), custom, now).url).toBe(`https://proxy.example:8443/3/device/${token}`);
  });

  it('omits absent fields', () => {
    const request = buildApnsRequest(
      message({ title: undefined, sound: undefined, badge: undefined, data: {} }),
      endpoints,
      now,
    );
    expect(request.body).toBe('{"aps":{"alert":{"body":"Someone is at the door"}}}');
    const bare = buildApnsRequest(
      message({ title: undefined, body: undefined, sound: undefined, badge: undefined }),
      endpoints,
      now,
    );
    expect(JSON.parse(bare.body)).toEqual({ aps: {}, device_id: 'cam-1', event: 'motion' });
    expect(request.headers).not.toHaveProperty('apns-collapse-id');
    expect(request.headers).not.toHaveProperty('authorization');
  });

  it('keeps badge 0 and empty strings', () => {
    const request = buildApnsRequest(message({ badge: 0, title: '' }), endpoints, now);
    expect(JSON.parse(request.body).aps).toEqual({
      alert: { title: '', body: 'Someone is at the door' },
      sound: 'default',
      badge: 0,
    });
  });

  it('sets apns-collapse-id when given', () => {
    const request = buildApnsRequest(message({ collapseId: 'door-1' }), endpoints, now);
    expect(request.headers['apns-collapse-id']).toBe('door-1');
  });

  it('does not let data replace aps, and keeps odd keys as plain keys', () => {
    const request = buildApnsRequest(
      message({ data: { aps: 'evil', __proto__: 'x', constructor: 'y' } as Record<string, string> }),
      endpoints,
      now,
    );
    const parsed = JSON.parse(request.body);
    expect(parsed.aps).toEqual({
      alert: { title: 'Front door', body: 'Someone is at the door' },
      sound: 'default',
      badge: 3,
    });
    expect(parsed.constructor).toBe('y');
  });

  it('gives expiration 0 (try once, do not store) when already past', () => {
    expect(buildApnsRequest(message({ expiresAt: now }), endpoints, now).headers['apns-expiration']).toBe(
      '0',
    );
    expect(
      buildApnsRequest(message({ expiresAt: now + 999 }), endpoints, now).headers['apns-expiration'],
    ).toBe(String(Math.floor((now + 999) / 1000)));
  });

  it('is pure: the same inputs give the same request', () => {
    expect(buildApnsRequest(message(), endpoints, now)).toEqual(buildApnsRequest(message(), endpoints, now));
  });

  it('percent-encodes a token that is not a path segment', () => {
    expect(buildApnsRequest(message({ token: 'a b/c' }), endpoints, now).url).toBe(
      'https://api.push.apple.com/3/device/a%20b%2Fc',
    );
  });
});

describe('isApnsDeviceToken', () => {
  it('accepts even-length hex of any length', () => {
    expect(isApnsDeviceToken(token)).toBe(true);
    expect(isApnsDeviceToken('ABCDEF0123')).toBe(true);
    expect(isApnsDeviceToken('ab'.repeat(80))).toBe(true);
  });

  it('rejects empty, odd-length and non-hex', () => {
    expect(isApnsDeviceToken('')).toBe(false);
    expect(isApnsDeviceToken('abc')).toBe(false);
    expect(isApnsDeviceToken('<740f4707 bebcf74f>')).toBe(false);
    expect(isApnsDeviceToken('zz')).toBe(false);
  });
});
