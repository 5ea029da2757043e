import { describe, expect, it } from 'vitest';
import { json, registerUser, testDialects } from '../helpers/app.js';
import {
  adminKey,
  apns,
  bundle,
  read,
  registerToken,
  send,
  sendKey,
  settled,
  t,
  useDeliveryTestbed,
} from '../helpers/delivery-pipeline.js';

describe.each(testDialects())('delivery pipeline on %s', (dialect) => {
  useDeliveryTestbed(dialect);

  it('returns the same notification for the same idempotency key', async () => {
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/message/token', {
      push_token: `idem-${user.id}`,
      language: 'en',
    });
    const payload = {
      channel: 'message',
      users: [user.id],
      body: 'once',
      idempotency_key: `alarm-${user.id}`,
    };
    const first = json<{ id: string }>(await send(payload));
    const second = await send(payload);
    expect(second.statusCode).toBe(202);
    expect(json<{ id: string }>(second).id).toBe(first.id);
    await settled(first.id);
    expect(apns.sent.filter((message) => message.token === `idem-${user.id}`)).toHaveLength(1);
    t.clock.advance(24 * 3600 * 1000 + 1);
    expect(json<{ id: string }>(await send(payload)).id).not.toBe(first.id);
  });

  it('cancels a ring: a cancel to the phones it reached, with the same collapse id', async () => {
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/token', { push_token: `c1-${user.id}`, language: 'en' });
    await registerToken(user.token, '/v1/api/user/token', { push_token: `c2-${user.id}`, language: 'en' });
    const { id } = json<{ id: string }>(
      await send({ channel: 'ring', users: [user.id], collapse_id: 'call-42', data: { uid: 'X' } }),
    );
    await settled(id);
    const cancel = await t.app.inject({
      method: 'POST',
      url: `/v1/push/${id}/cancel`,
      headers: { authorization: `Bearer ${sendKey}` },
    });
    expect(cancel.statusCode).toBe(202);
    const cancelled = json<{ id: string; targets: number }>(cancel);
    expect(cancelled.targets).toBe(2);
    await settled(cancelled.id);
    const cancels = apns.sent.filter((message) => message.data.type === 'cancel');
    expect(cancels.map((message) => message.token).sort()).toEqual([`c1-${user.id}`, `c2-${user.id}`]);
    expect(cancels[0]).toMatchObject({
      channel: 'ring',
      collapseId: 'call-42',
      data: { uid: 'X', type: 'cancel', ring_id: id },
    });
    expect((await read(id)).state).toBe('cancelled');

    const message = json<{ id: string }>(await send({ channel: 'message', users: [user.id] }));
    const refused = await t.app.inject({
      method: 'POST',
      url: `/v1/push/${message.id}/cancel`,
      headers: { authorization: `Bearer ${sendKey}` },
    });
    expect(refused.statusCode).toBe(409);
  });

  it('shows and cancels a notification only to the key that sent it, and to admin keys', async () => {
    const other = (await t.services.apiKeys.create('another cloud', ['send'])).key;
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/token', { push_token: `own-${user.id}`, language: 'en' });
    const { id } = json<{ id: string }>(await send({ channel: 'ring', users: [user.id] }));
    await settled(id);
    const as = (key: string, method: 'GET' | 'POST', url: string) =>
      t.app.inject({ method, url, headers: { authorization: `Bearer ${key}` } });
    const notFound = { message: 'no data error', code: 'NOT_FOUND' };
    for (const url of [`/v1/push/${id}`, `/v1/push/${id}?after=0&limit=1`]) {
      const foreign = await as(other, 'GET', url);
      expect(foreign.statusCode).toBe(404);
      expect(json(foreign)).toEqual(notFound);
      expect((await as(sendKey, 'GET', url)).statusCode).toBe(200);
      expect((await as(adminKey, 'GET', url)).statusCode).toBe(200);
    }
    const foreignCancel = await as(other, 'POST', `/v1/push/${id}/cancel`);
    expect(foreignCancel.statusCode).toBe(404);
    expect(json(foreignCancel)).toEqual(notFound);
    expect((await read(id)).state).toBe('done');

    const cancel = await as(sendKey, 'POST', `/v1/push/${id}/cancel`);
    expect(cancel.statusCode).toBe(202);
    const cancelId = json<{ id: string }>(cancel).id;
    expect((await as(other, 'GET', `/v1/push/${cancelId}`)).statusCode).toBe(404);
    expect((await as(sendKey, 'GET', `/v1/push/${cancelId}`)).statusCode).toBe(200);

    const byOther = json<{ id: string }>(await send({ channel: 'ring', users: [user.id] }, other));
    expect((await as(sendKey, 'GET', `/v1/push/${byOther.id}`)).statusCode).toBe(404);
    expect((await as(sendKey, 'POST', `/v1/push/${byOther.id}/cancel`)).statusCode).toBe(404);
    expect((await as(adminKey, 'POST', `/v1/push/${byOther.id}/cancel`)).statusCode).toBe(202);
    expect((await as(other, 'GET', `/v1/push/${byOther.id}`)).json()).toMatchObject({ state: 'cancelled' });
  });

  it('fans out to more users than one page holds', async () => {
    const db = t.database.handle.db;
    const now = t.clock.now();
    const userIds: number[] = [];
    for (let batch = 0; batch < 3; batch += 1) {
      const rows = Array.from({ length: 450 }, (_, index) => ({
        username: `page_${batch}_${index}_${now}`.slice(0, 32),
        username_key: `page_${batch}_${index}_${now}`.slice(0, 32),
        email: null,
        phone: null,
        password_hash: null,
        created_at: now,
        updated_at: now,
      }));
      const inserted = await db.insertInto('users').values(rows).returning('id').execute();
      userIds.push(...inserted.map((row) => row.id));
    }
    for (let index = 0; index < userIds.length; index += 200) {
      await db
        .insertInto('registrations')
        .values(
          userIds.slice(index, index + 200).map((userId) => ({
            user_id: userId,
            session_id: null,
            channel: 'message' as const,
            push_token: `page-${userId}`,
            language: 'en',
            dev: 0,
            bundleid: bundle,
            os: '',
            os_token: '',
            push_platform: '',
            phone_model: '',
            provider: 'apns',
            provider_token: `page-${userId}`,
            apns_environment: 'production',
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    }
    const accepted = await send({
      channel: 'message',
      users: [...userIds, ...userIds.slice(0, 10), 99_999_999],
      body: 'all',
    });
    expect(accepted.statusCode).toBe(202);
    const { id, targets } = json<{ id: string; targets: number }>(accepted);
    expect(targets).toBe(1350);
    const result = await settled(id);
    expect(result.counts).toEqual({ sent: 1350 });
    expect(new Set(apns.sent.map((message) => message.token)).size).toBe(1350);
  });

  it('prunes notifications, deliveries and inbox entries past the retention', async () => {
    const user = await registerUser(t.app);
    await registerToken(user.token, '/v1/api/user/message/token', {
      push_token: `old-${user.id}`,
      language: 'en',
    });
    const old = json<{ id: string }>(await send({ channel: 'message', users: [user.id], body: 'old' })).id;
    await settled(old);
    t.clock.advance(7 * 24 * 3600 * 1000 + 1);
    const recent = json<{ id: string }>(await send({ channel: 'message', users: [user.id], body: 'new' })).id;
    await settled(recent);
    await t.services.worker.prune();
    const readStatus = async (id: string) =>
      (
        await t.app.inject({
          method: 'GET',
          url: `/v1/push/${id}`,
          headers: { authorization: `Bearer ${sendKey}` },
        })
      ).statusCode;
    expect(await readStatus(old)).toBe(404);
    expect(await readStatus(recent)).toBe(200);
    const orphans = await t.database.handle.db
      .selectFrom('deliveries')
      .select('id')
      .where('notification_id', '=', old)
      .execute();
    expect(orphans).toEqual([]);
  });

  it('guards the send and admin APIs with scoped keys', async () => {
    expect((await send({ channel: 'ring', users: [1] }, 'not-a-key')).statusCode).toBe(401);
    const noKey = await t.app.inject({
      method: 'POST',
      url: '/v1/push',
      payload: { channel: 'ring', users: [1] },
    });
    expect(noKey.statusCode).toBe(401);
    expect(json(noKey)).toEqual({ message: 'no api key', code: 'NO_API_KEY' });
    const admin = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/apps',
      headers: { authorization: `Bearer ${sendKey}` },
    });
    expect(admin.statusCode).toBe(403);
    const revoked = await t.services.apiKeys.create('temporary', ['send']);
    await t.app.inject({
      method: 'DELETE',
      url: `/v1/admin/keys/${revoked.id}`,
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect((await send({ channel: 'ring', users: [1] }, revoked.key)).statusCode).toBe(401);
  });

  it('keeps secrets write-only: GET shows a fingerprint, the table holds ciphertext', async () => {
    const view = json<{ providers: { apns: Record<string, unknown> } }>(
      await t.app.inject({
        method: 'GET',
        url: `/v1/admin/apps/${bundle}`,
        headers: { authorization: `Bearer ${adminKey}` },
      }),
    );
    expect(view.providers.apns).toEqual({
      kind: 'scripted',
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      flagged: null,
    });
    const row = await t.database.handle.db
      .selectFrom('apps')
      .selectAll()
      .where('bundleid', '=', bundle)
      .executeTakeFirstOrThrow();
    expect(row.secrets).toMatch(/^v1\./);
    expect(row.secrets).not.toContain('apns-secret-value');
    const bad = await t.app.inject({
      method: 'PUT',
      url: `/v1/admin/apps/${bundle}`,
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { apns: { nope: true } },
    });
    expect(bad.statusCode).toBe(400);
  });
});
