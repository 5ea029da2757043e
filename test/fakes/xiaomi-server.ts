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
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.js';
import { XIAOMI_REGIONS, type XiaomiRegion } from '../../src/delivery/providers/xiaomi/xiaomi.config.js';
import { systemClock } from './fake-values.js';
import { HttpsFake, type RawAnswer, TEST_CA, type TransportAnswer } from './https-fake.js';
import { type HttpsListener, listenHttps } from './https-listener.js';
import { codeOf, FAKE_XIAOMI_ERRORS, json, type MiPushError } from './xiaomi-errors.js';
import type {
  FakeXiaomiAnswer,
  FakeXiaomiEvents,
  FakeXiaomiOptions,
  FakeXiaomiReceived,
} from './xiaomi-types.js';
import { checkFields } from './xiaomi-validation.js';

export { FAKE_XIAOMI_ERRORS, type FakeXiaomiErrorName } from './xiaomi-errors.js';
export type { FakeXiaomiAnswer, FakeXiaomiOptions, FakeXiaomiReceived } from './xiaomi-types.js';

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
/** An answer with its body written: what goes on the wire, now or after a delay. */
type Resolved = RawAnswer | TransportAnswer<RawAnswer>;

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
    const problem = checkFields(request, fields, tokens, this.packageName, this.channels);
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
    this.respond(request, response, answer, (canned: RawAnswer) => canned);
  }
}

/** The answer that ends up on the wire, if any. */
function wire(resolved: Resolved): RawAnswer | undefined {
  if (resolved === 'hang' || resolved === 'reset') return undefined;
  return 'delayMs' in resolved ? wire(resolved.answer) : resolved;
}

/** Starts a fake MiPush on 127.0.0.1, on a free port. */
export async function startFakeXiaomi(options: FakeXiaomiOptions = {}): Promise<FakeXiaomi> {
  return new FakeXiaomi(await listenHttps(), options);
}
