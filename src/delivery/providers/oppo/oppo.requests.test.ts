import { describe, expect, it } from 'vitest';
import { FAKE_OPPO_MESSAGE_CHANNEL, FAKE_OPPO_RING_CHANNEL } from '../../../../test/fakes/oppo-server.js';
import {
  adapterFor,
  clock,
  fake,
  message,
  messages,
  statuses,
  T0,
  useOppoTestbed,
} from '../../../../test/helpers/oppo-adapter.js';
import { createMemoryAccessTokenStore } from '../shared/access-tokens.js';
import { oppoProvider } from './index.js';
import { oppoSign } from './oppo.auth.js';
import { notifyIdOf } from './oppo.request.js';

useOppoTestbed();

describe('the OPPO adapter: requests', () => {
  it('sends a ring with unicast on the call channel, signed in with a fresh auth_token', async () => {
    const adapter = adapterFor();
    const ring = message({
      channel: 'ring',
      token: 'CN_ring-a',
      collapseId: 'ring-1',
      expiresAt: T0 + 30_000,
    });
    const results = await adapter.send([ring]);
    expect(results).toEqual([
      { ok: true, providerMessageId: expect.stringMatching(/^30912345-1-1-[0-9a-f]{24}$/) },
    ]);

    const [auth] = fake.authRequests;
    expect(auth?.code).toBe(0);
    expect(auth?.fields).toEqual({
      app_key: fake.appKey,
      timestamp: String(T0),
      sign: oppoSign(fake.appKey, String(T0), fake.masterSecret),
    });
    const [received] = fake.received;
    expect(received).toMatchObject({ api: 'unicast', region: 'cn', code: 0, authToken: auth?.authToken });
    expect(received?.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(received?.messages).toEqual([
      {
        target_type: 2,
        target_value: 'CN_ring-a',
        notification: {
          app_message_id: ring.deliveryId,
          style: 1,
          title: 'Front door',
          content: 'Someone is at the door',
          click_action_type: 0,
          action_parameters: '{"device":"cam-1","channel":"ring"}',
          channel_id: FAKE_OPPO_RING_CHANNEL,
          category: 'IM',
          notify_level: 16,
          off_line: true,
          off_line_ttl: 30,
          notify_id: notifyIdOf('ring-1'),
        },
      },
    ]);
  });

  it('sends a message fan-out with unicast_batch: 2,500 phones in 3 requests, results mapped back in order', async () => {
    const adapter = adapterFor();
    const batch = messages(2500);
    const gone = new Set([3, 999, 1000, 2499]);
    for (const index of gone) fake.script(batch[index]?.token ?? '', 10000);
    const results = await adapter.send(batch);

    expect(fake.received.map((received) => `${received.api} ${received.messages.length}`).sort()).toEqual([
      'unicast_batch 1000',
      'unicast_batch 1000',
      'unicast_batch 500',
    ]);
    expect(fake.counts.authTokensIssued).toBe(1);
    expect(results).toHaveLength(2500);
    results.forEach((result, index) => {
      if (gone.has(index)) expect(result).toEqual({ ok: false, failure: 'dead', reason: 'OPPO_10000' });
      else expect(result).toEqual({ ok: true, providerMessageId: expect.stringMatching(/^30912345-1-1-/) });
    });
    const notification = fake.received[0]?.messages[0]?.notification as Record<string, unknown>;
    expect(notification).toMatchObject({
      channel_id: FAKE_OPPO_MESSAGE_CHANNEL,
      category: 'DEVICE_REMINDER',
    });
    expect(notification).not.toHaveProperty('notify_level');
  });

  it('maps batch results by registration id, whatever order OPPO answers in', async () => {
    const adapter = adapterFor();
    fake.scriptRequests([
      {
        status: 200,
        body: JSON.stringify({
          code: 0,
          message: '',
          data: [
            {
              messageId: '',
              registrationId: 'CN_b',
              errorCode: 10000,
              errorMessage: 'Invalid Registration_id',
            },
            { messageId: 'm-a', registrationId: 'CN_a' },
          ],
        }),
      },
    ]);
    const results = await adapter.send([
      message({ token: 'CN_a' }),
      message({ token: 'CN_b' }),
      message({ token: 'CN_c' }),
    ]);
    expect(results).toEqual([
      { ok: true, providerMessageId: 'm-a' },
      { ok: false, failure: 'dead', reason: 'OPPO_10000' },
      { ok: false, failure: 'retry', reason: 'OPPO_no_result' },
    ]);
  });

  it('sends rings one by one, first, and batches messages by content and host', async () => {
    const adapter = adapterFor();
    const sent = [
      message({ token: 'CN_m1' }),
      message({ token: 'SG_m2' }),
      message({ channel: 'ring', token: 'CN_r1' }),
      message({ token: 'OPPO_IN_m3' }),
      message({ token: 'm4', body: 'Jemand ist an der Tür' }),
      message({ channel: 'ring', token: 'OPPO_SG_r2' }),
      message({ token: 'OPPO_CN_m5' }),
    ];
    const results = await adapter.send(sent);
    expect(results.every((result) => result.ok)).toBe(true);
    const requests = fake.received.map(
      (received) => `${received.region} ${received.api} ${received.tokens.join(',')}`,
    );
    expect(requests.slice(0, 2).sort()).toEqual(['cn unicast CN_r1', 'intl unicast OPPO_SG_r2']);
    expect(requests.slice(2).sort()).toEqual([
      'cn unicast m4',
      'cn unicast_batch CN_m1,OPPO_CN_m5',
      'intl unicast_batch SG_m2,OPPO_IN_m3',
    ]);
    // One auth_token per host.
    expect(fake.authRequests.map((auth) => auth.region).sort()).toEqual(['cn', 'intl']);
  });

  it('sends a batch OPPO refuses as a whole for a bad registration id again phone by phone', async () => {
    const adapter = adapterFor();
    const batch = messages(3);
    fake.scriptRequests([10000]);
    fake.script(batch[1]?.token ?? '', 10000);
    expect(statuses(await adapter.send(batch))).toEqual(['ok', 'OPPO_10000', 'ok']);
    expect(fake.received.map((received) => received.api)).toEqual([
      'unicast_batch',
      'unicast',
      'unicast',
      'unicast',
    ]);
  });

  it('shows a retried delivery once: app_message_id is the delivery id', async () => {
    const adapter = adapterFor();
    const first = message();
    const [sent] = await adapter.send([first]);
    const [again] = await adapter.send([{ ...first }]);
    expect(again).toEqual(sent);
    expect(fake.counts.messagesAccepted).toBe(1);
  });

  it('does not send what OPPO cannot show: a ring’s cancel has no text', async () => {
    const adapter = adapterFor();
    const cancel = message({ channel: 'ring', title: undefined, body: undefined, data: { type: 'cancel' } });
    expect(statuses(await adapter.send([message(), cancel, message()]))).toEqual([
      'ok',
      'oppo_no_text',
      'ok',
    ]);
    expect(fake.received.flatMap((received) => received.tokens)).not.toContain(cancel.token);
  });

  it('refuses invalid settings when created', () => {
    const context = { clock, accessTokens: createMemoryAccessTokenStore() };
    expect(() => oppoProvider.createAdapter({ app_key: 'k' }, context)).toThrow(/missing master_secret/);
  });
});
