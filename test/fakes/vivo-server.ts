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
import {
  VIVO_OPERATION_CATEGORIES,
  VIVO_SYSTEM_CATEGORIES,
} from '../../src/delivery/providers/vivo/vivo.config.js';
import { HttpsFake, TEST_CA } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';

/** The test CA: trust it (the settings' `ca`) to talk to the fake. */
export const FAKE_VIVO_CA = TEST_CA;

/** vivo's result codes the fake answers, with vivo's wording. */
export const FAKE_VIVO_RESULTS = {
  /** Permission check failed: a wrong signature at auth, an expired or unknown authToken later. */
  10000: '权限认证失败',
  /** A parameter is missing or wrong (code UNCONFIRMED, see above). */
  10050: '参数不合法',
  10070: '超过当日推送总量',
  10072: '推送频率过快',
  10096: '二级分类不合法',
  10097: '二级分类与消息类型不匹配',
  10252: '超过每日调用次数',
  10302: 'regId不合法',
} as const;

export type FakeVivoResult = keyof typeof FAKE_VIVO_RESULTS;

/**
 * How the fake answers (after authentication and body checks):
 * - `'ok'`: success;
 * - `{invalidUser: 1 | 2 | 3 | 4}`: success, the regId listed as refused with that status;
 * - `{result: code}`: that vivo error for the whole request;
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502;
 * - `'hang'`: never answers; `'reset'`: drops the connection.
 */
export type FakeVivoAnswer =
  | 'ok'
  | 'hang'
  | 'reset'
  | { invalidUser: number }
  | { result: FakeVivoResult }
  | { status: number; body: string; headers?: Record<string, string> };

export type FakeVivoEndpoint = 'auth' | 'send' | 'saveListPayload' | 'pushToList';

/** One request, as received. */
export interface FakeVivoReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  endpoint: FakeVivoEndpoint;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it did not parse). */
  body: Record<string, unknown> | undefined;
  /** The HTTP status answered (0: `hang` / `reset`). */
  status: number;
  /** vivo's `result` answered, when there was one. */
  result: number | undefined;
  /** `regId` of a send, `regIds` of a pushToList; empty otherwise. */
  regIds: string[];
  /** Answered from an earlier request with the same `requestId`. */
  duplicate: boolean;
}

export interface FakeVivoOptions {
  /** The fake's idea of now (timestamps, token expiry). Default: the system clock. */
  clock?: Clock;
  appId?: string;
  appKey?: string;
  appSecret?: string;
  /** Lifetime of issued authTokens. Default one day, like vivo. */
  tokenLifetimeMs?: number;
  /** Keep every request in `received`. Default true; off for long benchmarks (counters still count). */
  record?: boolean;
}

type Canned = { status: number; body: string; headers?: Record<string, string> };

const systemClock: Clock = { now: () => Date.now() };
const PATHS: Record<string, FakeVivoEndpoint> = {
  '/message/auth': 'auth',
  '/message/send': 'send',
  '/message/saveListPayload': 'saveListPayload',
  '/message/pushToList': 'pushToList',
};

function vivoBody(result: number, extra: Record<string, unknown> = {}): string {
  const desc = result === 0 ? '请求成功' : (FAKE_VIVO_RESULTS[result as FakeVivoResult] ?? '失败');
  return JSON.stringify({ result, desc, ...extra });
}

function paramError(field: string): Canned {
  return {
    status: 200,
    body: JSON.stringify({ result: 10050, desc: `${FAKE_VIVO_RESULTS[10050]}: ${field}` }),
  };
}

/** vivo's measure of `title` / `content`: a character beyond Latin-1 counts as two. */
function weight(text: string): number {
  let total = 0;
  for (const character of text) total += (character.codePointAt(0) ?? 0) > 0xff ? 2 : 1;
  return total;
}

const isInt = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

/** The notification fields `message/send` and `saveListPayload` share; a problem as vivo answers it. */
function checkNotification(body: Record<string, unknown>): Canned | undefined {
  const { notifyType, title, content, timeToLive, skipType, classification, category } = body;
  if (!isInt(notifyType) || notifyType < 1 || notifyType > 4) return paramError('notifyType');
  if (typeof title !== 'string' || title === '' || weight(title) > 40) return paramError('title');
  if (typeof content !== 'string' || content === '' || weight(content) > 100) return paramError('content');
  if (timeToLive !== undefined && (!isInt(timeToLive) || timeToLive < 60 || timeToLive > 86_400)) {
    return paramError('timeToLive');
  }
  if (!isInt(skipType) || skipType < 1 || skipType > 4) return paramError('skipType');
  if (body.networkType !== undefined && body.networkType !== -1 && body.networkType !== 1) {
    return paramError('networkType');
  }
  if (classification !== undefined && classification !== 0 && classification !== 1) {
    return paramError('classification');
  }
  if (category !== undefined) {
    const system = VIVO_SYSTEM_CATEGORIES.includes(String(category));
    const operation = VIVO_OPERATION_CATEGORIES.includes(String(category));
    if (!system && !operation) return { status: 200, body: vivoBody(10096) };
    if (system !== (classification === 1)) return { status: 200, body: vivoBody(10097) };
  }
  const map = body.clientCustomMap;
  if (map !== undefined) {
    if (typeof map !== 'object' || map === null || Array.isArray(map)) return paramError('clientCustomMap');
    const entries = Object.entries(map);
    const size = entries.reduce((sum, [key, value]) => sum + key.length + String(value).length, 0);
    if (entries.length > 10 || size > 1024 || entries.some(([, value]) => typeof value !== 'string')) {
      return paramError('clientCustomMap');
    }
  }
  if (body.notifyId !== undefined && (!isInt(body.notifyId) || body.notifyId < 1))
    return paramError('notifyId');
  return checkRequestId(body);
}

function checkRequestId(body: Record<string, unknown>): Canned | undefined {
  const { requestId } = body;
  if (typeof requestId !== 'string' || requestId === '' || requestId.length > 64)
    return paramError('requestId');
  return undefined;
}

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
  private seen = new Map<string, Canned>();
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
    let answer: FakeVivoAnswer | Canned;
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
  private materialize(answer: FakeVivoAnswer | Canned): Canned | 'hang' | 'reset' {
    if (answer === 'hang' || answer === 'reset') return answer;
    if (answer === 'ok' || 'invalidUser' in answer) {
      return { status: 200, body: vivoBody(0, { taskId: this.newTask() }) };
    }
    if ('result' in answer) return { status: 200, body: vivoBody(answer.result) };
    return answer;
  }

  private auth(body: Record<string, unknown>): FakeVivoAnswer | Canned {
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
  ): FakeVivoAnswer | Canned {
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

function resultOf(body: string): number | undefined {
  const match = /^\{"result":(-?\d+)/.exec(body);
  return match === null ? undefined : Number(match[1]);
}

/** Starts a fake vivo PUSH on 127.0.0.1, on a free port. */
export async function startFakeVivo(options: FakeVivoOptions = {}): Promise<FakeVivo> {
  return new FakeVivo(await listenHttps(), options);
}
