/**
 * A fake Xiaomi MiPush for tests and benchmarks: `POST /v3/message/regid` over HTTPS on
 * 127.0.0.1 with the test CA of the FCM fake (test/fixtures/fcm/). It checks what MiPush
 * checks — the AppSecret in `Authorization: key=…`, the form encoding, the package name, the
 * fields and their types, the app's approved channel ids — and answers with MiPush's bodies
 * (reference/providers.md §4.4): HTTP 200 and a `code`, `data.bad_regids` for partial success.
 *
 * Every region is served on the same port under a path prefix (`/europe/v3/message/regid`):
 * `regionUrls()` is the host table a deployment would use, so a test sees which region's host
 * a request went to. Any regId is accepted unless scripted otherwise.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.js';
import { XIAOMI_REGIONS, type XiaomiRegion } from '../../src/delivery/providers/xiaomi/xiaomi.config.js';
import { HttpsFake, TEST_CA, type TransportAnswer } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';

/** The test CA: trust it (the settings' `ca`) to talk to the fake. */
export const FAKE_XIAOMI_CA = TEST_CA;

/** The test app, as registered in the (fake) Xiaomi console. */
export const FAKE_XIAOMI_APP = {
  appSecret: 'Zm9vYmFyRG9vcmJlbGxTZWM=',
  packageName: 'com.example.android.doorbell',
  ringChannelId: 'doorbell_ring',
  messageChannelId: 'doorbell_alert',
} as const;

const SEND_PATH = '/v3/message/regid';
const MAX_REGIDS = 1000;
const MAX_PAYLOAD_BYTES = 4096;
const KNOWN_FIELDS = new Set([
  'registration_id',
  'restricted_package_name',
  'pass_through',
  'title',
  'description',
  'payload',
  'notify_type',
  'notify_id',
  'time_to_live',
  'time_to_send',
]);

interface MiPushError {
  code: number;
  reason: string;
  description: string;
}

/**
 * MiPush's error answers by name. The bodies of 20301, 21301 and 65011 are copied from real
 * answers (reference/providers.md X5); the others follow the same shape with the meaning of
 * Xiaomi's code table (X2), whose exact `reason` texts were not in any stored source.
 */
export const FAKE_XIAOMI_ERRORS = {
  NO_VALID_TARGETS: { code: 20301, reason: 'No valid targets!', description: '发送消息失败' },
  INVALID_APP_SECRET: { code: 21301, reason: 'Invalid application secret.', description: '认证失败' },
  EMPTY_TITLE: { code: 65011, reason: 'Title or Description is empty!', description: '未提供参数' },
  SYSTEM_ERROR: { code: 10001, reason: 'System error.', description: '系统错误' },
  SYSTEM_BUSY: { code: 10002, reason: 'System is busy.', description: '系统繁忙' },
  TOO_FREQUENT: { code: 10027, reason: 'Requests are too frequent.', description: '应用请求频率过快' },
  DAILY_QUOTA: {
    code: 10034,
    reason: 'Too many messages sent by the app today.',
    description: '当日发送消息数量超过限制',
  },
  DAILY_LIMIT: { code: 200001, reason: 'Daily push limit exceeded.', description: '超过当日推送上限' },
  REQUEST_EXPIRED: { code: 10037, reason: 'Request expired.', description: '请求已过期' },
  MISSING_PARAMETER: { code: 10016, reason: 'Missing parameter.', description: '缺失必选参数' },
  ILLEGAL_PARAMETER: { code: 10017, reason: 'Illegal parameter value.', description: '非法参数值' },
  CONTENT_TOO_LONG: { code: 65009, reason: 'Message content too long.', description: '消息内容过长' },
  DEVICE_NOT_FOUND: { code: 65003, reason: 'Device not found.', description: '设备不存在' },
  APP_BLACKLISTED: { code: 10031, reason: 'App is in the blacklist.', description: '应用被加入黑名单' },
  ILLEGAL_PACKAGE: { code: 22022, reason: 'Illegal package name.', description: '非法的包名' },
  CHANNEL_MISMATCH: { code: 27001, reason: 'Channel info mismatch.', description: '通道信息不匹配' },
} as const satisfies Record<string, MiPushError>;

export type FakeXiaomiErrorName = keyof typeof FAKE_XIAOMI_ERRORS;

/**
 * How the fake answers:
 * - `'ok'`: sent; `'bad_regid'` (for one token): the send goes out and lists the token in
 *   `data.bad_regids` — or answers 20301 when no token of the request is left;
 * - an error name: that MiPush error, for the whole request (`{error, reason}` rewords it);
 * - `{status, body, headers}`: anything, e.g. a proxy's HTML 502 or a 429 with Retry-After;
 * - `{delayMs, answer}`: that answer after a delay; `'hang'`: never; `'reset'`: drops the connection.
 */
export type FakeXiaomiAnswer =
  | 'ok'
  | 'bad_regid'
  | 'hang'
  | 'reset'
  | FakeXiaomiErrorName
  | { error: FakeXiaomiErrorName; reason: string }
  | { status: number; body: string; headers?: Record<string, string> }
  | { delayMs: number; answer: FakeXiaomiAnswer };

/** One request, as received. */
export interface FakeXiaomiReceived {
  /** The fake's clock, Unix ms. */
  at: number;
  /** The region whose host it was sent to (`regionUrls()`); null for the bare `url`. */
  region: XiaomiRegion | null;
  path: string;
  headers: IncomingHttpHeaders;
  /** The form fields, decoded. */
  fields: Record<string, string>;
  /** `registration_id`, split at the commas. */
  tokens: string[];
  /** The HTTP status answered (0: `hang` / `reset`). */
  status: number;
  /** MiPush's `code` answered, when the answer was MiPush's JSON. */
  code: number | undefined;
  /** The regIds answered in `data.bad_regids`. */
  badRegIds: string[];
}

export interface FakeXiaomiOptions {
  /** The fake's idea of now (recorded as `at`). Default: the system clock. */
  clock?: Clock;
  /** The AppSecret the fake accepts. Default FAKE_XIAOMI_APP.appSecret. */
  appSecret?: string;
  packageName?: string;
  /** The channel ids approved for the app; others answer 27001. */
  channels?: readonly string[];
  /** Added before every answer (benchmarks). Default 0. */
  latencyMs?: number;
  /** Keep every request in `received`. Default true; off for long benchmarks (counters still count). */
  record?: boolean;
}

interface FakeXiaomiEvents {
  request: [FakeXiaomiReceived];
}

type Canned = { status: number; body: string; headers?: Record<string, string> | undefined };
/** An answer with its body written: what goes on the wire, now or after a delay. */
type Resolved = Canned | TransportAnswer<Canned>;

const systemClock: Clock = { now: () => Date.now() };
const regionPrefix = new RegExp(`^/(${XIAOMI_REGIONS.join('|')})(?=/)`);

function isRequestLevel(answer: FakeXiaomiAnswer): boolean {
  return answer !== 'ok' && answer !== 'bad_regid';
}

export class FakeXiaomi extends HttpsFake<FakeXiaomiAnswer, FakeXiaomiAnswer, FakeXiaomiEvents> {
  readonly ca = FAKE_XIAOMI_CA;
  /** Every request, in arrival order (when recording). */
  readonly received: FakeXiaomiReceived[] = [];

  private requests = 0;
  private regIds = 0;
  private traces = 0;
  private readonly clock: Clock;
  private readonly appSecret: string;
  private readonly packageName: string;
  private readonly channels: Set<string>;
  private readonly latencyMs: number;
  private readonly record: boolean;

  constructor(listener: HttpsListener, options: FakeXiaomiOptions) {
    super(listener);
    this.clock = options.clock ?? systemClock;
    this.appSecret = options.appSecret ?? FAKE_XIAOMI_APP.appSecret;
    this.packageName = options.packageName ?? FAKE_XIAOMI_APP.packageName;
    this.channels = new Set(
      options.channels ?? [FAKE_XIAOMI_APP.ringChannelId, FAKE_XIAOMI_APP.messageChannelId],
    );
    this.latencyMs = options.latencyMs ?? 0;
    this.record = options.record ?? true;
  }

  /** Requests received so far (recorded or not). */
  get requestCount(): number {
    return this.requests;
  }

  /** regIds received so far, over all requests. */
  get regIdCount(): number {
    return this.regIds;
  }

  /** The host of every region, all on this fake (`createXiaomiProvider({regionUrls})`). */
  regionUrls(): Record<XiaomiRegion, string> {
    return Object.fromEntries(XIAOMI_REGIONS.map((region) => [region, `${this.url}/${region}`])) as Record<
      XiaomiRegion,
      string
    >;
  }

  /** The settings an app would be configured with to use this fake (admin API `xiaomi`). */
  credentials(): {
    app_secret: string;
    package_name: string;
    ring_channel_id: string;
    message_channel_id: string;
    url: string;
    ca: string;
  } {
    return {
      app_secret: this.appSecret,
      package_name: this.packageName,
      ring_channel_id: FAKE_XIAOMI_APP.ringChannelId,
      message_channel_id: FAKE_XIAOMI_APP.messageChannelId,
      url: this.url,
      ca: this.ca,
    };
  }

  /** The next requests that pass the checks answer these, one each, whatever their tokens. */
  scriptNext(answers: readonly FakeXiaomiAnswer[]): void {
    this.nextAnswers.push(...answers);
  }

  /** Forgets recorded requests, scripts and the outage (not the counters). */
  reset(): void {
    this.received.length = 0;
    this.clearScripts();
  }

  protected handle(request: IncomingMessage, response: ServerResponse, raw: string): void {
    const fullPath = (request.url ?? '/').split('?')[0] ?? '/';
    const prefix = regionPrefix.exec(fullPath);
    const region = (prefix?.[1] as XiaomiRegion | undefined) ?? null;
    const path = prefix === null ? fullPath : fullPath.slice(prefix[0].length);
    const form = /^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '')
      ? new URLSearchParams(raw)
      : new URLSearchParams();
    const fields: Record<string, string> = {};
    for (const [key, value] of form) fields[key] = value;
    const tokens = (fields.registration_id ?? '').split(',').filter((token) => token !== '');
    this.requests += 1;
    this.regIds += tokens.length;

    const received: FakeXiaomiReceived = {
      at: this.clock.now(),
      region,
      path,
      headers: request.headers,
      fields,
      tokens,
      status: 0,
      code: undefined,
      badRegIds: [],
    };
    const answer = this.decide(request, path, fields, tokens, received);
    if (this.record) this.received.push(received);
    this.emit('request', received);
    this.answer(request, response, this.latencyMs > 0 ? { delayMs: this.latencyMs, answer } : answer);
  }

  /** The answer to one request; fills in what `received` reports about it. */
  private decide(
    request: IncomingMessage,
    path: string,
    fields: Record<string, string>,
    tokens: string[],
    received: FakeXiaomiReceived,
  ): Resolved {
    const settle = (answer: FakeXiaomiAnswer, bad: readonly string[] = []) => {
      const resolved = this.canned(answer, tokens, bad);
      const canned = wire(resolved);
      if (canned !== undefined) {
        received.status = canned.status;
        received.code = codeOf(canned.body);
        if (received.code === 0) received.badRegIds = [...bad];
      }
      return resolved;
    };
    if (request.method !== 'POST' || path !== SEND_PATH) {
      received.status = 404;
      return { status: 404, body: '<html><body><h1>404 Not Found</h1></body></html>' };
    }
    if (this.outage !== undefined) return settle(this.outage);
    if (request.headers.authorization !== `key=${this.appSecret}`) return settle('INVALID_APP_SECRET');
    const problem = this.checkFields(request, fields, tokens);
    if (problem !== undefined) return settle(problem);
    const scripted = this.nextAnswers.shift();
    if (scripted !== undefined) return settle(scripted);

    const bad: string[] = [];
    for (const token of tokens) {
      const answer = this.scripts.next(token);
      if (answer === undefined || answer === 'ok') continue;
      if (answer === 'bad_regid') bad.push(token);
      else if (isRequestLevel(answer)) return settle(answer);
    }
    return settle('ok', bad);
  }

  /** The checks MiPush makes on a send, reduced to what an adapter could get wrong. */
  private checkFields(
    request: IncomingMessage,
    fields: Record<string, string>,
    tokens: string[],
  ): FakeXiaomiAnswer | undefined {
    const illegal = (reason: string): FakeXiaomiAnswer => ({ error: 'ILLEGAL_PARAMETER', reason });
    if (!/^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '')) {
      return { error: 'MISSING_PARAMETER', reason: 'registration_id is required.' };
    }
    for (const key of Object.keys(fields)) {
      if (!KNOWN_FIELDS.has(key) && !key.startsWith('extra.')) return illegal(`Unknown parameter ${key}.`);
    }
    if (tokens.length === 0) return { error: 'MISSING_PARAMETER', reason: 'registration_id is required.' };
    if (tokens.length > MAX_REGIDS) return illegal(`Too many registration ids (max ${MAX_REGIDS}).`);
    if (fields.restricted_package_name !== this.packageName) return 'ILLEGAL_PACKAGE';
    const passThrough = fields.pass_through ?? '0';
    if (passThrough !== '0' && passThrough !== '1') return illegal('pass_through must be 0 or 1.');
    if (passThrough === '0') {
      if (!fields.title || !fields.description) return 'EMPTY_TITLE';
      if ([...fields.title].length >= 50 || [...fields.description].length >= 128) {
        return illegal('Title or description too long.');
      }
    }
    if (Buffer.byteLength(fields.payload ?? '') > MAX_PAYLOAD_BYTES) return 'CONTENT_TOO_LONG';
    if (fields.time_to_live !== undefined && !/^[1-9]\d{0,12}$/.test(fields.time_to_live)) {
      return illegal('time_to_live must be a positive number of milliseconds.');
    }
    if (fields.notify_type !== undefined && !/^(-1|[0-7])$/.test(fields.notify_type)) {
      return illegal('notify_type must be -1 or a sum of 1, 2 and 4.');
    }
    if (
      fields.notify_id !== undefined &&
      (!/^\d{1,10}$/.test(fields.notify_id) || Number(fields.notify_id) > 2_147_483_647)
    ) {
      return illegal('notify_id must be an integer from 0 to 2147483647.');
    }
    const onlyOnce = fields['extra.only_send_once'];
    if (onlyOnce !== undefined && onlyOnce !== '0' && onlyOnce !== '1') {
      return illegal('extra.only_send_once must be 0 or 1.');
    }
    const channel = fields['extra.channel_id'];
    if (channel === undefined) {
      return { error: 'MISSING_PARAMETER', reason: 'extra.channel_id is required for this app.' };
    }
    if (!this.channels.has(channel)) return 'CHANNEL_MISMATCH';
    return undefined;
  }

  private traceId(prefix: string): string {
    this.traces += 1;
    return `${prefix}${(1_700_000_000 + this.traces).toString(36)}${this.traces.toString(36).padStart(6, '0')}`;
  }

  private canned(answer: FakeXiaomiAnswer, tokens: readonly string[], bad: readonly string[]): Resolved {
    if (answer === 'hang' || answer === 'reset') return answer;
    if (typeof answer === 'object' && 'delayMs' in answer) {
      return { delayMs: answer.delayMs, answer: this.canned(answer.answer, tokens, bad) };
    }
    if (typeof answer === 'object' && 'status' in answer) return answer;
    if (answer === 'bad_regid') return this.canned('ok', tokens, tokens);
    if (answer === 'ok' && bad.length < tokens.length) {
      const data: Record<string, string> = { id: this.traceId('slm') };
      if (bad.length > 0) data.bad_regids = bad.join(',');
      return json({
        result: 'ok',
        trace_id: this.traceId('Xlm'),
        code: 0,
        data,
        description: '成功',
        info: `Received push messages for ${tokens.length - bad.length} REGID`,
      });
    }
    const error: MiPushError =
      answer === 'ok'
        ? FAKE_XIAOMI_ERRORS.NO_VALID_TARGETS
        : typeof answer === 'object'
          ? { ...FAKE_XIAOMI_ERRORS[answer.error], reason: answer.reason }
          : FAKE_XIAOMI_ERRORS[answer];
    return json({
      result: 'error',
      reason: error.reason,
      trace_id: this.traceId('Xcm'),
      code: error.code,
      description: error.description,
    });
  }

  private answer(request: IncomingMessage, response: ServerResponse, answer: Resolved): void {
    this.respond(request, response, answer, (canned: Canned) => canned);
  }
}

/** The answer that ends up on the wire, if any. */
function wire(resolved: Resolved): Canned | undefined {
  if (resolved === 'hang' || resolved === 'reset') return undefined;
  return 'delayMs' in resolved ? wire(resolved.answer) : resolved;
}

function json(body: unknown): Canned {
  return { status: 200, body: JSON.stringify(body) };
}

function codeOf(body: string): number | undefined {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === 'number' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a fake MiPush on 127.0.0.1, on a free port. */
export async function startFakeXiaomi(options: FakeXiaomiOptions = {}): Promise<FakeXiaomi> {
  return new FakeXiaomi(await listenHttps(), options);
}
