/**
 * A fake OPPO PUSH server for tests and benchmarks, over HTTPS on 127.0.0.1 with the test CA of
 * test/fixtures/fcm/. It serves both OPPO hosts on one port: mainland China at the root
 * (`url`) and the overseas host under `/intl` (`intlUrl`), each with its own `auth_token`s.
 *
 * It checks what OPPO checks: the SHA-256 `sign` of the auth call and its timestamp (±10 min),
 * `auth_token`s it issued for that host and not expired (24 h by default, on the fake's clock),
 * form-encoded bodies, the `message` / `messages` JSON and its fields and types, categories,
 * `notify_level`, a daily message limit (reset at midnight China time). It answers with OPPO's
 * codes and bodies (reference/providers.md §5.1). Any registration id is accepted unless
 * scripted otherwise. A message whose `app_message_id` it has seen for the same phone is answered
 * with the first message id and not counted again, as OPPO shows it once. `record: false` keeps
 * only the counters (benchmarks), and no `app_message_id`s.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.js';
import { HttpsFake, type RawAnswer, TEST_CA } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';

/** The test CA: trust it (the settings' `ca`) to talk to the fake. */
export const FAKE_OPPO_CA = TEST_CA;

export const FAKE_OPPO_APP_ID = '30912345';
export const FAKE_OPPO_APP_KEY = 'b2f7c0a9e41d4c3f8a6e5d2c1b0a9f8e';
export const FAKE_OPPO_MASTER_SECRET = '9c1e7a5f3b2d4e6a8c0b1d3f5e7a9c2b';
export const FAKE_OPPO_RING_CHANNEL = 'bellhop_ring';
export const FAKE_OPPO_MESSAGE_CHANNEL = 'bellhop_message';

/** OPPO's new message categories (communication & service, then content & marketing). */
const CATEGORIES = [
  'IM',
  'ACCOUNT',
  'DEVICE_REMINDER',
  'ORDER',
  'TODO',
  'SUBSCRIPTION',
  'NEWS',
  'CONTENT',
  'MARKETING',
  'SOCIAL',
];

/** OPPO's return codes with the `message` it sends (its public code table). */
export const FAKE_OPPO_MESSAGES: Readonly<Record<number, string>> = {
  [-2]: 'Service in Flow Control',
  [-1]: 'Service Currently Unavailable',
  0: '',
  11: 'Invalid AuthToken',
  12: 'Http Action Not Allowed',
  13: 'App Call Limited',
  14: 'Invalid App Key',
  15: 'Missing App Key',
  16: 'Invalid Signature',
  17: 'Missing Signature',
  18: 'Missing Timestamp',
  19: 'Invalid Timestamp',
  20: 'Invalid Method',
  21: 'Missing Method',
  22: 'Missing Version',
  23: 'Invalid Version',
  24: 'Unsupported Version',
  25: 'Invalid Encoding',
  26: 'IP Black List',
  27: 'Access Denied',
  28: 'App Disabled',
  29: 'Missing Auth Token',
  30: 'Api Permission Denied',
  31: 'Data Not Exist',
  32: 'Data Duplicate',
  33: 'The number of messages exceeds the daily limit',
  34: 'The number of upload pictures exceeds the daily limit',
  40: 'Missing Required Arguments',
  41: 'Invalid Arguments',
  51: 'Invalid Picture',
  55: 'App Call Frequency Limit',
  59: 'UseSecondaryAction permission denied',
  67: 'Category error/Private classify channel notify_level invalid',
  10000: 'Invalid Registration_id',
};

/**
 * How the fake answers one request (`scriptRequests`, `setOutage`):
 * - `'ok'`: the real checks and answer;
 * - a number: that OPPO code, HTTP 200 `{code, message}`;
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502;
 * - `{delayMs, answer}`: that answer after a delay;
 * - `'hang'`: never answers; `'reset'`: drops the connection.
 */
export type FakeOppoAnswer =
  | 'ok'
  | 'hang'
  | 'reset'
  | number
  | RawAnswer
  | { delayMs: number; answer: FakeOppoAnswer };

/**
 * How the fake answers for one registration id (`script`): `'ok'`, or an OPPO code — the
 * response's `code` for `unicast`, the entry's `errorCode` in a `unicast_batch` answer.
 */
export type FakeOppoTokenAnswer = 'ok' | number;

export type FakeOppoRegion = 'cn' | 'intl';

/** One send request (`unicast` or `unicast_batch`), as received. */
export interface FakeOppoReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  region: FakeOppoRegion;
  api: 'unicast' | 'unicast_batch';
  headers: IncomingHttpHeaders;
  authToken: string | undefined;
  /** The parsed `message` (one) or `messages` (many); empty when they did not parse. */
  messages: Array<Record<string, unknown>>;
  /** `target_value` of each message. */
  tokens: string[];
  /** The `code` answered (undefined: `hang`, `reset` or a raw HTTP answer). */
  code: number | undefined;
  /** Per message of a batch: its `errorCode`, 0 when sent. */
  errorCodes: number[];
}

/** One request to `/server/v1/auth`. */
export interface FakeOppoAuthRequest {
  at: number;
  region: FakeOppoRegion;
  fields: Record<string, string>;
  code: number | undefined;
  /** The token issued, if any. */
  authToken: string | undefined;
}

export interface FakeOppoOptions {
  /** The fake's idea of now (timestamps, token expiry, daily limits). Default: the system clock. */
  clock?: Clock;
  appKey?: string;
  masterSecret?: string;
  /** Lifetime of issued `auth_token`s. Default 24 h, like OPPO. */
  authTokenLifetimeMs?: number;
  /** Messages accepted per China day, over both hosts; default unlimited. */
  dailyLimit?: number;
  /** Categories the app may use with `notify_level` 16 (OPPO's approval). Default `IM`. */
  strongReminderCategories?: readonly string[];
  /** Added before every send answer (benchmarks). Default 0. */
  latencyMs?: number;
  /** Keep every request in `received` / `authRequests`. Default true; off for long benchmarks. */
  record?: boolean;
}

interface FakeOppoEvents {
  request: [FakeOppoReceived];
  auth: [FakeOppoAuthRequest];
}

const systemClock: Clock = { now: () => Date.now() };
const DAY_MS = 24 * 3600_000;
const chinaDay = (now: number) => Math.floor((now + 8 * 3600_000) / DAY_MS);

const NOTIFICATION_FIELDS = new Set([
  'app_message_id',
  'style',
  'big_picture_id',
  'small_picture_id',
  'title',
  'sub_title',
  'content',
  'click_action_type',
  'click_action_activity',
  'click_action_url',
  'action_parameters',
  'show_time_type',
  'show_start_time',
  'show_end_time',
  'off_line',
  'off_line_ttl',
  'push_time_type',
  'push_start_time',
  'time_zone',
  'fix_speed',
  'fix_speed_rate',
  'network_type',
  'call_back_url',
  'call_back_parameter',
  'channel_id',
  'show_ttl',
  'notify_id',
  'category',
  'notify_level',
  'private_msg_template_id',
  'private_title_parameters',
  'private_content_parameters',
]);
const MESSAGE_FIELDS = new Set(['target_type', 'target_value', 'notification', 'verify_registration_id']);

const objectOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
const chars = (value: string) => [...value].length;

interface Problem {
  code: number;
  detail: string;
}

/** OPPO's checks of one message object, reduced to what an adapter could get wrong. */
function checkMessage(value: unknown, strongReminder: ReadonlySet<string>): Problem | undefined {
  const message = objectOf(value);
  if (message === undefined) return { code: 41, detail: 'message must be a JSON object' };
  for (const key of Object.keys(message)) {
    if (!MESSAGE_FIELDS.has(key)) return { code: 41, detail: `unknown field ${key}` };
  }
  if (message.target_type === undefined) return { code: 40, detail: 'target_type' };
  if (message.target_type !== 2 && message.target_type !== 5) return { code: 41, detail: 'target_type' };
  if (message.target_value === undefined) return { code: 40, detail: 'target_value' };
  if (typeof message.target_value !== 'string' || message.target_value === '') {
    return { code: 41, detail: 'target_value' };
  }
  if (message.verify_registration_id !== undefined && typeof message.verify_registration_id !== 'boolean') {
    return { code: 41, detail: 'verify_registration_id' };
  }
  const notification = objectOf(message.notification);
  if (notification === undefined) return { code: 40, detail: 'notification' };
  for (const key of Object.keys(notification)) {
    if (!NOTIFICATION_FIELDS.has(key)) return { code: 41, detail: `unknown field notification.${key}` };
  }
  const { title, content, style = 1 } = notification;
  if (title === undefined || title === '') return { code: 40, detail: 'notification.title' };
  if (typeof title !== 'string' || chars(title) > 50) return { code: 41, detail: 'notification.title' };
  if (content === undefined || content === '') return { code: 40, detail: 'notification.content' };
  if (style !== 1 && style !== 2 && style !== 3) return { code: 41, detail: 'notification.style' };
  if (typeof content !== 'string' || chars(content) > (style === 2 ? 128 : 50)) {
    return { code: 41, detail: 'notification.content' };
  }
  for (const key of ['app_message_id', 'channel_id', 'category', 'action_parameters', 'sub_title']) {
    if (notification[key] !== undefined && typeof notification[key] !== 'string') {
      return { code: 41, detail: `notification.${key}` };
    }
  }
  const click = notification.click_action_type;
  if (click !== undefined && ![0, 1, 2, 4, 5].includes(click as number)) {
    return { code: 41, detail: 'notification.click_action_type' };
  }
  if (typeof notification.action_parameters === 'string') {
    if (notification.action_parameters.length > 4000) {
      return { code: 41, detail: 'notification.action_parameters' };
    }
    try {
      if (objectOf(JSON.parse(notification.action_parameters)) === undefined) throw new Error();
    } catch {
      return { code: 41, detail: 'notification.action_parameters' };
    }
  }
  if (notification.off_line !== undefined && typeof notification.off_line !== 'boolean') {
    return { code: 41, detail: 'notification.off_line' };
  }
  const ttl = notification.off_line_ttl;
  if (ttl !== undefined && (!Number.isInteger(ttl) || (ttl as number) < 1 || (ttl as number) > 864_000)) {
    return { code: 41, detail: 'notification.off_line_ttl' };
  }
  const notifyId = notification.notify_id;
  if (notifyId !== undefined && (!Number.isInteger(notifyId) || (notifyId as number) < 0)) {
    return { code: 41, detail: 'notification.notify_id' };
  }
  const { category, notify_level: level } = notification;
  // The new classification: every message names its category.
  if (category === undefined || !CATEGORIES.includes(category as string)) {
    return { code: 67, detail: 'category' };
  }
  if (level !== undefined) {
    if (level !== 1 && level !== 2 && level !== 16) return { code: 67, detail: 'notify_level' };
    if (level === 16 && !strongReminder.has(category as string)) return { code: 67, detail: 'notify_level' };
  }
  return undefined;
}

export class FakeOppo extends HttpsFake<FakeOppoAnswer, FakeOppoTokenAnswer, FakeOppoEvents> {
  /** Base URL of the overseas host (the settings' `intl_url`). */
  readonly intlUrl: string;
  readonly ca = FAKE_OPPO_CA;
  readonly appKey: string;
  readonly masterSecret: string;
  /** Every send request, in arrival order (when recording). */
  readonly received: FakeOppoReceived[] = [];
  /** Every auth request (when recording). */
  readonly authRequests: FakeOppoAuthRequest[] = [];

  /** Counters, kept whether requests are recorded or not. */
  readonly counts = {
    /** Send requests (`unicast` + `unicast_batch`) received. */
    requests: 0,
    /** Messages accepted (answered as sent), over both hosts. */
    messagesAccepted: 0,
    /** `auth_token`s issued. */
    authTokensIssued: 0,
  };

  private issued = new Map<string, { region: FakeOppoRegion; expiresAt: number }>();
  private messageCounter = 0;
  private today = { day: -1, count: 0 };
  private dailyLimit: number;
  private sentOnce = new Map<string, string>();
  private authScript: FakeOppoAnswer[] = [];
  private readonly clock: Clock;
  private readonly authTokenLifetimeMs: number;
  private readonly strongReminder: ReadonlySet<string>;
  private readonly latencyMs: number;
  private readonly record: boolean;

  constructor(listener: HttpsListener, options: FakeOppoOptions) {
    super(listener);
    this.intlUrl = `${this.url}/intl`;
    this.clock = options.clock ?? systemClock;
    this.appKey = options.appKey ?? FAKE_OPPO_APP_KEY;
    this.masterSecret = options.masterSecret ?? FAKE_OPPO_MASTER_SECRET;
    this.authTokenLifetimeMs = options.authTokenLifetimeMs ?? DAY_MS;
    this.dailyLimit = options.dailyLimit ?? Number.POSITIVE_INFINITY;
    this.strongReminder = new Set(options.strongReminderCategories ?? ['IM']);
    this.latencyMs = options.latencyMs ?? 0;
    this.record = options.record ?? true;
  }

  /** The settings an app would be configured with to use this fake (`oppo` in the admin API). */
  credentials(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      app_key: this.appKey,
      master_secret: this.masterSecret,
      ring_channel_id: FAKE_OPPO_RING_CHANNEL,
      message_channel_id: FAKE_OPPO_MESSAGE_CHANNEL,
      ring_category: 'IM',
      message_category: 'DEVICE_REMINDER',
      url: this.url,
      intl_url: this.intlUrl,
      ca: this.ca,
      ...overrides,
    };
  }

  /** The next send requests' answers, one per request, after the `auth_token` check. */
  scriptRequests(answers: readonly FakeOppoAnswer[]): void {
    this.nextAnswers = [...answers];
  }

  /** The next auth answers, one per request (`'ok'` = the real checks). */
  scriptAuth(answers: readonly FakeOppoAnswer[]): void {
    this.authScript = [...answers];
  }

  /** Messages accepted per China day from now on (the count of today so far is kept). */
  setDailyLimit(limit: number): void {
    this.dailyLimit = limit;
  }

  /** Messages accepted today (China time). */
  acceptedToday(): number {
    return this.today.day === chinaDay(this.clock.now()) ? this.today.count : 0;
  }

  /** Every `auth_token` issued so far expires now (sends answer 11 Invalid AuthToken). */
  expireAuthTokens(): void {
    for (const entry of this.issued.values()) entry.expiresAt = Math.min(entry.expiresAt, this.clock.now());
  }

  /** Forgets recorded requests, scripts and the outage (not issued tokens or counters). */
  reset(): void {
    this.received.length = 0;
    this.authRequests.length = 0;
    this.authScript = [];
    this.clearScripts();
  }

  /** Routes one request (the body read whole). */
  protected handle(request: IncomingMessage, response: ServerResponse, raw: string): void {
    let path = (request.url ?? '/').split('?')[0] ?? '/';
    let region: FakeOppoRegion = 'cn';
    if (path.startsWith('/intl/')) {
      region = 'intl';
      path = path.slice('/intl'.length);
    }
    const form = /^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '')
      ? Object.fromEntries(new URLSearchParams(raw))
      : {};
    if (request.method !== 'POST' && path.startsWith('/server/v1/')) {
      this.answer(request, response, 12);
    } else if (path === '/server/v1/auth') {
      this.auth(request, response, region, form);
    } else if (path === '/server/v1/message/notification/unicast') {
      this.send(request, response, region, form, 'unicast');
    } else if (path === '/server/v1/message/notification/unicast_batch') {
      this.send(request, response, region, form, 'unicast_batch');
    } else {
      this.answer(request, response, { status: 404, body: '{"code":404,"message":"Not Found"}' });
    }
  }

  private auth(
    request: IncomingMessage,
    response: ServerResponse,
    region: FakeOppoRegion,
    fields: Record<string, string>,
  ): void {
    const now = this.clock.now();
    const entry: FakeOppoAuthRequest = { at: now, region, fields, code: undefined, authToken: undefined };
    const scripted = this.outage ?? this.authScript.shift();
    let answer: FakeOppoAnswer;
    if (scripted !== undefined && scripted !== 'ok') {
      answer = scripted;
    } else {
      const code = this.checkAuth(fields, now);
      if (code !== 0) {
        answer = code;
      } else {
        this.counts.authTokensIssued += 1;
        const authToken = `${region}-${this.counts.authTokensIssued}-${randomBytes(16).toString('hex')}`;
        this.issued.set(authToken, { region, expiresAt: now + this.authTokenLifetimeMs });
        entry.authToken = authToken;
        answer = {
          status: 200,
          body: JSON.stringify({ code: 0, message: '', data: { auth_token: authToken, create_time: now } }),
        };
      }
    }
    entry.code = codeOf(answer);
    if (this.record) this.authRequests.push(entry);
    this.emit('auth', entry);
    this.answer(request, response, answer);
  }

  private checkAuth(fields: Record<string, string>, now: number): number {
    const { app_key: appKey, sign, timestamp } = fields;
    if (appKey === undefined || appKey === '') return 15;
    if (appKey !== this.appKey) return 14;
    if (sign === undefined || sign === '') return 17;
    if (timestamp === undefined || timestamp === '') return 18;
    if (!/^\d{13}$/.test(timestamp) || Math.abs(Number(timestamp) - now) > 10 * 60_000) return 19;
    const expected = createHash('sha256').update(`${appKey}${timestamp}${this.masterSecret}`).digest('hex');
    return sign.toLowerCase() === expected ? 0 : 16;
  }

  private send(
    request: IncomingMessage,
    response: ServerResponse,
    region: FakeOppoRegion,
    form: Record<string, string>,
    api: FakeOppoReceived['api'],
  ): void {
    const now = this.clock.now();
    this.counts.requests += 1;
    const field = api === 'unicast' ? form.message : form.messages;
    let parsed: unknown;
    try {
      parsed = field === undefined ? undefined : JSON.parse(field);
    } catch {
      parsed = null;
    }
    const messages = (api === 'unicast' ? [parsed] : Array.isArray(parsed) ? parsed : [])
      .map(objectOf)
      .filter((message) => message !== undefined);
    const received: FakeOppoReceived = {
      at: now,
      region,
      api,
      headers: request.headers,
      authToken: form.auth_token,
      messages,
      tokens: messages.map((message) => String(message.target_value ?? '')),
      code: undefined,
      errorCodes: [],
    };
    const answer = this.decide(region, form, field, parsed, api, received, now);
    received.code = codeOf(answer);
    if (this.record) this.received.push(received);
    this.emit('request', received);
    this.answer(request, response, this.latencyMs > 0 ? { delayMs: this.latencyMs, answer } : answer);
  }

  private decide(
    region: FakeOppoRegion,
    form: Record<string, string>,
    field: string | undefined,
    parsed: unknown,
    api: FakeOppoReceived['api'],
    received: FakeOppoReceived,
    now: number,
  ): FakeOppoAnswer {
    if (this.outage !== undefined) return this.outage;
    const authToken = form.auth_token;
    if (authToken === undefined || authToken === '') return 29;
    const issued = this.issued.get(authToken);
    if (issued === undefined || issued.region !== region || issued.expiresAt <= now) return 11;
    const scripted = this.nextAnswers.shift();
    if (scripted !== undefined && scripted !== 'ok') return scripted;
    if (field === undefined)
      return problemAnswer({ code: 40, detail: api === 'unicast' ? 'message' : 'messages' });
    if (api === 'unicast_batch' && (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > 1000)) {
      return problemAnswer({ code: 41, detail: 'messages must hold 1 to 1000 messages' });
    }
    for (const message of api === 'unicast' ? [parsed] : (parsed as unknown[])) {
      const problem = checkMessage(message, this.strongReminder);
      if (problem !== undefined) return problemAnswer(problem);
    }
    const day = chinaDay(now);
    if (this.today.day !== day) this.today = { day, count: 0 };
    const count = received.messages.length;
    if (this.today.count + count > this.dailyLimit) return 33;

    const results = received.messages.map((message, i) => {
      const token = received.tokens[i] ?? '';
      const code = this.nextTokenAnswer(token);
      if (code !== 0) return { registrationId: token, code };
      const notification = objectOf(message.notification) ?? {};
      const once =
        typeof notification.app_message_id === 'string'
          ? `${token}\u0000${notification.app_message_id}`
          : undefined;
      let messageId = once === undefined ? undefined : this.sentOnce.get(once);
      if (messageId === undefined) {
        this.messageCounter += 1;
        messageId = `${FAKE_OPPO_APP_ID}-1-1-${this.messageCounter.toString(16).padStart(24, '0')}`;
        this.today.count += 1;
        this.counts.messagesAccepted += 1;
        if (once !== undefined && this.record) this.sentOnce.set(once, messageId);
      }
      return { registrationId: token, code: 0, messageId };
    });
    received.errorCodes = results.map((result) => result.code);

    if (api === 'unicast') {
      const [result] = results;
      if (result === undefined || result.code !== 0) return result?.code ?? 41;
      return okBody({ messageId: result.messageId });
    }
    return okBody(
      results.map((result) =>
        result.code === 0
          ? { messageId: result.messageId, registrationId: result.registrationId }
          : {
              messageId: '',
              registrationId: result.registrationId,
              errorCode: result.code,
              errorMessage: FAKE_OPPO_MESSAGES[result.code] ?? 'error',
            },
      ),
    );
  }

  private nextTokenAnswer(token: string): number {
    const next = this.scripts.next(token);
    return next === undefined || next === 'ok' ? 0 : next;
  }

  private answer(request: IncomingMessage, response: ServerResponse, answer: FakeOppoAnswer): void {
    this.respond(request, response, answer, resolveAnswer);
  }
}

function resolveAnswer(answer: FakeOppoAnswer): RawAnswer {
  if (answer === 'ok') return okBody({});
  if (typeof answer === 'number') {
    return {
      status: 200,
      body: JSON.stringify({ code: answer, message: FAKE_OPPO_MESSAGES[answer] ?? 'error' }),
    };
  }
  return answer as RawAnswer;
}

function okBody(data: unknown): RawAnswer {
  return { status: 200, body: JSON.stringify({ code: 0, message: '', data }) };
}

function problemAnswer(problem: Problem): FakeOppoAnswer {
  const message = `${FAKE_OPPO_MESSAGES[problem.code] ?? 'error'}: ${problem.detail}`;
  return { status: 200, body: JSON.stringify({ code: problem.code, message }) };
}

function codeOf(answer: FakeOppoAnswer): number | undefined {
  if (typeof answer === 'number') return answer;
  if (answer === 'ok') return 0;
  if (typeof answer !== 'object') return undefined;
  if ('delayMs' in answer) return codeOf(answer.answer);
  try {
    const code = objectOf(JSON.parse(answer.body))?.code;
    return typeof code === 'number' && answer.status === 200 ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a fake OPPO PUSH on 127.0.0.1, on a free port. */
export async function startFakeOppo(options: FakeOppoOptions = {}): Promise<FakeOppo> {
  return new FakeOppo(await listenHttps(), options);
}
