/**
 * A fake Honor Push for tests and benchmarks: the OAuth token endpoint (client-credentials
 * grant, at both host families' paths) and `sendMessage`, over HTTPS on 127.0.0.1 with the test
 * CA of test/fixtures/fcm/. It checks what Honor checks (access token and its expiry, the
 * `timestamp` header, the app id, the body's fields and types, the token count) and answers
 * with Honor's bodies (reference/providers.md §5.3), partial successes included.
 *
 * Any token is accepted unless a script says otherwise; `requestCount` / `tokenCount` count
 * even with `record: false` (benchmarks).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.js';
import { HttpsFake, TEST_CA } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';

/** The test CA: trust it (the settings' `ca`) to talk to the fake. */
export const FAKE_HONOR_CA = TEST_CA;

/** The paths of the token endpoint in the two host families (see docs/providers/honor.md). */
export const FAKE_HONOR_AUTH_PATHS = {
  hihonor: '/auth/realms/developer/protocol/openid-connect/token',
  honor: '/auth/token',
} as const;
export type HonorHostFamily = keyof typeof FAKE_HONOR_AUTH_PATHS;

interface Canned {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

const honorError = (status: number, code: number, message: string): Canned => ({
  status,
  body: JSON.stringify({ code, message }),
});

/** Honor's failure answers, by name (the Huawei-family codes of reference/providers.md §3.4). */
export const FAKE_HONOR_ERRORS = {
  PARAMETER_ERROR: honorError(400, 80100001, 'Some request parameters are incorrect'),
  ILLEGAL_PAYLOAD: honorError(400, 80100003, 'Illegal payload'),
  TTL_EXPIRED: honorError(400, 80100004, 'The message TTL is earlier than the current time'),
  SENSITIVE_CONTENT: honorError(400, 80100016, 'The message contains sensitive information'),
  TOO_MANY_TASKS: honorError(200, 80100017, 'Too many tasks are being sent at the same time'),
  OAUTH_ERROR: honorError(401, 80200001, 'Oauth authentication error'),
  OAUTH_TOKEN_EXPIRED: honorError(401, 80200003, 'Oauth Token expired'),
  APP_FORBIDDEN: honorError(403, 80300002, 'The current app is forbidden to send messages'),
  ALL_TOKENS_INVALID: honorError(400, 80300007, 'All tokens are invalid'),
  BODY_TOO_LARGE: honorError(400, 80300008, 'The message body size exceeds the default value'),
  TOKEN_COUNT: honorError(400, 80300010, 'The number of tokens in the message body is out of range'),
  NO_RIGHT: honorError(403, 80300011, 'No permission to send messages of this importance or category'),
  OAUTH_SERVER_ERROR: honorError(401, 80600003, 'Request OAuth service failed'),
  INTERNAL: honorError(500, 81000001, 'Internal error'),
  /** A daily quota; the code is a stand-in (Honor's is not in our sources), the wording Honor's kind. */
  QUOTA_EXCEEDED: honorError(200, 80300009, 'The number of messages sent today exceeds the daily limit'),
  FLOW_CONTROL: {
    status: 503,
    body: JSON.stringify({ message: 'Flow control, please try again later' }),
    headers: { 'retry-after': '30' },
  },
  RATE_LIMITED: {
    status: 429,
    body: JSON.stringify({ message: 'Too Many Requests' }),
    headers: { 'retry-after': '10' },
  },
} as const satisfies Record<string, Canned>;

export type FakeHonorErrorName = keyof typeof FAKE_HONOR_ERRORS;

/**
 * How the fake answers a request:
 * - `'ok'`: `{"code": 200, "message": "success", "data": {sendResult, requestId, failTokens, expireTokens}}`;
 * - an error name, or `{error, retryAfter}`: that answer for the whole request;
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502;
 * - `{delayMs, answer}`; `'hang'`: never answers; `'reset'`: drops the connection.
 */
export type FakeHonorAnswer =
  | 'ok'
  | 'hang'
  | 'reset'
  | FakeHonorErrorName
  | { error: FakeHonorErrorName; retryAfter?: string | number }
  | { status: number; body: string; headers?: Record<string, string> }
  | { delayMs: number; answer: FakeHonorAnswer };

/**
 * Per token (`script`, after authentication and body checks) also: `'expire'` / `'fail'` list the
 * token in a success answer's `expireTokens` / `failTokens`; anything else answers the whole request.
 */
export type FakeHonorTokenAnswer = FakeHonorAnswer | 'expire' | 'fail';

/** One `sendMessage` request, as received. */
export interface FakeHonorReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  appId: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it did not parse). */
  body: Record<string, unknown> | undefined;
  tokens: string[];
  status: number;
  /** Honor's `code` in the answer (undefined for hang / reset / non-Honor bodies). */
  code: number | undefined;
}

/** One request to the token endpoint. */
export interface FakeHonorTokenRequest {
  at: number;
  family: HonorHostFamily;
  clientId: string | undefined;
  status: number;
  accessToken: string | undefined;
}

export interface FakeHonorOptions {
  /** The fake's idea of now (token expiry, `timestamp` check). Default: the system clock. */
  clock?: Clock;
  /** Lifetime of issued access tokens (`expires_in`). Default 3600 s. */
  tokenLifetimeSeconds?: number;
  /** The app's credentials; default the test app's. */
  appId?: string;
  clientId?: string;
  clientSecret?: string;
  /** `android.category` values the app was granted; others answer 80300011. Default `['VOIP']`. */
  categories?: readonly string[];
  /** Keep every request in `received` / `tokenRequests`. Default true; off for benchmarks. */
  record?: boolean;
}

interface FakeHonorEvents {
  request: [FakeHonorReceived];
  token: [FakeHonorTokenRequest];
}

const systemClock: Clock = { now: () => Date.now() };

const TOP_FIELDS = new Set(['token', 'data', 'notification', 'android']);
const NOTIFICATION_FIELDS = new Set(['title', 'body', 'image']);
const ANDROID_FIELDS = new Set(['ttl', 'biTag', 'data', 'notification', 'targetUserType', 'category']);
const ANDROID_NOTIFICATION_FIELDS = new Set([
  'title',
  'body',
  'clickAction',
  'image',
  'style',
  'bigTitle',
  'bigBody',
  'importance',
  'when',
  'buttons',
  'badge',
  'notifyId',
  'tag',
  'group',
  'channelId',
]);
const STRING_FIELDS = ['title', 'body', 'image', 'bigTitle', 'bigBody', 'tag', 'group', 'channelId'];
const MAX_TTL_SECONDS = 15 * 24 * 3600;

const objectOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

function unknownField(object: Record<string, unknown>, allowed: Set<string>, path: string) {
  const key = Object.keys(object).find((name) => !allowed.has(name));
  return key === undefined ? undefined : `Illegal payload, unknown field ${path}${key}`;
}

/** The checks Honor makes on a `sendMessage` body; a problem as [error name, message]. */
function checkBody(body: Record<string, unknown>, raw: string, categories: readonly string[]) {
  const payload = (message: string) => ['ILLEGAL_PAYLOAD', message] as const;
  const unknown = unknownField(body, TOP_FIELDS, '');
  if (unknown !== undefined) return payload(unknown);
  const { token } = body;
  if (
    !Array.isArray(token) ||
    token.length < 1 ||
    token.length > 1000 ||
    token.some((entry) => typeof entry !== 'string' || entry === '')
  ) {
    return ['TOKEN_COUNT', 'token must hold 1 to 1000 non-empty strings'] as const;
  }
  if (body.data !== undefined && typeof body.data !== 'string')
    return payload('Illegal payload, data must be a string');
  const notification = body.notification === undefined ? {} : objectOf(body.notification);
  if (notification === undefined) return payload('Illegal payload, notification must be an object');
  const android = body.android === undefined ? {} : objectOf(body.android);
  if (android === undefined) return payload('Illegal payload, android must be an object');
  const problem =
    unknownField(notification, NOTIFICATION_FIELDS, 'notification.') ??
    unknownField(android, ANDROID_FIELDS, 'android.');
  if (problem !== undefined) return payload(problem);
  if (android.ttl !== undefined) {
    const ttl = typeof android.ttl === 'string' ? /^(\d+)s$/.exec(android.ttl) : null;
    if (ttl === null || Number(ttl[1]) > MAX_TTL_SECONDS) return payload('Illegal payload, ttl is invalid');
  }
  if (android.category !== undefined && !categories.includes(String(android.category))) {
    return ['NO_RIGHT', `No permission for category ${String(android.category)}`] as const;
  }
  const shown = android.notification === undefined ? undefined : objectOf(android.notification);
  if (android.notification !== undefined && shown === undefined) {
    return payload('Illegal payload, android.notification must be an object');
  }
  if (shown !== undefined) {
    const bad = unknownField(shown, ANDROID_NOTIFICATION_FIELDS, 'android.notification.');
    if (bad !== undefined) return payload(bad);
    const wrongType = STRING_FIELDS.find((key) => shown[key] !== undefined && typeof shown[key] !== 'string');
    if (wrongType !== undefined)
      return payload(`Illegal payload, android.notification.${wrongType} must be a string`);
    if (!(notification.title ?? shown.title) || !(notification.body ?? shown.body)) {
      return payload('Illegal payload, a notification message needs a title and a body');
    }
    const click = objectOf(shown.clickAction);
    if (click === undefined || ![1, 2, 3].includes(click.type as number)) {
      return payload('Illegal payload, android.notification.clickAction.type must be 1, 2 or 3');
    }
    if (shown.importance !== undefined && shown.importance !== 'LOW' && shown.importance !== 'NORMAL') {
      return payload('Illegal payload, importance must be LOW or NORMAL');
    }
  }
  if (body.data === undefined && shown === undefined && body.notification === undefined) {
    return payload('Illegal payload, the message has neither data nor notification');
  }
  if (Buffer.byteLength(raw) - Buffer.byteLength(JSON.stringify(token)) > 4096) {
    return ['BODY_TOO_LARGE', 'The message body size exceeds 4096 bytes'] as const;
  }
  return undefined;
}

export class FakeHonor extends HttpsFake<FakeHonorAnswer, FakeHonorTokenAnswer, FakeHonorEvents> {
  readonly ca = FAKE_HONOR_CA;
  readonly appId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Every `sendMessage` request, in arrival order (when recording). */
  readonly received: FakeHonorReceived[] = [];
  /** Every token-endpoint request (when recording). */
  readonly tokenRequests: FakeHonorTokenRequest[] = [];
  /** `sendMessage` requests so far, recorded or not. */
  requestCount = 0;
  /** Device tokens received so far, over all requests. */
  tokenCount = 0;

  private issued = new Map<string, number>();
  private issuedCount = 0;
  private nextRequestId = 0;
  private tokenEndpointAnswers: FakeHonorAnswer[] = [];
  private readonly clock: Clock;
  private readonly lifetimeSeconds: number;
  private readonly categories: readonly string[];
  private readonly record: boolean;

  constructor(listener: HttpsListener, options: FakeHonorOptions) {
    super(listener);
    this.appId = options.appId ?? '104400001';
    this.clientId = options.clientId ?? 'bellhop-honor-client';
    this.clientSecret = options.clientSecret ?? 'honor-test-secret-5f0c2a';
    this.clock = options.clock ?? systemClock;
    this.lifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
    this.categories = options.categories ?? ['VOIP'];
    this.record = options.record ?? true;
  }

  /** The token endpoint of a host family on this fake. */
  authUrl(family: HonorHostFamily = 'hihonor'): string {
    return `${this.url}${FAKE_HONOR_AUTH_PATHS[family]}`;
  }

  /** Access tokens issued so far. */
  get tokensIssued(): number {
    return this.issuedCount;
  }

  /** The settings an app would be configured with to use this fake (admin API `honor`). */
  settings(family: HonorHostFamily = 'hihonor'): {
    app_id: string;
    client_id: string;
    client_secret: string;
    url: string;
    auth_url: string;
    ca: string;
  } {
    return {
      app_id: this.appId,
      client_id: this.clientId,
      client_secret: this.clientSecret,
      url: this.url,
      auth_url: this.authUrl(family),
      ca: this.ca,
    };
  }

  /** The next `sendMessage` requests answer these, one each (after the checks), whatever their tokens. */
  scriptNext(answers: readonly FakeHonorAnswer[]): void {
    this.nextAnswers.push(...answers);
  }

  /** The next token-endpoint answers, one per request (`'ok'` = the real checks). */
  scriptTokenEndpoint(answers: readonly FakeHonorAnswer[]): void {
    this.tokenEndpointAnswers = [...answers];
  }

  /** Every access token issued so far expires now: sends answer 80200003 "Oauth Token expired". */
  expireAccessTokens(): void {
    const now = this.clock.now();
    for (const token of this.issued.keys()) this.issued.set(token, now);
  }

  /** Every access token issued so far is forgotten: sends answer 80200001. */
  revokeAccessTokens(): void {
    this.issued.clear();
  }

  /** Forgets recorded requests, scripts and the outage (not issued tokens or counters). */
  reset(): void {
    this.received.length = 0;
    this.tokenRequests.length = 0;
    this.tokenEndpointAnswers = [];
    this.clearScripts();
  }

  protected handle(request: IncomingMessage, response: ServerResponse, raw: string): void {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const family = (Object.keys(FAKE_HONOR_AUTH_PATHS) as HonorHostFamily[]).find(
      (name) => FAKE_HONOR_AUTH_PATHS[name] === path,
    );
    const send = /^\/api\/v1\/([^/]+)\/sendMessage$/.exec(path);
    if (request.method === 'POST' && family !== undefined) this.token(request, response, raw, family);
    else if (request.method === 'POST' && send !== null) this.send(request, response, send[1] ?? '', raw);
    else this.answer(request, response, { status: 404, body: JSON.stringify({ message: 'Not Found' }) });
  }

  private token(
    request: IncomingMessage,
    response: ServerResponse,
    raw: string,
    family: HonorHostFamily,
  ): void {
    const now = this.clock.now();
    const form = new URLSearchParams(raw);
    const entry: FakeHonorTokenRequest = {
      at: now,
      family,
      clientId: form.get('client_id') ?? undefined,
      status: 0,
      accessToken: undefined,
    };
    const scripted = this.tokenEndpointAnswers.shift();
    let answer: FakeHonorAnswer;
    if (scripted !== undefined && scripted !== 'ok') answer = scripted;
    else if (!(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      answer = oauthError(400, 'invalid_request', 'Missing form parameter: grant_type');
    } else if (form.get('grant_type') !== 'client_credentials') {
      answer = oauthError(400, 'unsupported_grant_type', 'Unsupported grant_type');
    } else if (form.get('client_id') !== this.clientId) {
      answer = oauthError(400, 'invalid_client', 'Invalid client credentials');
    } else if (form.get('client_secret') !== this.clientSecret) {
      answer = oauthError(401, 'unauthorized_client', 'Invalid client secret');
    } else {
      this.issuedCount += 1;
      const accessToken = `honor-at-${this.issuedCount}-${randomBytes(9).toString('base64url')}`;
      this.issued.set(accessToken, now + this.lifetimeSeconds * 1000);
      entry.accessToken = accessToken;
      answer = {
        status: 200,
        body: JSON.stringify({
          access_token: accessToken,
          expires_in: this.lifetimeSeconds,
          token_type: 'Bearer',
          scope: 'push',
        }),
      };
    }
    entry.status = statusOf(answer);
    if (this.record) this.tokenRequests.push(entry);
    this.emit('token', entry);
    this.answer(request, response, answer);
  }

  private send(request: IncomingMessage, response: ServerResponse, appId: string, raw: string): void {
    const now = this.clock.now();
    let body: Record<string, unknown> | undefined;
    try {
      body = objectOf(JSON.parse(raw));
    } catch {
      body = undefined;
    }
    const tokens = Array.isArray(body?.token)
      ? body.token.filter((token): token is string => typeof token === 'string')
      : [];
    this.requestCount += 1;
    this.tokenCount += tokens.length;
    const answer = this.decide(request, appId, raw, body, tokens, now);
    if (this.record || this.listenerCount('request') > 0) {
      const received: FakeHonorReceived = {
        at: now,
        appId,
        headers: request.headers,
        body,
        tokens,
        status: statusOf(answer),
        code: codeOf(answer),
      };
      if (this.record) this.received.push(received);
      this.emit('request', received);
    }
    this.answer(request, response, answer);
  }

  private decide(
    request: IncomingMessage,
    appId: string,
    raw: string,
    body: Record<string, unknown> | undefined,
    tokens: string[],
    now: number,
  ): FakeHonorAnswer {
    if (this.outage !== undefined) return this.outage;
    const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const expiresAt = bearer === undefined ? undefined : this.issued.get(bearer);
    if (expiresAt === undefined) return 'OAUTH_ERROR';
    if (expiresAt <= now) return 'OAUTH_TOKEN_EXPIRED';
    if (appId !== this.appId) return 'OAUTH_ERROR';
    const timestamp = String(request.headers.timestamp ?? '');
    if (!/^\d{13}$/.test(timestamp) || Math.abs(Number(timestamp) - now) > 10 * 60_000) {
      return { status: 400, body: JSON.stringify({ code: 80100001, message: 'timestamp is invalid' }) };
    }
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return {
        status: 400,
        body: JSON.stringify({ code: 80100001, message: 'Content-Type must be application/json' }),
      };
    }
    if (body === undefined) return 'ILLEGAL_PAYLOAD';
    const problem = checkBody(body, raw, this.categories);
    if (problem !== undefined) {
      const [name, message] = problem;
      return { ...FAKE_HONOR_ERRORS[name], body: JSON.stringify({ code: codeOf(name), message }) };
    }
    const next = this.nextAnswers.shift();
    if (next !== undefined) return next;
    const expireTokens: string[] = [];
    const failTokens: string[] = [];
    for (const token of tokens) {
      const scripted = this.scripts.next(token);
      if (scripted === 'expire') expireTokens.push(token);
      else if (scripted === 'fail') failTokens.push(token);
      else if (scripted !== undefined && scripted !== 'ok') return scripted;
    }
    this.nextRequestId += 1;
    const requestId = `${now}${String(this.nextRequestId).padStart(6, '0')}`;
    const partial = expireTokens.length + failTokens.length > 0;
    return {
      status: 200,
      body: JSON.stringify({
        code: partial ? 80100000 : 200,
        message: partial ? 'Some tokens failed' : 'success',
        data: {
          sendResult: expireTokens.length + failTokens.length < tokens.length,
          requestId,
          failTokens,
          expireTokens,
        },
      }),
    };
  }

  private answer(request: IncomingMessage, response: ServerResponse, answer: FakeHonorAnswer): void {
    this.respond(request, response, answer, cannedOf);
  }
}

function oauthError(status: number, error: string, description: string): Canned {
  return { status, body: JSON.stringify({ error, error_description: description }) };
}

function cannedOf(answer: Exclude<FakeHonorAnswer, 'hang' | 'reset' | { delayMs: number }>): Canned {
  if (answer === 'ok') return { status: 200, body: JSON.stringify({ code: 200, message: 'success' }) };
  if (typeof answer === 'string') return FAKE_HONOR_ERRORS[answer];
  if ('error' in answer) {
    const base: Canned = FAKE_HONOR_ERRORS[answer.error];
    const headers = { ...base.headers };
    if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
    return { ...base, headers };
  }
  return answer;
}

function statusOf(answer: FakeHonorAnswer): number {
  if (answer === 'hang' || answer === 'reset') return 0;
  if (typeof answer === 'object' && 'delayMs' in answer) return statusOf(answer.answer);
  return cannedOf(answer).status;
}

function codeOf(answer: FakeHonorAnswer): number | undefined {
  if (answer === 'hang' || answer === 'reset') return undefined;
  if (typeof answer === 'object' && 'delayMs' in answer) return codeOf(answer.answer);
  try {
    const code = objectOf(JSON.parse(cannedOf(answer).body))?.code;
    return typeof code === 'number' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a fake Honor Push on 127.0.0.1, on a free port. */
export async function startFakeHonor(options: FakeHonorOptions = {}): Promise<FakeHonor> {
  return new FakeHonor(await listenHttps(), options);
}
