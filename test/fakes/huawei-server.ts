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
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.js';
import { objectOf, systemClock } from './fake-values.js';
import { HttpsFake, type RawAnswer, TEST_CA } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';
import { FAKE_HUAWEI_ERRORS, oauthError, parseCode } from './huawei-errors.js';
import type {
  FakeHuaweiAnswer,
  FakeHuaweiEvents,
  FakeHuaweiOptions,
  FakeHuaweiReceived,
  FakeHuaweiTokenRequest,
} from './huawei-types.js';
import { checkSendBody } from './huawei-validation.js';

export { FAKE_HUAWEI_ERRORS, type FakeHuaweiErrorName } from './huawei-errors.js';
export type {
  FakeHuaweiAnswer,
  FakeHuaweiOptions,
  FakeHuaweiReceived,
  FakeHuaweiTokenRequest,
} from './huawei-types.js';

/** The test CA: trust it (the settings' `ca`) to talk to the fake. */
export const FAKE_HUAWEI_CA = TEST_CA;

export const FAKE_HUAWEI_APP_ID = '101234567';
export const FAKE_HUAWEI_CLIENT_SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

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
    const base: RawAnswer = FAKE_HUAWEI_ERRORS[answer.error];
    const headers: Record<string, string> = { ...base.headers };
    if (answer.retryAfter === null) delete headers['retry-after'];
    else if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
    return { canned: { ...base, headers }, delayMs };
  }
}

interface Reply {
  canned: RawAnswer | 'hang' | 'reset';
  delayMs: number;
}

/** Starts a fake Push Kit on 127.0.0.1, on a free port. */
export async function startFakeHuawei(options: FakeHuaweiOptions = {}): Promise<FakeHuawei> {
  return new FakeHuawei(await listenHttps(), options);
}
