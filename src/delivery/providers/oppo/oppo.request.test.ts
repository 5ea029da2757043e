import { describe, expect, it } from 'vitest';
import { oppoPushMessage } from '../../../../test/fakes/oppo-fixtures.js';
import type { PushMessage } from '../adapter.js';
import { oppoProvider } from './index.js';
import {
  buildOppoRequest,
  notifyIdOf,
  type OppoRequestSettings,
  oppoRegion,
  withAuthToken,
} from './oppo.request.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const settings: OppoRequestSettings = {
  url: 'https://api.push.oppomobile.com',
  intlUrl: 'https://api-intl.push.oppomobile.com',
  ringChannelId: 'ring',
  messageChannelId: 'alerts',
  ringCategory: 'IM',
  messageCategory: 'DEVICE_REMINDER',
  ringNotifyLevel: 16,
};

const pushMessage = (overrides: Partial<PushMessage> = {}) => oppoPushMessage(T0, overrides);

function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

describe('oppoRegion', () => {
  it.each([
    ['b6bbd94b59cdb5df8391642c1509b7fe', 'cn'],
    ['CN_b6bbd94b59cdb5df8391642c1509b7fe', 'cn'],
    ['OPPO_CN_b6bbd94b59cdb5df8391642c1509b7fe', 'cn'],
    ['cn_b6bbd94b', 'cn'],
    ['SG_b6bbd94b59cdb5df8391642c1509b7fe', 'intl'],
    ['OPPO_IN_b6bbd94b59cdb5df8391642c1509b7fe', 'intl'],
    ['OPPO_EU_b6bbd94b', 'intl'],
  ])('%s → %s', (token, region) => {
    expect(oppoRegion(token)).toBe(region);
  });
});

describe('buildOppoRequest', () => {
  it('sends a ring with unicast: call channel, category, strong reminder, offline only until it expires', () => {
    const request = buildOppoRequest(
      [pushMessage({ channel: 'ring', collapseId: 'call-7', expiresAt: T0 + 30_999 })],
      settings,
      T0,
    );
    expect(request).toMatchObject({
      method: 'POST',
      url: 'https://api.push.oppomobile.com/server/v1/message/notification/unicast',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    });
    const fields = form(request.body);
    expect(Object.keys(fields)).toEqual(['message']);
    expect(JSON.parse(fields.message ?? '')).toEqual({
      target_type: 2,
      target_value: 'CN_0a1b2c',
      notification: {
        app_message_id: 'd-1',
        style: 1,
        title: 'Front door',
        content: 'Someone is at the door',
        click_action_type: 0,
        action_parameters: JSON.stringify({ device: 'cam-1', channel: 'ring' }),
        channel_id: 'ring',
        category: 'IM',
        notify_level: 16,
        off_line: true,
        off_line_ttl: 30,
        notify_id: notifyIdOf('call-7'),
      },
    });
  });

  it('sends a message on the message channel, kept offline up to 10 days, no notify level', () => {
    const request = buildOppoRequest([pushMessage({ expiresAt: T0 + 30 * 86_400_000 })], settings, T0);
    const message = JSON.parse(form(request.body).message ?? '') as { notification: Record<string, unknown> };
    expect(message.notification).toEqual({
      app_message_id: 'd-1',
      style: 1,
      title: 'Front door',
      content: 'Someone is at the door',
      click_action_type: 0,
      action_parameters: '{"device":"cam-1"}',
      channel_id: 'alerts',
      category: 'DEVICE_REMINDER',
      off_line: true,
      off_line_ttl: 864_000,
    });
  });

  it('sends several messages with unicast_batch, one element per phone, to the host of their region', () => {
    const request = buildOppoRequest(
      [pushMessage({ token: 'SG_1', deliveryId: 'a' }), pushMessage({ token: 'SG_2', deliveryId: 'b' })],
      settings,
      T0,
    );
    expect(request.url).toBe(
      'https://api-intl.push.oppomobile.com/server/v1/message/notification/unicast_batch',
    );
    const messages = JSON.parse(form(request.body).messages ?? '') as Array<{
      target_value: string;
      notification: { app_message_id: string };
    }>;
    expect(messages.map((m) => [m.target_value, m.notification.app_message_id])).toEqual([
      ['SG_1', 'a'],
      ['SG_2', 'b'],
    ]);
    expect(() => buildOppoRequest([], settings, T0)).toThrow(RangeError);
  });

  it('cuts long texts to OPPO’s limits, in characters, and uses the long-text style past 50', () => {
    const long = '门'.repeat(60);
    const message = JSON.parse(
      form(buildOppoRequest([pushMessage({ title: long, body: long.repeat(3) })], settings, T0).body)
        .message ?? '',
    ) as { notification: { title: string; content: string; style: number } };
    expect([...message.notification.title]).toHaveLength(50);
    expect(message.notification.title.endsWith('…')).toBe(true);
    expect([...message.notification.content]).toHaveLength(128);
    expect(message.notification.style).toBe(2);
  });

  it('fills a missing title or body from the other; sends a ring past its expiry to online phones only', () => {
    const message = JSON.parse(
      form(
        buildOppoRequest(
          [pushMessage({ channel: 'ring', title: undefined, data: {}, expiresAt: T0 + 999 })],
          settings,
          T0,
        ).body,
      ).message ?? '',
    ) as { notification: Record<string, unknown> };
    expect(message.notification).toMatchObject({
      title: 'Someone is at the door',
      content: 'Someone is at the door',
      action_parameters: '{"channel":"ring"}',
      off_line: false,
    });
    expect(message.notification).not.toHaveProperty('off_line_ttl');
  });

  it('puts the auth_token first in the form', () => {
    const request = buildOppoRequest([pushMessage()], settings, T0);
    const body = withAuthToken(request.body, 'tok/+=');
    expect(body.startsWith('auth_token=tok%2F%2B%3D&message=')).toBe(true);
    expect(form(body).auth_token).toBe('tok/+=');
  });

  it('builds the inbox request without settings', () => {
    const request = oppoProvider.buildRequest(
      pushMessage({ channel: 'ring', token: 'OPPO_IN_9' }),
      undefined,
      T0,
    );
    expect(request.url).toBe('https://api-intl.push.oppomobile.com/server/v1/message/notification/unicast');
    const message = JSON.parse(form(request.body).message ?? '') as { notification: Record<string, unknown> };
    expect(message.notification).not.toHaveProperty('channel_id');
    expect(message.notification).not.toHaveProperty('notify_level');
    const configured = oppoProvider.buildRequest(
      pushMessage(),
      { url: 'https://proxy.example/oppo/', message_channel_id: 'alerts', message_category: 'ACCOUNT' },
      T0,
    );
    expect(configured.url).toBe('https://proxy.example/oppo/server/v1/message/notification/unicast');
    expect(form(configured.body).message).toContain('"category":"ACCOUNT"');
  });
});
