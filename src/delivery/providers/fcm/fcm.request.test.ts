import { describe, expect, it } from 'vitest';
import { pushMessage, T0 } from '../../../../test/helpers/fcm-adapter.js';
import { buildFcmRequest } from './fcm.request.js';

const settings = { projectId: 'bellhop-test', baseUrl: 'https://fcm.googleapis.com' };

function bodyOf(request: { body: string }): { message: Record<string, unknown> } {
  return JSON.parse(request.body) as { message: Record<string, unknown> };
}

describe('buildFcmRequest', () => {
  it('sends a ring as a data-only, high-priority message living until expiresAt', () => {
    const request = buildFcmRequest(
      pushMessage(T0, { channel: 'ring', collapseId: 'call-42', expiresAt: T0 + 30_999 }),
      settings,
      T0,
    );
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://fcm.googleapis.com/v1/projects/bellhop-test/messages:send');
    expect(request.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
    expect(JSON.parse(request.body)).toEqual({
      message: {
        token: 'token-1',
        data: { device: 'cam-1', title: 'Front door', body: 'Someone is at the door', channel: 'ring' },
        android: { priority: 'HIGH', ttl: '30s', collapse_key: 'call-42' },
      },
    });
  });

  it('sends a message as a notification with data, channel, sound, tag and badge', () => {
    const request = buildFcmRequest(
      pushMessage(T0, {
        androidChannelId: 'alerts',
        sound: 'chime',
        badge: 3,
        collapseId: 'door',
        expiresAt: T0 + 86_400_000,
      }),
      settings,
      T0,
    );
    expect(JSON.parse(request.body)).toEqual({
      message: {
        token: 'token-1',
        notification: { title: 'Front door', body: 'Someone is at the door' },
        data: { device: 'cam-1' },
        android: {
          priority: 'HIGH',
          ttl: '86400s',
          collapse_key: 'door',
          notification: { channel_id: 'alerts', sound: 'chime', tag: 'door', notification_count: 3 },
        },
      },
    });
  });

  it('leaves out what is not set, and never lets the ring channel key be overridden', () => {
    const plain = bodyOf(
      buildFcmRequest(pushMessage(T0, { title: undefined, body: undefined, data: {} }), settings, T0),
    );
    expect(plain.message).toEqual({ token: 'token-1', android: { priority: 'HIGH', ttl: '30s' } });

    const ring = bodyOf(
      buildFcmRequest(
        pushMessage(T0, {
          channel: 'ring',
          title: undefined,
          data: { channel: 'x', n: 5 as unknown as string },
        }),
        settings,
        T0,
      ),
    );
    expect(ring.message.data).toEqual({ channel: 'ring', n: '5', body: 'Someone is at the door' });
    expect(ring.message).not.toHaveProperty('notification');
  });

  it('rounds the TTL down, never below 0s nor above four weeks', () => {
    const ttl = (expiresAt: number) =>
      (
        bodyOf(buildFcmRequest(pushMessage(T0, { expiresAt }), settings, T0)).message.android as {
          ttl: string;
        }
      ).ttl;
    expect(ttl(T0 + 1_999)).toBe('1s');
    expect(ttl(T0 + 999)).toBe('0s');
    expect(ttl(T0 - 60_000)).toBe('0s');
    expect(ttl(T0 + 365 * 86_400_000)).toBe('2419200s');
  });

  it('keeps a path prefix of the base URL and ignores a trailing slash', () => {
    const request = buildFcmRequest(
      pushMessage(T0),
      { projectId: 'p-1', baseUrl: 'https://proxy.example/fcm/' },
      T0,
    );
    expect(request.url).toBe('https://proxy.example/fcm/v1/projects/p-1/messages:send');
  });
});
