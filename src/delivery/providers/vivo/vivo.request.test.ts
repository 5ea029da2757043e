import { describe, expect, it } from 'vitest';
import { pushMessage } from '../../../../test/fakes/push-message.js';
import type { PushMessage } from '../adapter.js';
import { vivoProvider } from './index.js';
import {
  buildVivoListPayloadRequest,
  buildVivoPushToListRequest,
  buildVivoSendRequest,
  fitVivoText,
  vivoListRequestId,
  vivoNotifyId,
  vivoTtlSeconds,
} from './vivo.request.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const settings = {
  appId: '105123456',
  baseUrl: 'https://api-push.vivo.com.cn/',
  ringCategory: 'IM',
  messageCategory: 'DEVICE_REMINDER',
};

function message(overrides: Partial<PushMessage> = {}): PushMessage {
  return pushMessage(T0, {
    deliveryId: '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
    token: '15990430281161650000015',
    ...overrides,
  });
}

const bodyOf = (request: { body: string }) => JSON.parse(request.body) as Record<string, unknown>;

describe('vivo requests', () => {
  it('sends a ring as a system message of the approved class, sound and vibration, vivo’s shortest TTL', () => {
    const request = buildVivoSendRequest(
      message({ channel: 'ring', collapseId: 'ring-42', expiresAt: T0 + 30_000, data: { ring_id: 'r1' } }),
      settings,
      T0,
    );
    expect(request).toMatchObject({
      method: 'POST',
      url: 'https://api-push.vivo.com.cn/message/send',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(bodyOf(request)).toEqual({
      appId: '105123456',
      regId: '15990430281161650000015',
      notifyType: 4,
      title: 'Front door',
      content: 'Someone is at the door',
      timeToLive: 60,
      skipType: 1,
      networkType: -1,
      classification: 1,
      category: 'IM',
      clientCustomMap: { ring_id: 'r1' },
      notifyId: vivoNotifyId('ring-42'),
      requestId: '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
    });
  });

  it('sends a message in the app’s message class, living until expiresAt (a day at most)', () => {
    expect(bodyOf(buildVivoSendRequest(message(), settings, T0))).toMatchObject({
      classification: 1,
      category: 'DEVICE_REMINDER',
      notifyType: 4,
      timeToLive: 86_400,
      clientCustomMap: { device: 'cam-1' },
    });
    const operation = buildVivoSendRequest(
      message({ expiresAt: T0 + 3_600_500, data: {} }),
      { ...settings, messageCategory: 'NEWS' },
      T0,
    );
    const body = bodyOf(operation);
    expect(body).toMatchObject({ classification: 0, category: 'NEWS', timeToLive: 3600 });
    expect(body.clientCustomMap).toBeUndefined();
    expect(body.notifyId).toBeUndefined();
  });

  it('keeps timeToLive within 60 s … 1 day', () => {
    expect(vivoTtlSeconds(T0 - 5_000, T0)).toBe(60);
    expect(vivoTtlSeconds(T0 + 59_999, T0)).toBe(60);
    expect(vivoTtlSeconds(T0 + 61_999, T0)).toBe(61);
    expect(vivoTtlSeconds(T0 + 7 * 86_400_000, T0)).toBe(86_400);
    expect(vivoTtlSeconds(Number.NaN, T0)).toBe(60);
  });

  it('fits title and content to vivo’s limits, a CJK character counting two', () => {
    expect(fitVivoText('a'.repeat(50), 40)).toBe('a'.repeat(40));
    expect(fitVivoText('门铃'.repeat(15), 40)).toBe('门铃'.repeat(10));
    expect(fitVivoText('ab门', 3)).toBe('ab');
    const body = bodyOf(
      buildVivoSendRequest(message({ title: undefined, body: '有人按门铃' }), settings, T0),
    );
    expect(body).toMatchObject({ title: '有人按门铃', content: '有人按门铃' });
  });

  it('gives one notifyId per collapse id, a positive 31-bit integer', () => {
    const id = vivoNotifyId('ring-42');
    expect(id).toBe(vivoNotifyId('ring-42'));
    expect(id).not.toBe(vivoNotifyId('ring-43'));
    expect(Number.isInteger(id) && id >= 1 && id < 2 ** 31).toBe(true);
  });

  it('builds the fan-out pair: the saved content, then the list with a stable requestId', () => {
    const payload = buildVivoListPayloadRequest(message(), settings, T0, 'payload-1');
    expect(payload.url).toBe('https://api-push.vivo.com.cn/message/saveListPayload');
    const saved = bodyOf(payload);
    expect(saved).toMatchObject({ category: 'DEVICE_REMINDER', requestId: 'payload-1' });
    expect(saved.regId).toBeUndefined();
    expect(saved.appId).toBeUndefined();

    const requestId = vivoListRequestId('list', ['d1', 'd2']);
    expect(requestId).toBe(vivoListRequestId('list', ['d1', 'd2']));
    expect(requestId).not.toBe(vivoListRequestId('list', ['d1', 'd3']));
    expect(requestId.length).toBeLessThanOrEqual(64);
    const list = buildVivoPushToListRequest(['a', 'b'], '1000000001', requestId, settings);
    expect(list.url).toBe('https://api-push.vivo.com.cn/message/pushToList');
    expect(bodyOf(list)).toEqual({ regIds: ['a', 'b'], taskId: '1000000001', requestId });
  });

  it('gives inbox mode the exact send request, with or without settings', () => {
    const withSettings = vivoProvider.buildRequest(
      message(),
      { app_id: '7', app_key: 'k', app_secret: 's', ring_category: 'IM', message_category: 'TODO' },
      T0,
    );
    expect(bodyOf(withSettings)).toMatchObject({ appId: '7', category: 'TODO' });
    expect(withSettings.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
    const without = vivoProvider.buildRequest(message({ channel: 'ring' }), undefined, T0);
    expect(without.url).toBe('https://api-push.vivo.com.cn/message/send');
    expect(bodyOf(without)).toMatchObject({ category: 'IM', classification: 1 });
  });
});
