import { describe, expect, it } from 'vitest';
import { honorMessage } from '../../../../test/fakes/honor-fixtures.js';
import { buildHonorRequest, type HonorRequestSettings, honorTtl } from './honor.request.js';
import { honorProvider } from './index.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const settings: HonorRequestSettings = {
  appId: '104400001',
  baseUrl: 'https://push-api.cloud.hihonor.com',
  ringChannelId: 'calls',
  messageChannelId: 'alerts',
  ringImportance: 'NORMAL',
  messageImportance: 'LOW',
  ringCategory: undefined,
};

const bodyOf = (request: { body: string }) => JSON.parse(request.body) as Record<string, unknown>;

describe('buildHonorRequest', () => {
  it('sends a ring on the call channel, importance NORMAL, data for the app, short TTL', () => {
    const request = buildHonorRequest(
      [honorMessage(T0, { channel: 'ring', collapseId: 'ring-1', expiresAt: T0 + 30_999 })],
      settings,
      T0,
    );
    expect(request).toMatchObject({
      method: 'POST',
      url: 'https://push-api.cloud.hihonor.com/api/v1/104400001/sendMessage',
      headers: { 'content-type': 'application/json; charset=UTF-8', timestamp: String(T0) },
    });
    expect(bodyOf(request)).toEqual({
      token: ['honor-token-1'],
      data: JSON.stringify({
        device: 'cam-1',
        title: 'Front door',
        body: 'Someone is at the door',
        channel: 'ring',
      }),
      android: {
        ttl: '30s',
        notification: {
          title: 'Front door',
          body: 'Someone is at the door',
          clickAction: { type: 3 },
          importance: 'NORMAL',
          channelId: 'calls',
          tag: 'ring-1',
        },
      },
    });
  });

  it('adds the call category to rings when the app was granted one', () => {
    const request = buildHonorRequest(
      [honorMessage(T0, { channel: 'ring' })],
      { ...settings, ringCategory: 'VOIP' },
      T0,
    );
    expect(bodyOf(request).android).toMatchObject({ category: 'VOIP' });
    const message = buildHonorRequest([honorMessage(T0)], { ...settings, ringCategory: 'VOIP' }, T0);
    expect(bodyOf(message).android).not.toHaveProperty('category');
  });

  it('sends a message as a notification on the message channel, with its importance, to every token', () => {
    const request = buildHonorRequest(
      [honorMessage(T0, { token: 'a' }), honorMessage(T0, { token: 'b' })],
      settings,
      T0,
    );
    expect(bodyOf(request)).toEqual({
      token: ['a', 'b'],
      data: '{"device":"cam-1"}',
      android: {
        ttl: '86400s',
        notification: {
          title: 'Front door',
          body: 'Someone is at the door',
          clickAction: { type: 3 },
          importance: 'LOW',
          channelId: 'alerts',
        },
      },
    });
  });

  it('fills a missing title from the body, and sends data only when there is nothing to show', () => {
    const bodyOnly = bodyOf(buildHonorRequest([honorMessage(T0, { title: undefined })], settings, T0));
    expect(bodyOnly.android).toMatchObject({
      notification: { title: 'Someone is at the door', body: 'Someone is at the door' },
    });
    const silent = bodyOf(
      buildHonorRequest([honorMessage(T0, { title: undefined, body: undefined, data: {} })], settings, T0),
    );
    expect(silent).toEqual({ token: ['honor-token-1'], android: { ttl: '86400s' } });
  });

  it('keeps the TTL within 1 s … 15 days', () => {
    expect(honorTtl(T0 + 400, T0)).toBe('1s');
    expect(honorTtl(T0 - 5000, T0)).toBe('1s');
    expect(honorTtl(T0 + 40 * 86_400_000, T0)).toBe('1296000s');
  });

  it('is what inbox mode stores, with or without settings', () => {
    const message = honorMessage(T0);
    const withSettings = honorProvider.buildRequest(
      message,
      { app_id: '7', client_id: 'c', client_secret: 's', url: 'https://proxy.example/honor/' },
      T0,
    );
    expect(withSettings.url).toBe('https://proxy.example/honor/api/v1/7/sendMessage');
    expect(withSettings.headers).not.toHaveProperty('authorization');
    const without = honorProvider.buildRequest(message, undefined, T0);
    expect(without.url).toBe('https://push-api.cloud.hihonor.com/api/v1/inbox/sendMessage');
    expect(bodyOf(without).android).toMatchObject({ notification: { importance: 'NORMAL' } });
  });
});
