import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHonor, startFakeHonor } from '../fakes/honor-server.js';
import { json, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { deliveryCalls, makerRegistration, startDeliveryApp } from '../helpers/delivery.js';
import { eventually } from '../helpers/wait.js';

const bundle = 'com.example.honor.doorbell';
const RING = '/v1/api/user/token';
const MESSAGE = '/v1/api/user/message/token';

describe.each(testDialects())('delivery through Honor Push on %s', (dialect) => {
  let t: TestApp;
  let honor: FakeHonor;
  let key: string;

  const calls = deliveryCalls(() => ({ t, key }));
  const putApp = (bundleid: string, honor: Record<string, unknown>) => calls.putApp(bundleid, { honor });

  beforeAll(async () => {
    const clock = new ManualClock();
    honor = await startFakeHonor({ clock });
    ({ t, key } = await startDeliveryApp(dialect, clock));
    const put = await putApp(bundle, {
      ...honor.settings(),
      ring_channel_id: 'doorbell_calls',
      message_channel_id: 'doorbell_alerts',
      ring_category: 'VOIP',
    });
    expect(put.body).not.toContain(honor.clientSecret);
  });
  afterAll(async () => {
    await t.close();
    await honor.close();
  });

  const api = () => calls;
  /** The manual's registration call, as an Honor phone without Google services makes it. */
  const register = (token: string, url: string, osToken: string, extra: Record<string, unknown> = {}) =>
    calls.register(token, url, makerRegistration('HONOR', bundle, osToken, { language: 'zh-CN', ...extra }));
  const tokensOf = async (userToken: string, url: string) => (await calls.registered(userToken, url)).sort();
  const sentTo = (token: string) => honor.received.filter((received) => received.tokens.includes(token));
  const waitFor = calls.until;

  it('delivers a ring on the call channel with the VoIP category and a short TTL, one phone per request', async () => {
    const user = await registerUser(t.app);
    await register(user.token, RING, `ring-a-${user.id}`);
    await register(user.token, RING, `ring-b-${user.id}`);
    const id = await api().send({
      channel: 'ring',
      users: [user.id],
      title: 'Doorbell',
      localized: { zh: { title: '门铃' } },
      data: { uid: 'U1' },
    });
    const result = await api().settled(id);
    expect(result.deliveries.map((delivery) => delivery.status)).toEqual(['sent', 'sent']);
    const requests = [...sentTo(`ring-a-${user.id}`), ...sentTo(`ring-b-${user.id}`)];
    expect(requests.map((received) => received.tokens.length)).toEqual([1, 1]);
    const [received] = requests;
    expect(received?.headers.authorization).toMatch(/^Bearer honor-at-/);
    expect(received?.body?.android).toEqual({
      ttl: '30s',
      category: 'VOIP',
      notification: {
        title: '门铃',
        body: '门铃',
        clickAction: { type: 3 },
        importance: 'NORMAL',
        channelId: 'doorbell_calls',
        tag: id,
      },
    });
    expect(JSON.parse(String(received?.body?.data))).toMatchObject({
      uid: 'U1',
      ring_id: id,
      channel: 'ring',
    });
  });

  it('delivers a message as a notification on the message channel', async () => {
    const user = await registerUser(t.app);
    await register(user.token, MESSAGE, `msg-${user.id}`);
    const id = await api().send({ channel: 'message', users: [user.id], title: 'Battery low', body: 'Lock' });
    const result = await api().settled(id);
    expect(result.deliveries[0]).toMatchObject({ status: 'sent', provider_message_id: expect.any(String) });
    const [received] = sentTo(`msg-${user.id}`);
    expect(received?.body?.android).toEqual({
      ttl: '86400s',
      notification: {
        title: 'Battery low',
        body: 'Lock',
        clickAction: { type: 3 },
        importance: 'NORMAL',
        channelId: 'doorbell_alerts',
      },
    });
  });

  it('sends a message to 40 phones in one request, and removes exactly the expireTokens', async () => {
    const user = await registerUser(t.app);
    const tokens = Array.from({ length: 40 }, (_, i) => `fan-${user.id}-${String(i).padStart(2, '0')}`);
    for (const token of tokens) await register(user.token, MESSAGE, token);
    const [gone1, gone2, failing] = [tokens[3] ?? '', tokens[17] ?? '', tokens[30] ?? ''];
    honor.script(gone1, ['expire']);
    honor.script(gone2, ['expire']);
    honor.script(failing, ['fail']);
    const before = honor.requestCount;
    const id = await api().send({ channel: 'message', users: [user.id], body: 'Motion at the door' });
    const view = await waitFor(id, 'the batch answer', (current) =>
      current.deliveries.every((delivery) => delivery.status !== 'queued' && delivery.status !== 'sending'),
    );
    expect(honor.requestCount - before).toBe(1);
    expect(sentTo(gone1)[0]?.tokens).toHaveLength(40);
    const byToken = Object.fromEntries(view.deliveries.map((delivery) => [delivery.token, delivery]));
    expect(byToken[gone1]).toMatchObject({ status: 'invalid_token', reason: 'expire_token' });
    expect(byToken[gone2]).toMatchObject({ status: 'invalid_token', reason: 'expire_token' });
    expect(byToken[failing]).toMatchObject({ status: 'retrying', reason: 'fail_token' });
    expect(view.deliveries.filter((delivery) => delivery.status === 'sent')).toHaveLength(37);
    expect(await tokensOf(user.token, MESSAGE)).toEqual(
      tokens.filter((token) => token !== gone1 && token !== gone2),
    );

    t.clock.advance(5_000);
    const settled = await api().settled(id);
    expect(settled.deliveries.find((delivery) => delivery.token === failing)?.status).toBe('sent');
  });

  it('fetches a new access token when Honor answers "Oauth Token expired"', async () => {
    const user = await registerUser(t.app);
    await register(user.token, MESSAGE, `expiry-${user.id}`);
    const issued = honor.tokensIssued;
    honor.expireAccessTokens();
    const id = await api().send({ channel: 'message', users: [user.id], body: 'x' });
    const result = await api().settled(id);
    expect(result.deliveries[0]?.status).toBe('sent');
    expect(honor.tokensIssued).toBe(issued + 1);
    expect(sentTo(`expiry-${user.id}`).map((received) => received.code)).toEqual([80200003, 200]);
  });

  it('retries a daily quota after midnight in China', async () => {
    const user = await registerUser(t.app);
    await register(user.token, MESSAGE, `quota-${user.id}`);
    honor.script(`quota-${user.id}`, ['QUOTA_EXCEEDED']);
    const id = await api().send({ channel: 'message', users: [user.id], body: 'x' });
    await waitFor(id, 'the quota answer', (view) => view.deliveries[0]?.status === 'retrying');
    const midnight =
      (Math.floor((t.clock.now() + 8 * 3600_000) / 86_400_000) + 1) * 86_400_000 - 8 * 3600_000;
    t.clock.advance(midnight - t.clock.now() - 60_000);
    expect(sentTo(`quota-${user.id}`)).toHaveLength(1);
    t.clock.advance(60_000);
    const result = await api().settled(id);
    expect(result.deliveries[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(sentTo(`quota-${user.id}`).map((received) => received.code)).toEqual([80300009, 200]);
  });

  it('flags the app when Honor refuses the client secret', async () => {
    const wrong = 'com.example.honor.wrong-secret';
    await putApp(wrong, { ...honor.settings(), client_secret: 'not-the-console-secret' });
    const user = await registerUser(t.app);
    await register(user.token, MESSAGE, `creds-${user.id}`, { bundleid: wrong });
    const id = await api().send({ channel: 'message', users: [user.id], bundleid: wrong, body: 'x' });
    const result = await api().settled(id);
    expect(result.deliveries[0]).toMatchObject({ status: 'failed', reason: 'oauth_unauthorized_client' });
    const app = await eventually(async () => {
      const view = json<{ providers: { honor: { flagged: { reason: string } | null } } }>(
        await t.app.inject({
          method: 'GET',
          url: `/v1/admin/apps/${wrong}`,
          headers: { authorization: `Bearer ${key}` },
        }),
      );
      return view.providers.honor.flagged === null ? undefined : view;
    }, 'the flag');
    expect(app.providers.honor.flagged?.reason).toBe('oauth_unauthorized_client');
    expect(JSON.stringify(app)).not.toContain('not-the-console-secret');
  });

  it('works with the other host family’s token endpoint', async () => {
    const other = 'com.example.honor.global';
    await putApp(other, honor.settings('honor'));
    const user = await registerUser(t.app);
    await register(user.token, MESSAGE, `family-${user.id}`, { bundleid: other });
    const before = honor.tokenRequests.length;
    const id = await api().send({ channel: 'message', users: [user.id], bundleid: other, body: 'x' });
    expect((await api().settled(id)).deliveries[0]?.status).toBe('sent');
    expect(honor.tokenRequests.slice(before).map((request) => request.family)).toEqual(['honor']);
  });

  it('refuses settings Honor could not use with a 400 that does not repeat the secret', async () => {
    const response = await t.app.inject({
      method: 'PUT',
      url: '/v1/admin/apps/com.example.honor.bad',
      headers: { authorization: `Bearer ${key}` },
      payload: { honor: { ...honor.settings(), auth_url: 'http://iam.example/token' } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatch(/auth_url must be an https URL/);
    expect(response.body).not.toContain(honor.clientSecret);
  });
});
