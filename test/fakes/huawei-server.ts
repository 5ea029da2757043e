/**
 * A fake Huawei Push Kit for tests and benchmarks: the OAuth 2.0 token endpoint
 * (client-credentials grant, checked against the fake's app) and the v1 send endpoint, over
 * HTTPS on 127.0.0.1 with the test CA of test/fixtures/fcm/.
 *
 * Access tokens it issues expire (answered 80200003 afterwards, like Push Kit); the request
 * body is checked like Push Kit checks it (structure, field types, token count, size); every
 * token succeeds unless scripted. Answers carry Push Kit's real codes and bodies
 * (reference/providers.md §3.4), partial successes included:
 * `{"code":"80100000","msg":"{\"success\":1,\"failure\":1,\"illegal_tokens\":[\"…\"]}"}`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.js';
import { HUAWEI_CATEGORIES } from '../../src/delivery/providers/huawei/huawei.config.js';
import { HttpsFake, TEST_CA } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';

/** The test CA: trust it (the settings' `ca`) to talk to the fake. */
export const FAKE_HUAWEI_CA = TEST_CA;

export const FAKE_HUAWEI_APP_ID = '101234567';
export const FAKE_HUAWEI_CLIENT_SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

interface Canned {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

const pushKit = (status: number, code: string, msg: string, headers?: Record<string, string>): Canned => ({
  status,
  body: JSON.stringify({ code, msg, requestId: '0' }),
  ...(headers !== undefined ? { headers } : {}),
});

/** Push Kit's error answers, by code (and FLOW_CONTROL: HTTP 503 without a body code). */
export const FAKE_HUAWEI_ERRORS = {
  '80100001': pushKit(400, '80100001', 'Some request parameters are incorrect.'),
  '80100002': pushKit(
    400,
    '80100002',
    'The number of tokens must be 1 when a message is sent in synchronous mode.',
  ),
  '80100003': pushKit(400, '80100003', 'Incorrect message structure.'),
  '80100004': pushKit(400, '80100004', 'The message expiration time is earlier than the current time.'),
  '80100013': pushKit(400, '80100013', 'The collapse_key field is invalid.'),
  '80100016': pushKit(400, '80100016', 'The message contains sensitive information.'),
  '80100017': pushKit(400, '80100017', 'A maximum of 100 topic-based messages can be sent at the same time.'),
  '80100018': pushKit(
    400,
    '80100018',
    'The signature of the message body reviewed by a third party is incorrect.',
  ),
  '80200001': pushKit(401, '80200001', 'Oauth authentication error.'),
  '80200003': pushKit(401, '80200003', 'Oauth Token expired.'),
  '80300002': pushKit(403, '80300002', 'The current app does not have the permission to send messages.'),
  '80300007': pushKit(400, '80300007', 'All tokens are invalid.'),
  '80300008': pushKit(400, '80300008', 'The message body size exceeds the default value.'),
  '80300010': pushKit(400, '80300010', 'The number of tokens in the message body exceeds the default value.'),
  '80300011': pushKit(403, '80300011', 'You do not have the permission to send high-priority messages.'),
  '80300013': pushKit(400, '80300013', 'The receipt URL is invalid.'),
  '80600003': pushKit(401, '80600003', 'Failed to request the OAuth service.'),
  '81000001': pushKit(500, '81000001', 'System internal error.'),
  FLOW_CONTROL: { status: 503, body: 'Service Unavailable', headers: { 'retry-after': '60' } },
} as const satisfies Record<string, Canned>;

export type FakeHuaweiErrorName = keyof typeof FAKE_HUAWEI_ERRORS;

/**
 * How the fake answers:
 * - `'ok'`: success; `'invalid'` (per token only): the token is illegal — listed in an
 *   80100000 partial success, or 80300007 when every token of the request is;
 * - an error name, or `{error, retryAfter}` (`retryAfter: null` drops a canned Retry-After);
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502;
 * - `{delayMs, answer}`: that answer after a delay; `'hang'`: never; `'reset'`: drops the connection.
 */
export type FakeHuaweiAnswer =
  | 'ok'
  | 'invalid'
  | 'hang'
  | 'reset'
  | FakeHuaweiErrorName
  | { error: FakeHuaweiErrorName; retryAfter?: string | number | null }
  | { status: number; body: string; headers?: Record<string, string> }
  | { delayMs: number; answer: FakeHuaweiAnswer };

/** One request to the send endpoint, as received. */
export interface FakeHuaweiReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  /** The `{app_id}` of the URL. */
  appId: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it did not parse). */
  body: unknown;
  /** `message.token`. */
  tokens: string[];
  /** The HTTP status answered (0: `hang` / `reset`) and the body's code. */
  status: number;
  code: string | undefined;
  /** The tokens answered as illegal. */
  illegalTokens: string[];
}

/** One request to the token endpoint. */
export interface FakeHuaweiTokenRequest {
  at: number;
  clientId: string | undefined;
  status: number;
  accessToken: string | undefined;
}

export interface FakeHuaweiOptions {
  /** The fake's idea of now (token expiry). Default: the system clock. */
  clock?: Clock;
  appId?: string;
  /** Default: the app id (an AppGallery Connect app). */
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of issued access tokens. Default 3600 s, like Huawei. */
  tokenLifetimeSeconds?: number;
  /** Whether the app holds the high-priority (urgency HIGH) permission. Default true. */
  highPriorityAllowed?: boolean;
  /** Added before every send answer (benchmarks). Default 0. */
  latencyMs?: number;
  /** Keep every request in `received` / `tokenRequests`. Default true; off for benchmarks. */
  record?: boolean;
}

interface FakeHuaweiEvents {
  request: [FakeHuaweiReceived];
  token: [FakeHuaweiTokenRequest];
}

const systemClock: Clock = { now: () => Date.now() };
const URGENCIES = new Set(['HIGH', 'NORMAL']);
const IMPORTANCES = new Set(['LOW', 'NORMAL', 'HIGH']);
// The self-classification categories, and PLAY_VOICE (data messages only).
const CATEGORIES = new Set<string>([...HUAWEI_CATEGORIES, 'PLAY_VOICE']);
const NOTIFICATION_STRINGS = ['title', 'body', 'channel_id', 'tag', 'sound', 'icon', 'color', 'image'];

const objectOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/** The checks Push Kit makes on a send body, reduced to what an adapter could get wrong. */
function checkSendBody(body: unknown, highPriorityAllowed: boolean): FakeHuaweiErrorName | undefined {
  const message = objectOf(objectOf(body)?.message);
  if (message === undefined) return '80100003';
  const validateOnly = objectOf(body)?.validate_only;
  if (validateOnly !== undefined && typeof validateOnly !== 'boolean') return '80100003';
  const targets = ['token', 'topic', 'condition'].filter((key) => message[key] !== undefined);
  if (targets.length !== 1) return '80100003';
  const tokens = message.token;
  if (tokens !== undefined) {
    if (!Array.isArray(tokens) || tokens.some((token) => typeof token !== 'string' || token === '')) {
      return '80100003';
    }
    if (tokens.length < 1 || tokens.length > 1000) return '80300010';
  }
  if (message.data !== undefined && typeof message.data !== 'string') return '80100003';
  const common = objectOf(message.notification);
  if (message.notification !== undefined && common === undefined) return '80100003';
  const android = message.android === undefined ? {} : objectOf(message.android);
  if (android === undefined) return '80100003';
  const ttl = android.ttl;
  if (ttl !== undefined) {
    if (typeof ttl !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(ttl)) return '80100003';
    if (Number.parseFloat(ttl) > 1_296_000) return '80100003';
  }
  if (android.urgency !== undefined && !URGENCIES.has(String(android.urgency))) return '80100003';
  if (android.category !== undefined && !CATEGORIES.has(String(android.category))) return '80100003';
  if (android.collapse_key !== undefined && !Number.isInteger(android.collapse_key)) return '80100013';
  const notification = objectOf(android.notification);
  if (android.notification !== undefined && notification === undefined) return '80100003';
  if (notification !== undefined) {
    for (const key of NOTIFICATION_STRINGS) {
      if (notification[key] !== undefined && typeof notification[key] !== 'string') return '80100003';
    }
    // click_action is required for Android notification messages.
    const type = objectOf(notification.click_action)?.type;
    if (typeof type !== 'number' || ![1, 2, 3, 4].includes(type)) return '80100003';
    if (notification.importance !== undefined && !IMPORTANCES.has(String(notification.importance))) {
      return '80100003';
    }
  }
  const isNotification = notification !== undefined || common !== undefined;
  if (isNotification) {
    const title = notification?.title ?? common?.title;
    const text = notification?.body ?? common?.body;
    if (title === undefined && text === undefined) return '80100003';
  } else if (message.data === undefined) {
    return '80100003';
  }
  if (android.urgency === 'HIGH') {
    if (isNotification) return '80100003';
    if (!highPriorityAllowed) return '80300011';
    if (android.category !== 'VOIP' && android.category !== 'PLAY_VOICE') return '80300011';
  }
  if (notification?.importance === 'HIGH' && !highPriorityAllowed) return '80300011';
  const size = Buffer.byteLength(JSON.stringify({ ...message, token: undefined }));
  if (size > 4096) return '80300008';
  return undefined;
}

export class FakeHuawei extends HttpsFake<FakeHuaweiAnswer, FakeHuaweiAnswer, FakeHuaweiEvents> {
  /** The OAuth 2.0 token endpoint (the settings' `auth_url`). */
  readonly authUrl: string;
  readonly ca = FAKE_HUAWEI_CA;
  readonly appId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Every request to the send endpoint, in arrival order (when recording). */
  readonly received: FakeHuaweiReceived[] = [];
  /** Every request to the token endpoint (when recording). */
  readonly tokenRequests: FakeHuaweiTokenRequest[] = [];
  /** Requests to the send endpoint, and the tokens they carried, recorded or not. */
  sendRequests = 0;
  tokensReceived = 0;
  /** Access tokens issued so far. */
  tokensIssued = 0;

  private issued = new Map<string, number>();
  private messageCount = 0;
  private tokenScript: FakeHuaweiAnswer[] = [];
  private readonly clock: Clock;
  private readonly tokenLifetimeSeconds: number;
  private readonly highPriorityAllowed: boolean;
  private readonly latencyMs: number;
  private readonly record: boolean;

  constructor(listener: HttpsListener, options: FakeHuaweiOptions) {
    super(listener);
    this.authUrl = `${this.url}/oauth2/v3/token`;
    this.appId = options.appId ?? FAKE_HUAWEI_APP_ID;
    this.clientId = options.clientId ?? this.appId;
    this.clientSecret = options.clientSecret ?? FAKE_HUAWEI_CLIENT_SECRET;
    this.clock = options.clock ?? systemClock;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
    this.highPriorityAllowed = options.highPriorityAllowed ?? true;
    this.latencyMs = options.latencyMs ?? 0;
    this.record = options.record ?? true;
  }

  /** The settings an app would be configured with (the admin API's `huawei`) to use this fake. */
  settings(): { app_id: string; client_secret: string; url: string; auth_url: string; ca: string } & {
    client_id?: string;
  } {
    return {
      app_id: this.appId,
      ...(this.clientId !== this.appId ? { client_id: this.clientId } : {}),
      client_secret: this.clientSecret,
      url: this.url,
      auth_url: this.authUrl,
      ca: this.ca,
    };
  }

  /** The answers to the next send requests, one each, whatever their tokens (after authentication). */
  scriptNext(answers: readonly FakeHuaweiAnswer[]): void {
    this.nextAnswers.push(...answers);
  }

  /** The next answers of the token endpoint, one per request (`'ok'` = the real checks). */
  scriptTokenEndpoint(answers: readonly FakeHuaweiAnswer[]): void {
    this.tokenScript = [...answers];
  }

  /** Every access token issued so far expires now (sends answer 80200003). */
  expireAccessTokens(): void {
    const now = this.clock.now();
    for (const token of this.issued.keys()) this.issued.set(token, now);
  }

  /** Every access token issued so far is forgotten (sends answer 80200001). */
  revokeAccessTokens(): void {
    this.issued.clear();
  }

  /** Forgets recorded requests, scripts and the outage (not issued tokens or counters). */
  reset(): void {
    this.received.length = 0;
    this.tokenRequests.length = 0;
    this.tokenScript = [];
    this.clearScripts();
  }

  protected handle(request: IncomingMessage, response: ServerResponse, raw: string): void {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (request.method === 'POST' && path === '/oauth2/v3/token') {
      this.token(request, response, raw);
      return;
    }
    const send = /^\/v1\/([^/]+)\/messages:send$/.exec(path);
    if (request.method === 'POST' && send !== null) {
      this.send(request, response, decodeURIComponent(send[1] ?? ''), raw);
      return;
    }
    this.write(request, response, { status: 404, body: '{"error":"Not Found"}' });
  }

  /** Push Kit answers JSON; anything else (a proxy's page, a bare 503) is HTML. */
  protected override contentType = (body: string): string =>
    body.startsWith('{') ? 'application/json;charset=UTF-8' : 'text/html';

  private token(request: IncomingMessage, response: ServerResponse, raw: string): void {
    const now = this.clock.now();
    const form = new URLSearchParams(raw);
    const entry: FakeHuaweiTokenRequest = {
      at: now,
      clientId: form.get('client_id') ?? undefined,
      status: 0,
      accessToken: undefined,
    };
    const scripted = this.tokenScript.shift();
    let answer: FakeHuaweiAnswer;
    if (scripted !== undefined && scripted !== 'ok') {
      answer = scripted;
    } else if (!String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      answer = oauthError(1102, 20001, 'invalid request');
    } else if (form.get('grant_type') !== 'client_credentials') {
      answer = oauthError(1102, 20003, 'unsupported grant type');
    } else if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      // What Huawei's OAuth server answers an unknown client or a wrong secret.
      answer = oauthError(1101, 20152, 'invalid client');
    } else {
      // Huawei's tokens are base64 with `/` and `+`, escaped `\/` in the JSON.
      const accessToken = `DAEDA${randomBytes(24).toString('base64')}/${this.tokensIssued + 1}`;
      this.issued.set(accessToken, now + this.tokenLifetimeSeconds * 1000);
      this.tokensIssued += 1;
      entry.accessToken = accessToken;
      const body = JSON.stringify({
        access_token: accessToken,
        expires_in: this.tokenLifetimeSeconds,
        token_type: 'Bearer',
      }).replaceAll('/', '\\/');
      answer = { status: 200, body };
    }
    const reply = this.resolve(answer);
    entry.status = typeof reply.canned === 'object' ? reply.canned.status : 0;
    if (this.record) this.tokenRequests.push(entry);
    this.emit('token', entry);
    this.write(request, response, reply.canned, reply.delayMs);
  }

  private send(request: IncomingMessage, response: ServerResponse, appId: string, raw: string): void {
    const now = this.clock.now();
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const listed = objectOf(objectOf(body)?.message)?.token;
    const tokens = Array.isArray(listed) ? listed.filter((token) => typeof token === 'string') : [];
    this.sendRequests += 1;
    this.tokensReceived += tokens.length;
    let answer = this.decide(request, appId, body, tokens, now);
    let illegal: string[] = [];
    if (typeof answer === 'object' && 'illegal' in answer) {
      illegal = answer.illegal;
      answer = answer.answer;
    }
    const reply = this.resolve(answer, this.latencyMs);
    const canned = typeof reply.canned === 'object' ? reply.canned : undefined;
    const received: FakeHuaweiReceived = {
      at: now,
      appId,
      headers: request.headers,
      body,
      tokens,
      status: canned?.status ?? 0,
      code: canned === undefined ? undefined : parseCode(canned.body),
      illegalTokens: illegal,
    };
    if (this.record) this.received.push(received);
    this.emit('request', received);
    this.write(request, response, reply.canned, reply.delayMs);
  }

  private decide(
    request: IncomingMessage,
    appId: string,
    body: unknown,
    tokens: string[],
    now: number,
  ): FakeHuaweiAnswer | { answer: FakeHuaweiAnswer; illegal: string[] } {
    if (this.outage !== undefined) return this.outage;
    const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const expiresAt = bearer === undefined ? undefined : this.issued.get(bearer);
    if (expiresAt === undefined || (appId !== this.appId && appId !== this.clientId)) return '80200001';
    if (expiresAt <= now) return '80200003';
    const next = this.nextAnswers.shift();
    if (next !== undefined) return next;
    if (!String(request.headers['content-type']).startsWith('application/json')) return '80100001';
    const problem = checkSendBody(body, this.highPriorityAllowed);
    if (problem !== undefined) return problem;
    const illegal: string[] = [];
    for (const token of tokens) {
      const scripted = this.scripted(token);
      if (scripted === 'invalid') illegal.push(token);
      else if (scripted !== 'ok') return scripted;
    }
    if (illegal.length === 0) return 'ok';
    if (illegal.length === tokens.length) return { answer: '80300007', illegal };
    const msg = JSON.stringify({
      success: tokens.length - illegal.length,
      failure: illegal.length,
      illegal_tokens: illegal,
    });
    return { answer: { status: 200, body: this.reply('80100000', msg) }, illegal };
  }

  private scripted(token: string): FakeHuaweiAnswer {
    return this.scripts.next(token) ?? 'ok';
  }

  private reply(code: string, msg: string): string {
    this.messageCount += 1;
    return JSON.stringify({ code, msg, requestId: `${1_700_000_000_000_000 + this.messageCount}` });
  }

  /** What an answer comes to on the wire: a status, body and headers (or none), and when. */
  private resolve(answer: FakeHuaweiAnswer, delayMs = 0): Reply {
    if (answer === 'hang' || answer === 'reset') return { canned: answer, delayMs };
    if (answer === 'ok' || answer === 'invalid') {
      return { canned: { status: 200, body: this.reply('80000000', 'Success') }, delayMs };
    }
    if (typeof answer === 'string') return { canned: FAKE_HUAWEI_ERRORS[answer], delayMs };
    if ('delayMs' in answer) return this.resolve(answer.answer, delayMs + answer.delayMs);
    if (!('error' in answer)) return { canned: answer, delayMs };
    const base: Canned = FAKE_HUAWEI_ERRORS[answer.error];
    const headers: Record<string, string> = { ...base.headers };
    if (answer.retryAfter === null) delete headers['retry-after'];
    else if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
    return { canned: { ...base, headers }, delayMs };
  }
}

interface Reply {
  canned: Canned | 'hang' | 'reset';
  delayMs: number;
}

function parseCode(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function oauthError(error: number, subError: number, description: string): Canned {
  return {
    status: 400,
    body: JSON.stringify({ sub_error: subError, error_description: description, error }),
  };
}

/** Starts a fake Push Kit on 127.0.0.1, on a free port. */
export async function startFakeHuawei(options: FakeHuaweiOptions = {}): Promise<FakeHuawei> {
  return new FakeHuawei(await listenHttps(), options);
}
