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
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.js';
import { objectOf, systemClock } from './fake-values.js';
import { HttpsFake, TEST_CA } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';
import { codeOf, FAKE_OPPO_MESSAGES, okBody, problemAnswer, resolveAnswer } from './oppo-answers.js';
import type {
  FakeOppoAnswer,
  FakeOppoAuthRequest,
  FakeOppoEvents,
  FakeOppoOptions,
  FakeOppoReceived,
  FakeOppoRegion,
  FakeOppoTokenAnswer,
} from './oppo-types.js';
import { checkMessage } from './oppo-validation.js';

export { FAKE_OPPO_MESSAGES } from './oppo-answers.js';
export type {
  FakeOppoAnswer,
  FakeOppoAuthRequest,
  FakeOppoOptions,
  FakeOppoReceived,
  FakeOppoRegion,
  FakeOppoTokenAnswer,
} from './oppo-types.js';

/** The test CA: trust it (the settings' `ca`) to talk to the fake. */
export const FAKE_OPPO_CA = TEST_CA;

export const FAKE_OPPO_APP_ID = '30912345';
export const FAKE_OPPO_APP_KEY = 'b2f7c0a9e41d4c3f8a6e5d2c1b0a9f8e';
export const FAKE_OPPO_MASTER_SECRET = '9c1e7a5f3b2d4e6a8c0b1d3f5e7a9c2b';
export const FAKE_OPPO_RING_CHANNEL = 'bellhop_ring';
export const FAKE_OPPO_MESSAGE_CHANNEL = 'bellhop_message';

const DAY_MS = 24 * 3600_000;
const chinaDay = (now: number) => Math.floor((now + 8 * 3600_000) / DAY_MS);

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

/** Starts a fake OPPO PUSH on 127.0.0.1, on a free port. */
export async function startFakeOppo(options: FakeOppoOptions = {}): Promise<FakeOppo> {
  return new FakeOppo(await listenHttps(), options);
}
