import type { HttpAnswer } from '../../../net/http-client.js';
import type { PushAdapter, PushResult } from '../adapter.js';
import { createAccessTokenSource } from '../shared/access-tokens.js';
import { batchIdenticalMessages, type MessageBatch, noResults, sendBatches } from '../shared/batches.js';
import { createProviderHttp, type HttpAdapterOptions, sendWithToken } from '../shared/provider-http.js';
import { fetchHonorAccessToken, HONOR_TOKEN_REFRESH_MARGIN_MS, honorAccessTokenKey } from './honor.auth.js';
import type { HonorSettings } from './honor.config.js';
import {
  classifyHonorFailure,
  HONOR_PARTIAL_CODE,
  HONOR_SUCCESS_CODES,
  HONOR_TOKEN_REFUSED_CODES,
  parseHonorReply,
  resultsPerToken,
} from './honor.errors.js';
import { buildHonorRequest, HONOR_MAX_TOKENS } from './honor.request.js';

/** Default `concurrency`: 32. */
export interface HonorAdapterOptions extends HttpAdapterOptions {
  /** Tokens per `sendMessage` call, 1 … 1000. Default 1000. */
  maxTokensPerRequest?: number;
}

/** Honor refused the access token itself: expired early, revoked, or not this app's. */
function refusesToken(answer: HttpAnswer): boolean {
  const { code } = parseHonorReply(answer.body);
  return code === undefined ? answer.status === 401 : HONOR_TOKEN_REFUSED_CODES.has(code);
}

/**
 * Honor Push (reference/providers.md §5.3). Messages that differ only by token go out together,
 * up to 1000 tokens per `sendMessage` call, and Honor's per-token answer (`expireTokens`,
 * `failTokens`) is mapped back to each message; a ring goes out at once, on its own. The OAuth
 * access token is shared by every call and replaced 5 minutes before it expires; when Honor
 * refuses it (80200001, 80200003, a bare 401) one new token is fetched and the call is made
 * once more. `send` never throws: network faults and timeouts are `retry` results.
 */
export function createHonorAdapter(settings: HonorSettings, options: HonorAdapterOptions): PushAdapter {
  const { clock } = options;
  const batchSize = options.maxTokensPerRequest ?? HONOR_MAX_TOKENS;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > HONOR_MAX_TOKENS) {
    throw new RangeError(`maxTokensPerRequest must be 1 … ${HONOR_MAX_TOKENS}`);
  }
  const http = createProviderHttp(settings.ca, options, 32);
  const accessTokens = createAccessTokenSource({
    key: honorAccessTokenKey(settings),
    fetch: () => fetchHonorAccessToken(settings, http.post, clock.now()),
    clock,
    refreshMarginMs: HONOR_TOKEN_REFRESH_MARGIN_MS,
    store: options.accessTokens,
  });

  const sendBatch = async ({ messages }: MessageBatch): Promise<PushResult[]> => {
    const request = buildHonorRequest(messages, settings, clock.now());
    const answer = await sendWithToken(http, accessTokens, {
      withToken: (accessToken) => ({
        ...request,
        headers: { ...request.headers, authorization: `Bearer ${accessToken}` },
      }),
      refusesToken,
    });
    // No answer (network fault, timeout, closed adapter): every message of the request retries.
    if (!('status' in answer)) return messages.map(() => answer);
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
    const retryAfter = answer.headers['retry-after'];
    const failure = classifyHonorFailure(
      { status: answer.status, body: answer.body, retryAfter },
      reply,
      clock.now(),
    );
    return messages.map(() => failure);
  };

  return {
    provider: 'honor',
    batchSize,
    send: (messages) =>
      sendBatches(noResults(messages), batchIdenticalMessages(messages, batchSize), sendBatch),
    close: () => http.close(),
  } satisfies PushAdapter;
}
