import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_APNS_BUNDLE_ID, testApnsTokenCredentials } from '../fakes/apns-fixtures.js';
import { type FakeApns, startFakeApns } from '../fakes/apns-server.js';
import { json, registerUser, type TestApp, testDialects } from '../helpers/app.js';
import { ManualClock } from '../helpers/clock.js';
import { deliveryCalls, startDeliveryApp } from '../helpers/delivery.js';

const bundle = TEST_APNS_BUNDLE_ID;
const hex = (seed: number, fill = 'a') => seed.toString(16).padStart(8, '0').padEnd(64, fill);

describe.each(testDialects())('delivery through APNs on %s', (dialect) => {
  let t: TestApp;
  let production: FakeApns;
  let sandbox: FakeApns;
  let key: string;
  const calls = deliveryCalls(() => ({ t, key }));
  const { send, settled } = calls;

  beforeAll(async () => {
    const clock = new ManualClock();
    production = await startFakeApns({ clock });
    sandbox = await startFakeApns({ clock });
    ({ t, key } = await startDeliveryApp(dialect, clock));
    const put = await calls.putApp(bundle, { apns: testApnsTokenCredentials(production, sandbox) });
    expect(json<{ providers: { apns: Record<string, unknown> } }>(put).providers.apns).toMatchObject({
      auth: 'token',
      team_id: 'TEAMID1234',
      key_id: 'KEYID12345',
    });
    expect(put.body).not.toContain('PRIVATE KEY');
  });
  afterAll(async () => {
    await t.close();
    await production.close();
    await sandbox.close();
  });

  // The seed's registration call, as an iPhone makes it.
  const register = async (token: string, url: string, pushToken: string, dev = 0) => {
    const response = await t.app.inject({
      method: 'POST',
      url,
      headers: { accept: 'application/json', 'content-type': 'application/json', token },
      payload: JSON.stringify({
        push_token: pushToken,
        language: 'en',
        id: 0,
        dev,
        bundleid: bundle,
        os: 'iOS',
        os_token: '',
        push_platform: '',
      }),
    });
    expect(response.statusCode).toBe(201);
  };

  it('rings over VoIP and shows messages as alerts, with the JWT the fake verifies', async () => {
    const user = await registerUser(t.app);
    const ringToken = hex(user.id, 'b');
    const messageToken = hex(user.id, 'c');
    await register(user.token, '/v1/api/user/token', ringToken);
    await register(user.token, '/v1/api/user/message/token', messageToken);

    const ring = await send({
      channel: 'ring',
      users: [user.id],
      title: 'Doorbell',
      body: 'Front door',
      data: { uid: 'U' },
    });
    const ringView = await settled(ring);
    expect(ringView.deliveries[0]).toMatchObject({
      status: 'sent',
      provider_message_id: ringView.deliveries[0]?.id,
    });
    const voip = production.received.find((entry) => entry.token === ringToken);
    expect(voip?.headers).toMatchObject({
      'apns-push-type': 'voip',
      'apns-topic': `${bundle}.voip`,
      'apns-priority': '10',
      'apns-id': ringView.deliveries[0]?.id,
      'apns-collapse-id': ring,
      'apns-expiration': String(Math.floor((t.clock.now() + 30_000) / 1000)),
    });
    expect(voip?.payload).toMatchObject({
      aps: { alert: { title: 'Doorbell', body: 'Front door' } },
      uid: 'U',
      ring_id: ring,
    });
    expect(voip?.answer.status).toBe(200);
    expect(voip?.jwtHeader).toMatchObject({ alg: 'ES256', kid: 'KEYID12345' });

    const message = await send({ channel: 'message', users: [user.id], title: 'Battery low', badge: 1 });
    await settled(message);
    const alert = production.received.find((entry) => entry.token === messageToken);
    expect(alert?.headers).toMatchObject({ 'apns-push-type': 'alert', 'apns-topic': bundle });
    expect(alert?.payload).toMatchObject({ aps: { alert: { title: 'Battery low' }, badge: 1 } });
  });

  it('sends development builds (dev: 1) to the sandbox host', async () => {
    const user = await registerUser(t.app);
    const token = hex(user.id, 'd');
    await register(user.token, '/v1/api/user/message/token', token, 1);
    await settled(await send({ channel: 'message', users: [user.id], body: 'x' }));
    expect(sandbox.received.some((entry) => entry.token === token)).toBe(true);
    expect(production.received.some((entry) => entry.token === token)).toBe(false);
  });

  it('removes a token APNs reports Unregistered (410) and keeps the others', async () => {
    const user = await registerUser(t.app);
    const gone = hex(user.id, 'e');
    const kept = hex(user.id, 'f');
    await register(user.token, '/v1/api/user/message/token', gone);
    await register(user.token, '/v1/api/user/message/token', kept);
    production.unregister(gone);
    const view = await settled(await send({ channel: 'message', users: [user.id], body: 'x' }));
    expect(view.deliveries.map((delivery) => [delivery.status, delivery.reason]).sort()).toEqual([
      ['invalid_token', 'Unregistered'],
      ['sent', null],
    ]);
    const rows = json<Array<{ push_token: string }>>(
      await t.app.inject({
        method: 'GET',
        url: '/v1/api/user/message/token',
        headers: { token: user.token },
      }),
    );
    expect(rows.map((row) => row.push_token)).toEqual([kept]);
  });

  it('keeps one JWT for every connection and send', async () => {
    expect(production.distinctJwts()).toBe(1);
  });
});
