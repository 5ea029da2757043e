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
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.js';
import { objectOf, systemClock } from './fake-values.js';
import { cannedOf, codeOf, FAKE_HONOR_ERRORS, oauthError, statusOf } from './honor-errors.js';
import {
  FAKE_HONOR_AUTH_PATHS,
  type FakeHonorAnswer,
  type FakeHonorEvents,
  type FakeHonorOptions,
  type FakeHonorReceived,
  type FakeHonorTokenAnswer,
  type FakeHonorTokenRequest,
  type HonorHostFamily,
} from './honor-types.js';
import { checkBody } from './honor-validation.js';
import { HttpsFake, TEST_CA } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';

export { FAKE_HONOR_ERRORS, type FakeHonorErrorName } from './honor-errors.js';
export {
  FAKE_HONOR_AUTH_PATHS,
  type FakeHonorAnswer,
  type FakeHonorOptions,
  type FakeHonorReceived,
  type FakeHonorTokenAnswer,
  type FakeHonorTokenRequest,
  type HonorHostFamily,
} from './honor-types.js';

/** The test CA: trust it (the settings' `ca`) to talk to the fake. */
export const FAKE_HONOR_CA = TEST_CA;

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

/** Starts a fake Honor Push on 127.0.0.1, on a free port. */
export async function startFakeHonor(options: FakeHonorOptions = {}): Promise<FakeHonor> {
  return new FakeHonor(await listenHttps(), options);
}
