import type { Clock } from '../../../clock.js';
import { createLimiter } from '../../../limiter.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import { batchIdenticalMessages, type MessageBatch } from '../shared/batches.js';
import { type HttpAnswer, HttpClient, HttpTransportError } from '../shared/http-client.js';
import {
  validateXiaomiCredentials,
  type XiaomiCredentials,
  XiaomiCredentialsError,
  type XiaomiRegionUrls,
} from './xiaomi.config.js';
import {
  classifyXiaomiCode,
  classifyXiaomiStatus,
  type PushFailure,
  parseXiaomiAnswer,
} from './xiaomi.errors.js';
import { buildXiaomiRequest, XIAOMI_MAX_REGIDS, xiaomiAuthorization } from './xiaomi.request.js';

export interface XiaomiAdapterOptions {
  clock: Clock;
  /** Per request, connecting included. Default 10 s. */
  requestTimeoutMs?: number;
  /** Requests in flight at once, across `send` calls; also the connection-pool size. Default 16. */
  concurrency?: number;
  /** regIds per request. Default (and at most) 1000. */
  batchSize?: number;
  /** The host of each region, when a deployment routes them elsewhere; default Xiaomi's. */
  regionUrls?: XiaomiRegionUrls;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONCURRENCY = 16;

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function transportFailure(error: unknown): PushFailure {
  if (!(error instanceof HttpTransportError)) return { ok: false, failure: 'retry', reason: 'network_error' };
  return { ok: false, failure: 'retry', reason: error.reason === 'closed' ? 'adapter_closed' : error.reason };
}

const ringFirst = (batch: MessageBatch) => (batch.messages[0]?.channel === 'ring' ? 0 : 1);

/** A regId MiPush could not be asked about: a comma would split it into two. */
function isAddressable(token: string): boolean {
  return token !== '' && !token.includes(',');
}

/**
 * Xiaomi MiPush (reference/providers.md §4). Messages that differ only by phone go out as one
 * `v3/message/regid` request with up to 1000 comma-joined regIds; a ring goes out at once, on
 * its own. Per-phone results come from `data.bad_regids` (those phones are dead, the others
 * sent); an error code applies to every phone of the request. Authentication is the static
 * AppSecret (`Authorization: key=…`): there is no token to fetch or refresh. `send` never
 * throws: network faults and timeouts are `retry` results.
 *
 * Throws `XiaomiCredentialsError` when the settings do not validate.
 */
export function createXiaomiAdapter(
  credentials: XiaomiCredentials,
  options: XiaomiAdapterOptions,
): PushAdapter {
  const check = validateXiaomiCredentials(credentials, options.regionUrls);
  if (!check.ok) throw new XiaomiCredentialsError(check.error);
  const settings = check.settings;
  const { clock } = options;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const batchSize = options.batchSize ?? XIAOMI_MAX_REGIDS;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError('concurrency must be an integer ≥ 1');
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > XIAOMI_MAX_REGIDS) {
    throw new RangeError(`batchSize must be an integer from 1 to ${XIAOMI_MAX_REGIDS}`);
  }
  if (!(timeoutMs > 0)) throw new RangeError('requestTimeoutMs must be > 0');

  const authorization = xiaomiAuthorization(settings.appSecret);
  let client: HttpClient | undefined;
  let closed = false;
  const limit = createLimiter(concurrency);

  const results = (answer: HttpAnswer, tokens: readonly string[]): PushResult[] => {
    const now = clock.now();
    const body = parseXiaomiAnswer(answer.body);
    const ok = answer.status >= 200 && answer.status < 300;
    let failure: PushFailure;
    if (body?.code === undefined) {
      failure = ok
        ? { ok: false, failure: 'retry', reason: 'bad_response' }
        : classifyXiaomiStatus(answer.status, header(answer.headers['retry-after']), now);
    } else if (body.code === 0 && ok) {
      return tokens.map((token) =>
        body.badRegIds.has(token)
          ? { ok: false, failure: 'dead', reason: 'MIPUSH_BAD_REGID' }
          : { ok: true, providerMessageId: body.messageId },
      );
    } else {
      failure = classifyXiaomiCode(body.code, now);
    }
    return tokens.map(() => failure);
  };

  const sendBatch = async (batch: MessageBatch): Promise<PushResult[]> => {
    const first = batch.messages[0];
    const tokens = batch.messages.map((message) => message.token);
    if (first === undefined) return [];
    if (closed) return tokens.map(() => ({ ok: false, failure: 'retry', reason: 'adapter_closed' }));
    const request = buildXiaomiRequest(first, settings, clock.now(), tokens);
    client ??= new HttpClient({ ca: settings.ca, maxSockets: concurrency, timeoutMs });
    try {
      const answer = await client.post(request.url, { ...request.headers, authorization }, request.body);
      return results(answer, tokens);
    } catch (error) {
      const failure = transportFailure(error);
      return tokens.map(() => failure);
    }
  };

  const guarded = async (batch: MessageBatch): Promise<PushResult[]> => {
    try {
      return await sendBatch(batch);
    } catch {
      return batch.messages.map(() => ({ ok: false, failure: 'retry', reason: 'internal_error' }));
    }
  };

  return {
    provider: 'xiaomi',
    batchSize: batchSize,
    async send(messages: readonly PushMessage[]): Promise<PushResult[]> {
      const out: PushResult[] = messages.map(() => ({
        ok: false,
        failure: 'dead',
        reason: 'INVALID_REGID',
      }));
      const sendable: PushMessage[] = [];
      const positions: number[] = [];
      messages.forEach((message, index) => {
        if (!isAddressable(message.token)) return;
        sendable.push(message);
        positions.push(index);
      });
      // Rings take the first places in the queue: a doorbell does not wait behind a newsletter.
      const batches = batchIdenticalMessages(sendable, batchSize).sort((a, b) => ringFirst(a) - ringFirst(b));
      await Promise.all(
        batches.map(async (batch) => {
          const answers = await limit(() => guarded(batch));
          batch.indexes.forEach((index, at) => {
            const position = positions[index];
            const result = answers[at];
            if (position !== undefined && result !== undefined) out[position] = result;
          });
        }),
      );
      return out;
    },
    async close(): Promise<void> {
      closed = true;
      await client?.close();
    },
  } satisfies PushAdapter;
}
