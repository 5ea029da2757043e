/**
 * A fake vivo PUSH server API for tests and benchmarks: `/message/auth` (MD5 signature,
 * timestamp window and App ID checked, authTokens that expire), `/message/send`,
 * `/message/saveListPayload` and `/message/pushToList`, over HTTPS on 127.0.0.1 with the test
 * CA of test/fixtures/fcm/. Every regId is accepted unless a test scripts otherwise.
 *
 * Answers are vivo's own (reference/providers.md §5.2): HTTP 200 with `{result, desc, …}`.
 * The code of a failed parameter check (10050 here) is not in the reference; the adapter
 * treats every unlisted code as a bad request.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.js';
import { systemClock } from './fake-values.js';
import { HttpsFake, type RawAnswer, TEST_CA } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';
import { paramError, resultOf, vivoBody } from './vivo-answers.js';
import type { FakeVivoAnswer, FakeVivoEndpoint, FakeVivoOptions, FakeVivoReceived } from './vivo-types.js';
import { checkNotification, checkRequestId, isInt } from './vivo-validation.js';

export { FAKE_VIVO_RESULTS, type FakeVivoResult } from './vivo-answers.js';
export type { FakeVivoAnswer, FakeVivoEndpoint, FakeVivoOptions, FakeVivoReceived } from './vivo-types.js';

/** The test CA: trust it (the settings' `ca`) to talk to the fake. */
export const FAKE_VIVO_CA = TEST_CA;

const PATHS: Record<string, FakeVivoEndpoint> = {
  '/message/auth': 'auth',
  '/message/send': 'send',
  '/message/saveListPayload': 'saveListPayload',
  '/message/pushToList': 'pushToList',
};

export class FakeVivo extends HttpsFake<FakeVivoAnswer, FakeVivoAnswer, { request: [FakeVivoReceived] }> {
  readonly ca = FAKE_VIVO_CA;
  readonly appId: string;
  readonly appKey: string;
  readonly appSecret: string;
  /** Every request, in arrival order (when recording). */
  readonly received: FakeVivoReceived[] = [];
  /** Requests per endpoint, recorded or not. */
  readonly counts: Record<FakeVivoEndpoint, number> = { auth: 0, send: 0, saveListPayload: 0, pushToList: 0 };
  /** authTokens issued so far. */
  tokensIssued = 0;
  /** regIds accepted (sends and list entries not refused). */
  delivered = 0;

  private tokens = new Map<string, number>();
  private tasks = new Set<string>();
  private taskCount = 0;
  private seen = new Map<string, RawAnswer>();
  private authScript: FakeVivoAnswer[] = [];
  private readonly clock: Clock;
  private readonly tokenLifetimeMs: number;
  private readonly record: boolean;

  constructor(listener: HttpsListener, options: FakeVivoOptions) {
    super(listener);
    this.appId = options.appId ?? '105123456';
    this.appKey = options.appKey ?? 'f3c1a2b4d5e6f7a8b9c0-appkey';
    this.appSecret = options.appSecret ?? '9e8d7c6b-5a4f-3e2d-1c0b-appsecret';
    this.clock = options.clock ?? systemClock;
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 24 * 3_600_000;
    this.record = options.record ?? true;
  }

  /** The `vivo` settings an app would be configured with to use this fake. */
  credentials(): {
    app_id: string;
    app_key: string;
    app_secret: string;
    ring_category: string;
    message_category: string;
    url: string;
    ca: string;
  } {
    return {
      app_id: this.appId,
      app_key: this.appKey,
      app_secret: this.appSecret,
      ring_category: 'IM',
      message_category: 'DEVICE_REMINDER',
      url: this.url,
      ca: this.ca,
    };
  }

  /** Requests received by one endpoint (recorded ones). */
  requests(endpoint: FakeVivoEndpoint): FakeVivoReceived[] {
    return this.received.filter((entry) => entry.endpoint === endpoint);
  }

  /** The next `count` requests to send, saveListPayload or pushToList answer this (after auth). */
  failNext(answer: FakeVivoAnswer, count = 1): void {
    for (let i = 0; i < count; i += 1) this.nextAnswers.push(answer);
  }

  /** The next answers of `/message/auth`, one per request (`'ok'` = the real checks). */
  scriptAuth(answers: readonly FakeVivoAnswer[]): void {
    this.authScript = [...answers];
  }

  /** Every authToken issued so far stops working (answers 10000). */
  revokeAuthTokens(): void {
    this.tokens.clear();
  }

  /** Forgets recorded requests, scripts and the outage (not issued tokens, tasks or counters). */
  reset(): void {
    this.received.length = 0;
    this.authScript = [];
    this.clearScripts();
  }

  protected handle(request: IncomingMessage, response: ServerResponse, raw: string): void {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const endpoint = PATHS[path];
    if (request.method !== 'POST' || endpoint === undefined) {
      this.write(request, response, { status: 404, body: '{"message":"Not Found"}' });
      return;
    }
    this.counts[endpoint] += 1;
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        body = parsed as Record<string, unknown>;
      }
    } catch {
      body = undefined;
    }
    const regIds = regIdsOf(endpoint, body);
    let duplicate = false;
    let answer: FakeVivoAnswer | RawAnswer;
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      answer = paramError('Content-Type');
    } else if (body === undefined) {
      answer = paramError('body');
    } else if (endpoint === 'auth') {
      answer = this.auth(body);
    } else {
      // vivo sends a requestId once: a resent request gets the first answer, nothing more.
      const key = `${endpoint} ${String(body.requestId)}`;
      const earlier = endpoint === 'saveListPayload' ? undefined : this.seen.get(key);
      if (earlier !== undefined) {
        duplicate = true;
        answer = earlier;
      } else {
        answer = this.materialize(this.decide(endpoint, request.headers, body, regIds));
        if (typeof answer === 'object' && resultOf(answer.body) === 0) this.seen.set(key, answer);
      }
    }
    const final = this.materialize(answer);
    const received: FakeVivoReceived = {
      at: this.clock.now(),
      endpoint,
      headers: request.headers,
      body,
      status: typeof final === 'string' ? 0 : final.status,
      result: typeof final === 'string' ? undefined : resultOf(final.body),
      regIds,
      duplicate,
    };
    if (this.record) this.received.push(received);
    this.emit('request', received);
    this.write(request, response, final);
  }

  /** An answer as it goes on the wire (`hang` and `reset` stay what they are). */
  private materialize(answer: FakeVivoAnswer | RawAnswer): RawAnswer | 'hang' | 'reset' {
    if (answer === 'hang' || answer === 'reset') return answer;
    if (answer === 'ok' || 'invalidUser' in answer) {
      return { status: 200, body: vivoBody(0, { taskId: this.newTask() }) };
    }
    if ('result' in answer) return { status: 200, body: vivoBody(answer.result) };
    return answer;
  }

  private auth(body: Record<string, unknown>): FakeVivoAnswer | RawAnswer {
    const scripted = this.authScript.shift();
    if (scripted !== undefined && scripted !== 'ok') return scripted;
    const { appId, appKey, timestamp, sign } = body;
    if (typeof appId !== 'string' || typeof appKey !== 'string' || typeof sign !== 'string') {
      return paramError(typeof appId !== 'string' ? 'appId' : typeof appKey !== 'string' ? 'appKey' : 'sign');
    }
    if (!isInt(timestamp) || String(timestamp).length !== 13) return paramError('timestamp');
    const now = this.clock.now();
    const expected = createHash('md5')
      .update(`${this.appId}${this.appKey}${timestamp}${this.appSecret}`)
      .digest('hex');
    if (
      appId !== this.appId ||
      appKey !== this.appKey ||
      sign !== expected ||
      Math.abs(timestamp - now) > 600_000
    ) {
      return { status: 200, body: vivoBody(10000) };
    }
    this.tokensIssued += 1;
    const token = `${this.tokensIssued}-${randomBytes(12).toString('hex')}`;
    this.tokens.set(token, now + this.tokenLifetimeMs);
    return { status: 200, body: vivoBody(0, { authToken: token }) };
  }

  private decide(
    endpoint: Exclude<FakeVivoEndpoint, 'auth'>,
    headers: IncomingHttpHeaders,
    body: Record<string, unknown>,
    regIds: string[],
  ): FakeVivoAnswer | RawAnswer {
    if (this.outage !== undefined) return this.outage;
    const token = headers.authtoken;
    const expiresAt = typeof token === 'string' ? this.tokens.get(token) : undefined;
    if (expiresAt === undefined || expiresAt <= this.clock.now())
      return { status: 200, body: vivoBody(10000) };
    const problem = this.check(endpoint, body, regIds);
    if (problem !== undefined) return problem;
    const next = this.nextAnswers.shift();
    if (next !== undefined && next !== 'ok') return next;

    const taskId = endpoint === 'pushToList' ? String(body.taskId) : this.newTask();
    if (endpoint === 'saveListPayload') return { status: 200, body: vivoBody(0, { taskId }) };
    const invalidUsers: Array<{ userid: string; status: number }> = [];
    for (const regId of regIds) {
      const answer = this.scripted(regId);
      if (answer === 'ok') continue;
      if (typeof answer === 'object' && 'invalidUser' in answer) {
        invalidUsers.push({ userid: regId, status: answer.invalidUser });
        continue;
      }
      return answer;
    }
    this.delivered += regIds.length - invalidUsers.length;
    if (endpoint === 'send') {
      const [invalidUser] = invalidUsers;
      return {
        status: 200,
        body: vivoBody(0, { taskId, ...(invalidUser !== undefined ? { invalidUser } : {}) }),
      };
    }
    return { status: 200, body: vivoBody(0, { taskId, invalidUsers }) };
  }

  private check(
    endpoint: Exclude<FakeVivoEndpoint, 'auth'>,
    body: Record<string, unknown>,
    regIds: string[],
  ) {
    if (endpoint === 'pushToList') {
      const list = body.regIds;
      if (
        !Array.isArray(list) ||
        list.length < 2 ||
        list.length > 1000 ||
        list.some((id) => typeof id !== 'string')
      ) {
        return paramError('regIds');
      }
      if (new Set(list).size !== list.length) return paramError('regIds');
      if (typeof body.taskId !== 'string' || !this.tasks.has(body.taskId)) return paramError('taskId');
      return checkRequestId(body);
    }
    if (endpoint === 'send') {
      if (body.appId !== this.appId) return { status: 200, body: vivoBody(10000) };
      if (regIds.length !== 1 || regIds[0] === '') return paramError('regId');
    }
    return checkNotification(body);
  }

  private scripted(regId: string): FakeVivoAnswer {
    return this.scripts.next(regId) ?? 'ok';
  }

  private newTask(): string {
    this.taskCount += 1;
    const taskId = `${1_000_000_000 + this.taskCount}`;
    this.tasks.add(taskId);
    return taskId;
  }
}

function regIdsOf(endpoint: FakeVivoEndpoint, body: Record<string, unknown> | undefined): string[] {
  if (endpoint === 'send' && typeof body?.regId === 'string') return [body.regId];
  if (endpoint === 'pushToList' && Array.isArray(body?.regIds)) return body.regIds.map(String);
  return [];
}

/** Starts a fake vivo PUSH on 127.0.0.1, on a free port. */
export async function startFakeVivo(options: FakeVivoOptions = {}): Promise<FakeVivo> {
  return new FakeVivo(await listenHttps(), options);
}
