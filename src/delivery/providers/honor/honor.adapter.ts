import type { Clock } from '../../../clock.js';
import { createLimiter } from '../../../limiter.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import type { AccessTokenStore } from '../shared/access-tokens.js';
import { batchIdenticalMessages, type MessageBatch } from '../shared/batches.js';
import { type HttpAnswer, HttpClient, type HttpPost } from '../shared/http-client.js';
import { createHonorAccessTokenSource, firstHeader, HonorAuthError } from './honor.auth.js';
import { HonorSettingsError, type HonorSettingsInput, validateHonorSettings } from './honor.config.js';
import {
  classifyHonorFailure,
  HONOR_PARTIAL_CODE,
  HONOR_SUCCESS_CODES,
  HONOR_TOKEN_REFUSED_CODES,
  type PushFailure,
  parseHonorReply,
  resultsPerToken,
  transportReason,
} from './honor.errors.js';
import { buildHonorRequest, HONOR_MAX_TOKENS } from './honor.request.js';

export interface HonorAdapterOptions {
  clock: Clock;
  /** Per HTTP exchange (token or send), connecting included. Default 10 s. */
  requestTimeoutMs?: number;
  /** Requests in flight at once, across `send` calls; also the connection-pool size. Default 32. */
  concurrency?: number;
  /** Where access tokens are cached; default: in this adapter's memory. */
  accessTokens?: AccessTokenStore;
  /** Tokens per `sendMessage` call, 1 … 1000. Default 1000. */
  maxTokensPerRequest?: number;
}

function authFailure(error: unknown): PushFailure {
  if (!(error instanceof HonorAuthError)) return { ok: false, failure: 'retry', reason: 'oauth_error' };
  const failure: PushFailure = { ok: false, failure: error.failure, reason: error.reason };
  if (error.retryAfterMs !== undefined) failure.retryAfterMs = error.retryAfterMs;
  return failure;
}

/** Honor refused the access token itself: expired early, revoked, or not this app's. */
function tokenRefused(answer: HttpAnswer): boolean {
  const { code } = parseHonorReply(answer.body);
  return code === undefined ? answer.status === 401 : HONOR_TOKEN_REFUSED_CODES.has(code);
}

/**
 * Honor Push (reference/providers.md §5.3). Messages that differ only by token go out together,
 * up to 1000 tokens per `sendMessage` call, and Honor's per-token answer (`expireTokens`,
 * `failTokens`) is mapped back to each message; a ring goes out at once, on its own. At most
 * `concurrency` calls at once over one keep-alive pool. The OAuth access token is shared by
 * every call and replaced 5 minutes before it expires; when Honor refuses it (80200001,
 * 80200003, a bare 401) one new token is fetched and the call is made once more. `send` never
 * throws: network faults and timeouts are `retry` results.
 *
 * Throws `HonorSettingsError` when the settings do not validate.
 */
export function createHonorAdapter(input: HonorSettingsInput, options: HonorAdapterOptions): PushAdapter {
  const check = validateHonorSettings(input);
  if (!check.ok) throw new HonorSettingsError(check.error);
  const settings = check.settings;
  const { clock } = options;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const concurrency = options.concurrency ?? 32;
  const batchSize = options.maxTokensPerRequest ?? HONOR_MAX_TOKENS;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be ≥ 1');
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > HONOR_MAX_TOKENS) {
    throw new RangeError(`maxTokensPerRequest must be 1 … ${HONOR_MAX_TOKENS}`);
  }

  let client: HttpClient | undefined;
  let closed = false;
  const post: HttpPost = (url, headers, body) => {
    client ??= new HttpClient({ ca: settings.ca, maxSockets: concurrency, timeoutMs });
    return client.post(url, headers, body);
  };
  const accessTokens = createHonorAccessTokenSource({
    credentials: settings,
    post,
    clock,
    store: options.accessTokens,
  });
  const limit = createLimiter(concurrency);

  const sendBatch = async (messages: readonly PushMessage[]): Promise<PushResult[]> => {
    const all = (result: PushResult) => messages.map(() => result);
    if (closed) return all({ ok: false, failure: 'retry', reason: 'adapter_closed' });
    const request = buildHonorRequest(messages, settings, clock.now());
    const exchange = (accessToken: string) =>
      post(request.url, { ...request.headers, authorization: `Bearer ${accessToken}` }, request.body);
    let answer: HttpAnswer;
    try {
      let accessToken = await accessTokens.get();
      answer = await exchange(accessToken);
      if (tokenRefused(answer)) {
        accessToken = await accessTokens.get({ rejected: accessToken });
        answer = await exchange(accessToken);
      }
    } catch (error) {
      // No answer (network fault, timeout, closed adapter): every message of the request retries.
      return all(
        error instanceof HonorAuthError
          ? authFailure(error)
          : { ok: false, failure: 'retry', reason: transportReason(error) },
      );
    }
    const reply = parseHonorReply(answer.body);
    const ok = answer.status >= 200 && answer.status < 300;
    if (
      ok &&
      reply.code !== undefined &&
      (HONOR_SUCCESS_CODES.has(reply.code) || reply.code === HONOR_PARTIAL_CODE)
    ) {
      return resultsPerToken(
        messages.map((message) => message.token),
        reply,
      );
    }
    const retryAfter = firstHeader(answer.headers['retry-after']);
    return all(
      classifyHonorFailure({ status: answer.status, body: answer.body, retryAfter }, reply, clock.now()),
    );
  };

  const guarded = async (batch: MessageBatch): Promise<PushResult[]> => {
    try {
      return await sendBatch(batch.messages);
    } catch {
      return batch.messages.map(() => ({ ok: false, failure: 'retry', reason: 'internal_error' }));
    }
  };

  return {
    provider: 'honor',
    batchSize: batchSize,
    async send(messages: readonly PushMessage[]): Promise<PushResult[]> {
      const results: PushResult[] = new Array(messages.length);
      await Promise.all(
        batchIdenticalMessages(messages, batchSize).map(async (batch) => {
          const batchResults = await limit(() => guarded(batch));
          batch.indexes.forEach((index, position) => {
            results[index] = batchResults[position] ?? { ok: false, failure: 'retry', reason: 'no_result' };
          });
        }),
      );
      return results;
    },
    async close(): Promise<void> {
      closed = true;
      await client?.close();
    },
  } satisfies PushAdapter;
}
