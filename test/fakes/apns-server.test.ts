import { sign } from 'node:crypto';
import { type ClientHttp2Session, connect, type OutgoingHttpHeaders } from 'node:http2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.js';
import { apnsFixtures, TEST_APNS_BUNDLE_ID, TEST_APNS_KEY_ID, TEST_APNS_TEAM_ID } from './apns-fixtures.js';
import { type FakeApns, type ReceivedApnsRequest, startFakeApns } from './apns-server.js';

/** The fake seen from a bare HTTP/2 client: every header and byte as the test writes it. */

const token = 'ab'.repeat(32);
const apnsId = '6f1c2a4e-9b7d-4c3e-8a5f-0d1e2f3a4b5c';

let clock: ManualClock;
let fake: FakeApns;
let session: ClientHttp2Session;

function jwt(
  claims: { iss?: string; iat?: number } = {},
  kid = TEST_APNS_KEY_ID,
  key = apnsFixtures.signingKey,
): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'ES256', kid })}.${part({
    iss: TEST_APNS_TEAM_ID,
    iat: Math.floor(clock.now() / 1000),
    ...claims,
  })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

interface Answer {
  status: number;
  reason: string | undefined;
  apnsId: string | undefined;
  body: string;
}

function post(headers: OutgoingHttpHeaders, body: string, path = `/3/device/${token}`): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, ...headers });
    let status = 0;
    let id: string | undefined;
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (response) => {
      status = Number(response[':status']);
      id = typeof response['apns-id'] === 'string' ? response['apns-id'] : undefined;
    });
    stream.on('data', (chunk: string) => {
      text += chunk;
    });
    stream.on('error', reject);
    stream.on('end', () => {
      const reason = text === '' ? undefined : (JSON.parse(text) as { reason: string }).reason;
      resolve({ status, reason, apnsId: id, body: text });
    });
    stream.end(body);
  });
}

const alert = (overrides: OutgoingHttpHeaders = {}): OutgoingHttpHeaders => ({
  authorization: `bearer ${jwt()}`,
  'apns-topic': TEST_APNS_BUNDLE_ID,
  'apns-push-type': 'alert',
  'apns-priority': '10',
  'apns-expiration': '0',
  'apns-id': apnsId,
  ...overrides,
});
const payload = JSON.stringify({ aps: { alert: { title: 'Hi' } } });

beforeEach(async () => {
  clock = new ManualClock();
  fake = await startFakeApns({ clock });
  session = connect(fake.url, { ca: fake.ca });
  session.on('error', () => {});
});

afterEach(async () => {
  session.destroy();
  await fake.close();
});

describe('fake APNs', () => {
  it('answers 200 with the apns-id echoed, and records the request', async () => {
    const events: ReceivedApnsRequest[] = [];
    fake.on('request', (request) => events.push(request));
    expect(await post(alert(), payload)).toEqual({ status: 200, reason: undefined, apnsId, body: '' });
    const [request] = fake.received;
    expect(request).toMatchObject({
      seq: 1,
      connection: 1,
      method: 'POST',
      path: `/3/device/${token}`,
      token,
      payload: { aps: { alert: { title: 'Hi' } } },
      jwtHeader: { alg: 'ES256', kid: TEST_APNS_KEY_ID },
      jwtClaims: { iss: TEST_APNS_TEAM_ID },
      timestamp: clock.now(),
      answer: { status: 200, reason: undefined, apnsId },
    });
    expect(events).toEqual([request]);
    expect(fake.distinctJwts()).toBe(1);
  });

  it('generates an apns-id when none is sent', async () => {
    const { 'apns-id': _omitted, ...headers } = alert();
    const answer = await post(headers, payload);
    expect(answer.status).toBe(200);
    expect(answer.apnsId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('checks the provider token', async () => {
    const { authorization: _none, ...anonymous } = alert();
    expect((await post(anonymous, payload)).reason).toBe('MissingProviderToken');
    const other = jwt({}, 'OTHERKEY12');
    expect((await post(alert({ authorization: `bearer ${other}` }), payload)).reason).toBe(
      'InvalidProviderToken',
    );
    expect(
      (await post(alert({ authorization: `bearer ${jwt({ iss: 'OTHERTEAM1' })}` }), payload)).reason,
    ).toBe('InvalidProviderToken');
    const tampered = `${jwt().slice(0, -4)}AAAA`;
    expect((await post(alert({ authorization: `bearer ${tampered}` }), payload)).status).toBe(403);
    expect((await post(alert({ authorization: 'bearer nonsense' }), payload)).reason).toBe(
      'InvalidProviderToken',
    );
    const old = jwt({ iat: Math.floor(clock.now() / 1000) - 3601 });
    expect(await post(alert({ authorization: `bearer ${old}` }), payload)).toMatchObject({
      status: 403,
      reason: 'ExpiredProviderToken',
    });
    const young = jwt({ iat: Math.floor(clock.now() / 1000) - 3599 });
    expect((await post(alert({ authorization: `bearer ${young}` }), payload)).status).toBe(200);
  });

  it('ages tokens by its clock', async () => {
    const issued = jwt();
    expect((await post(alert({ authorization: `bearer ${issued}` }), payload)).status).toBe(200);
    clock.advance(3_601_000);
    expect((await post(alert({ authorization: `bearer ${issued}` }), payload)).reason).toBe(
      'ExpiredProviderToken',
    );
  });

  it('checks path, token, topic and push type', async () => {
    expect((await post(alert(), payload, '/3/device/abc')).reason).toBe('BadDeviceToken');
    expect((await post(alert(), payload, '/3/device/zz')).reason).toBe('BadDeviceToken');
    expect(await post(alert(), payload, '/3/other')).toMatchObject({ status: 404, reason: 'BadPath' });
    const { 'apns-topic': _topic, ...noTopic } = alert();
    expect((await post(noTopic, payload)).reason).toBe('MissingTopic');
    expect((await post(alert({ 'apns-push-type': 'voip' }), payload)).reason).toBe('DeviceTokenNotForTopic');
    expect((await post(alert({ 'apns-topic': `${TEST_APNS_BUNDLE_ID}.voip` }), payload)).reason).toBe(
      'InvalidPushType',
    );
    expect((await post(alert({ 'apns-push-type': 'fax' }), payload)).reason).toBe('InvalidPushType');
    const voip = alert({ 'apns-push-type': 'voip', 'apns-topic': `${TEST_APNS_BUNDLE_ID}.voip` });
    expect((await post(voip, payload)).status).toBe(200);
  });

  it('checks headers and payload', async () => {
    expect((await post(alert({ 'apns-priority': '7' }), payload)).reason).toBe('BadPriority');
    expect((await post(alert({ 'apns-expiration': 'soon' }), payload)).reason).toBe('BadExpirationDate');
    expect((await post(alert({ 'apns-id': 'not-a-uuid' }), payload)).reason).toBe('BadMessageId');
    expect((await post(alert({ 'apns-collapse-id': 'x'.repeat(65) }), payload)).reason).toBe('BadCollapseId');
    expect((await post(alert({ 'apns-collapse-id': 'x'.repeat(64) }), payload)).status).toBe(200);
    expect((await post(alert(), '')).reason).toBe('PayloadEmpty');
    const big = (bytes: number) => JSON.stringify({ aps: {}, blob: 'x'.repeat(bytes - 20) });
    expect(Buffer.byteLength(big(4096))).toBe(4096);
    expect((await post(alert(), big(4096))).status).toBe(200);
    expect(await post(alert(), big(4097))).toMatchObject({ status: 413, reason: 'PayloadTooLarge' });
    const voip = alert({ 'apns-push-type': 'voip', 'apns-topic': `${TEST_APNS_BUNDLE_ID}.voip` });
    expect((await post(voip, big(5120))).status).toBe(200);
    expect((await post(voip, big(5121))).reason).toBe('PayloadTooLarge');
  });

  it('plays scripted answers in order, then answers normally', async () => {
    fake.script(token, [
      { status: 410, reason: 'Unregistered' },
      { status: 429, reason: 'TooManyRequests', headers: { 'retry-after': '7' } },
    ]);
    const gone = await post(alert(), payload);
    expect(gone).toMatchObject({ status: 410, reason: 'Unregistered' });
    expect(JSON.parse(gone.body)).toEqual({ reason: 'Unregistered', timestamp: clock.now() });
    expect(await post(alert(), payload)).toMatchObject({ status: 429, reason: 'TooManyRequests' });
    expect((await post(alert(), payload)).status).toBe(200);
  });

  it('answers 410 for an unregistered token until reset', async () => {
    fake.unregister(token);
    expect((await post(alert(), payload)).status).toBe(410);
    expect((await post(alert(), payload)).status).toBe(410);
    fake.reset();
    expect((await post(alert(), payload)).status).toBe(200);
    expect(fake.received).toHaveLength(1);
  });

  it('answers 503 during an outage, for its duration by its clock', async () => {
    fake.setOutage('unavailable', 10_000);
    expect(await post(alert(), payload)).toMatchObject({ status: 503, reason: 'ServiceUnavailable' });
    clock.advance(10_000);
    expect((await post(alert(), payload)).status).toBe(200);
  });

  it('refuses token churn when asked to (TooManyProviderTokenUpdates)', async () => {
    await fake.close();
    fake = await startFakeApns({ clock, tokenUpdateMinIntervalMs: 20 * 60_000 });
    session.destroy();
    session = connect(fake.url, { ca: fake.ca });
    session.on('error', () => {});
    const first = jwt();
    expect((await post(alert({ authorization: `bearer ${first}` }), payload)).status).toBe(200);
    clock.advance(60_000);
    const second = jwt();
    expect(await post(alert({ authorization: `bearer ${second}` }), payload)).toMatchObject({
      status: 429,
      reason: 'TooManyProviderTokenUpdates',
    });
    expect((await post(alert({ authorization: `bearer ${first}` }), payload)).status).toBe(200);
    clock.advance(20 * 60_000);
    const third = jwt();
    expect((await post(alert({ authorization: `bearer ${third}` }), payload)).status).toBe(200);
    expect(fake.distinctJwts()).toBe(3);
  });
});
