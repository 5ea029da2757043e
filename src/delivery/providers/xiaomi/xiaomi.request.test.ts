import { describe, expect, it } from 'vitest';
import { xiaomiMessage } from '../../../../test/fakes/xiaomi-fixtures.js';
import { xiaomiProvider } from './index.js';
import {
  buildXiaomiRequest,
  notifyIdOf,
  remainingTtlMs,
  XIAOMI_MAX_TTL_MS,
  xiaomiAuthorization,
} from './xiaomi.request.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const settings = {
  baseUrl: 'https://api.xmpush.xiaomi.com',
  packageName: 'com.example.doorbell',
  ringChannelId: 'doorbell_ring',
  messageChannelId: 'doorbell_alert',
};

const fieldsOf = (body: string) => Object.fromEntries(new URLSearchParams(body));

describe('buildXiaomiRequest', () => {
  it('sends a ring on the call channel: ringing, short-lived, never stored for later', () => {
    const message = xiaomiMessage(T0, {
      channel: 'ring',
      collapseId: 'ring-42',
      data: { uid: 'U1', ring_id: 'ring-42' },
      expiresAt: T0 + 30_000,
    });
    const request = buildXiaomiRequest(message, settings, T0);
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://api.xmpush.xiaomi.com/v3/message/regid');
    expect(request.headers).toEqual({
      'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
      accept: 'application/json',
    });
    expect(fieldsOf(request.body)).toEqual({
      registration_id: 'regid-1',
      restricted_package_name: 'com.example.doorbell',
      pass_through: '0',
      title: 'Front door',
      description: 'Someone is at the door',
      payload: '{"uid":"U1","ring_id":"ring-42"}',
      time_to_live: '30000',
      notify_id: String(notifyIdOf(message)),
      notify_type: '-1',
      'extra.channel_id': 'doorbell_ring',
      'extra.only_send_once': '1',
    });
  });

  it('sends a message as a notification on the message channel, kept until it expires', () => {
    const request = buildXiaomiRequest(xiaomiMessage(T0), settings, T0);
    const fields = fieldsOf(request.body);
    expect(fields).toMatchObject({
      pass_through: '0',
      title: 'Front door',
      description: 'Someone is at the door',
      payload: '{"device":"cam-1"}',
      time_to_live: '86400000',
      'extra.channel_id': 'doorbell_alert',
    });
    expect(fields).not.toHaveProperty('notify_type');
    expect(fields).not.toHaveProperty('extra.only_send_once');
    expect(request.headers).not.toHaveProperty('authorization');
  });

  it('comma-joins the regIds of a batch', () => {
    const request = buildXiaomiRequest(xiaomiMessage(T0), settings, T0, ['a', 'b', 'c']);
    expect(fieldsOf(request.body).registration_id).toBe('a,b,c');
  });

  it('fills a missing title or body from the other, and sends text-less messages (a ring’s cancel) as pass-through', () => {
    expect(
      fieldsOf(buildXiaomiRequest(xiaomiMessage(T0, { title: undefined }), settings, T0).body),
    ).toMatchObject({
      title: 'Someone is at the door',
      description: 'Someone is at the door',
    });
    const cancel = xiaomiMessage(T0, {
      channel: 'ring',
      title: undefined,
      body: undefined,
      collapseId: 'ring-42',
      data: { type: 'cancel', ring_id: 'ring-42' },
    });
    const fields = fieldsOf(buildXiaomiRequest(cancel, settings, T0).body);
    expect(fields.pass_through).toBe('1');
    expect(fields).not.toHaveProperty('title');
    expect(fields).not.toHaveProperty('description');
    expect(fields.payload).toBe('{"type":"cancel","ring_id":"ring-42"}');
    // The cancel names the ring's notification, so the app can clear it.
    const ring = xiaomiMessage(T0, { channel: 'ring', collapseId: 'ring-42' });
    expect(fields.notify_id).toBe(String(notifyIdOf(ring)));
  });

  it('keeps title and description within MiPush’s limits, counting characters', () => {
    const fields = fieldsOf(
      buildXiaomiRequest(xiaomiMessage(T0, { title: '门'.repeat(60), body: '🔔'.repeat(200) }), settings, T0)
        .body,
    );
    expect([...(fields.title ?? '')]).toHaveLength(49);
    expect([...(fields.description ?? '')]).toHaveLength(127);
    expect(fields.title?.endsWith('…')).toBe(true);
  });

  it('keeps a path prefix of the base URL and ignores a trailing slash', () => {
    const request = buildXiaomiRequest(
      xiaomiMessage(T0),
      { ...settings, baseUrl: 'https://proxy.example/mi/' },
      T0,
    );
    expect(request.url).toBe('https://proxy.example/mi/v3/message/regid');
  });
});

describe('notifyIdOf', () => {
  it('is the same for the same collapse id or content, a 31-bit integer', () => {
    const a = xiaomiMessage(T0, { token: 'a' });
    const b = xiaomiMessage(T0, { token: 'b' });
    expect(notifyIdOf(a)).toBe(notifyIdOf(b));
    expect(notifyIdOf(a)).not.toBe(notifyIdOf(xiaomiMessage(T0, { body: 'Battery low' })));
    expect(notifyIdOf(xiaomiMessage(T0, { collapseId: 'x' }))).toBe(
      notifyIdOf(xiaomiMessage(T0, { collapseId: 'x', body: 'other' })),
    );
    expect(notifyIdOf(a)).toBeGreaterThanOrEqual(0);
    expect(notifyIdOf(a)).toBeLessThanOrEqual(2_147_483_647);
  });
});

describe('remainingTtlMs', () => {
  it('is the milliseconds left, at least 1, at most ten days', () => {
    expect(remainingTtlMs(T0 + 30_000, T0)).toBe(30_000);
    expect(remainingTtlMs(T0 + 1.5, T0)).toBe(1);
    expect(remainingTtlMs(T0 - 5, T0)).toBe(1);
    expect(remainingTtlMs(T0 + 30 * 86_400_000, T0)).toBe(XIAOMI_MAX_TTL_MS);
  });
});

describe('xiaomiAuthorization', () => {
  it('is the AppSecret after `key=`', () => {
    expect(xiaomiAuthorization('abc==')).toBe('key=abc==');
  });
});

describe('xiaomiProvider.buildRequest (inbox mode)', () => {
  it('uses the app’s settings when there are some, never the secret', () => {
    const request = xiaomiProvider.buildRequest(
      xiaomiMessage(T0),
      {
        app_secret: 'SECRETsecretSECRET12==',
        package_name: 'com.example.other',
        ring_channel_id: 'r',
        message_channel_id: 'm',
        region: 'singapore',
      },
      T0,
    );
    expect(request.url).toBe('https://sgp-api.xmpush.global.xiaomi.com/v3/message/regid');
    expect(fieldsOf(request.body)).toMatchObject({
      restricted_package_name: 'com.example.other',
      'extra.channel_id': 'm',
    });
    expect(JSON.stringify(request)).not.toContain('SECRET');
  });

  it('without settings, addresses the bundle id in China', () => {
    const request = xiaomiProvider.buildRequest(xiaomiMessage(T0), undefined, T0);
    expect(request.url).toBe('https://api.xmpush.xiaomi.com/v3/message/regid');
    expect(fieldsOf(request.body).restricted_package_name).toBe('com.example.doorbell');
  });
});
