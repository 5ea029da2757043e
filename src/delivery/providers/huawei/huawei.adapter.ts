import type { Clock } from '../../../clock.js';
import { createLimiter } from '../../../limiter.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import type { AccessTokenStore } from '../shared/access-tokens.js';
import { batchIdenticalMessages, type MessageBatch } from '../shared/batches.js';
import { type HttpAnswer, HttpClient, type HttpPost } from '../shared/http-client.js';
import { createHuaweiAccessTokenSource, HuaweiAuthError, transportReason } from './huawei.auth.js';
import { HuaweiSettingsError, validateHuaweiSettings } from './huawei.config.js';
import {
  classifyHuaweiFailure,
  HUAWEI_OAUTH_ERROR,
  HUAWEI_OAUTH_EXPIRED,
  HUAWEI_PARTIAL_SUCCESS,
  HUAWEI_SUCCESS,
  illegalTokens,
  type PushFailure,
  parseHuaweiReply,
} from './huawei.errors.js';
import { buildHuaweiRequest, HUAWEI_MAX_TOKENS } from './huawei.request.js';

export interface HuaweiAdapterOptions {
  clock: Clock;
  /** Per HTTP exchange (token or send), connecting included. Default 10 s. */
  requestTimeoutMs?: number;
  /** Requests in flight at once, across `send` calls; also the connection-pool size. Default 16. */
  concurrency?: number;
  /** Tokens per request, 1…1000. Default 1000 (Push Kit's maximum). */
  maxTokensPerRequest?: number;
  /** Where access tokens are cached; default: in this adapter's memory. */
  accessTokens?: AccessTokenStore;
}

const isTokenRejection = (code: string | undefined) =>
  code === HUAWEI_OAUTH_ERROR || code === HUAWEI_OAUTH_EXPIRED;

/**
 * Huawei Push Kit (reference/providers.md §3). Messages that differ only by token go out in
 * one request of up to 1,000 tokens; each ring goes out alone, at once. The OAuth access token
 * is shared by all requests and replaced 5 minutes before it expires; an 80200001 / 80200003
 * answer replaces it once and sends that request again. An 80100000 partial success marks
 * exactly the tokens it lists as dead. `send` never throws: network faults and timeouts are
 * `retry` results.
 *
 * Throws `HuaweiSettingsError` when the settings do not validate.
 */
export function createHuaweiAdapter(input: unknown, options: HuaweiAdapterOptions): PushAdapter {
  const check = validateHuaweiSettings(input);
  if (!check.ok) throw new HuaweiSettingsError(check.error);
  const { settings } = check;
  const { clock } = options;
  const concurrency = options.concurrency ?? 16;
  const batchSize = options.maxTokensPerRequest ?? HUAWEI_MAX_TOKENS;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be ≥ 1');
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > HUAWEI_MAX_TOKENS) {
    throw new RangeError(`maxTokensPerRequest must be 1…${HUAWEI_MAX_TOKENS}`);
  }

  const client = new HttpClient({
    ca: settings.ca,
    maxSockets: concurrency,
    timeoutMs: options.requestTimeoutMs ?? 10_000,
  });
  const post: HttpPost = (url, headers, body) => client.post(url, headers, body);
  const accessTokens = createHuaweiAccessTokenSource({
    settings,
    post,
    clock,
    store: options.accessTokens,
  });
  const limit = createLimiter(concurrency);
  let closed = false;

  /** One send of the batch's request with this access token: Push Kit's answer, or a failure. */
  const attempt = (batch: MessageBatch, accessToken: string): Promise<HttpAnswer | PushFailure> => {
    const request = buildHuaweiRequest(batch.messages, settings, clock.now());
    const headers = { ...request.headers, authorization: `Bearer ${accessToken}` };
    return post(request.url, headers, request.body).catch(
      (error: unknown): PushFailure => ({ ok: false, failure: 'retry', reason: transportReason(error) }),
    );
  };

  const sendBatch = async (batch: MessageBatch): Promise<PushResult[]> => {
    const all = (result: PushResult) => batch.messages.map(() => result);
    if (closed) return all({ ok: false, failure: 'retry', reason: 'adapter_closed' });
    let answer: HttpAnswer | PushFailure;
    try {
      let accessToken = await accessTokens.get();
      answer = await attempt(batch, accessToken);
      if ('status' in answer && isTokenRejection(parseHuaweiReply(answer.body).code)) {
        accessToken = await accessTokens.get({ rejected: accessToken });
        answer = await attempt(batch, accessToken);
      }
    } catch (error) {
      if (!(error instanceof HuaweiAuthError)) throw error;
      const failure: PushFailure = { ok: false, failure: error.failure, reason: error.reason };
      if (error.retryAfterMs !== undefined) failure.retryAfterMs = error.retryAfterMs;
      return all(failure);
    }
    if (!('status' in answer)) return all(answer);

    const reply = parseHuaweiReply(answer.body);
    const sent: PushResult = { ok: true, providerMessageId: reply.requestId };
    if (answer.status === 200 && reply.code === HUAWEI_SUCCESS) return all(sent);
    if (answer.status === 200 && reply.code === HUAWEI_PARTIAL_SUCCESS) {
      const tokens = batch.messages.map((message) => message.token);
      const illegal = illegalTokens(reply.msg, tokens);
      return tokens.map((token) =>
        illegal.has(token) ? { ok: false, failure: 'dead', reason: 'illegal_token' } : sent,
      );
    }
    const retryAfter = answer.headers['retry-after']?.toString();
    return all(classifyHuaweiFailure({ status: answer.status, reply, retryAfter }, clock.now()));
  };

  return {
    provider: 'huawei',
    batchSize: batchSize,
    async send(messages: readonly PushMessage[]): Promise<PushResult[]> {
      const results: PushResult[] = new Array(messages.length);
      // Rings first: they take the first free connections.
      const batches = batchIdenticalMessages(messages, batchSize).sort(
        (a, b) => Number(b.messages[0]?.channel === 'ring') - Number(a.messages[0]?.channel === 'ring'),
      );
      await Promise.all(
        batches.map(async (batch) => {
          const outcome = await limit(() => sendBatch(batch)).catch((): PushResult[] =>
            batch.messages.map(() => ({ ok: false, failure: 'retry', reason: 'internal_error' })),
          );
          batch.indexes.forEach((position, index) => {
            results[position] = outcome[index] ?? { ok: false, failure: 'retry', reason: 'internal_error' };
          });
        }),
      );
      return results;
    },
    async close(): Promise<void> {
      closed = true;
      await client.close();
    },
  } satisfies PushAdapter;
}
