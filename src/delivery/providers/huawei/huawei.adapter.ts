import type { HttpAnswer } from '../../../net/http-client.js';
import type { PushAdapter, PushResult } from '../adapter.js';
import { createAccessTokenSource } from '../shared/access-tokens.js';
import { batchIdenticalMessages, type MessageBatch, noResults, sendBatches } from '../shared/batches.js';
import { createProviderHttp, type HttpAdapterOptions, sendWithToken } from '../shared/provider-http.js';
import {
  fetchHuaweiAccessToken,
  HUAWEI_TOKEN_REFRESH_MARGIN_MS,
  huaweiAccessTokenKey,
} from './huawei.auth.js';
import type { HuaweiSettings } from './huawei.config.js';
import {
  classifyHuaweiFailure,
  HUAWEI_OAUTH_ERROR,
  HUAWEI_OAUTH_EXPIRED,
  HUAWEI_PARTIAL_SUCCESS,
  HUAWEI_SUCCESS,
  illegalTokens,
  parseHuaweiReply,
} from './huawei.errors.js';
import { buildHuaweiRequest, HUAWEI_MAX_TOKENS } from './huawei.request.js';

/** Default `concurrency`: 16. */
export interface HuaweiAdapterOptions extends HttpAdapterOptions {
  /** Tokens per request, 1…1000. Default 1000 (Push Kit's maximum). */
  maxTokensPerRequest?: number;
}

function refusesToken(answer: HttpAnswer): boolean {
  const { code } = parseHuaweiReply(answer.body);
  return code === HUAWEI_OAUTH_ERROR || code === HUAWEI_OAUTH_EXPIRED;
}

/**
 * Huawei Push Kit (reference/providers.md §3). Messages that differ only by token go out in
 * one request of up to 1,000 tokens; each ring goes out alone, at once. The OAuth access token
 * is shared by all requests and replaced 5 minutes before it expires; an 80200001 / 80200003
 * answer replaces it once and sends that request again. An 80100000 partial success marks
 * exactly the tokens it lists as dead. `send` never throws: network faults and timeouts are
 * `retry` results.
 */
export function createHuaweiAdapter(settings: HuaweiSettings, options: HuaweiAdapterOptions): PushAdapter {
  const { clock } = options;
  const batchSize = options.maxTokensPerRequest ?? HUAWEI_MAX_TOKENS;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > HUAWEI_MAX_TOKENS) {
    throw new RangeError(`maxTokensPerRequest must be 1…${HUAWEI_MAX_TOKENS}`);
  }
  const http = createProviderHttp(settings.ca, options, 16);
  const accessTokens = createAccessTokenSource({
    key: huaweiAccessTokenKey(settings),
    fetch: () => fetchHuaweiAccessToken(settings, http.post, clock.now()),
    clock,
    refreshMarginMs: HUAWEI_TOKEN_REFRESH_MARGIN_MS,
    store: options.accessTokens,
  });

  const sendBatch = async (batch: MessageBatch): Promise<PushResult[]> => {
    const all = (result: PushResult) => batch.messages.map(() => result);
    const request = buildHuaweiRequest(batch.messages, settings, clock.now());
    const answer = await sendWithToken(http, accessTokens, {
      withToken: (accessToken) => ({
        ...request,
        headers: { ...request.headers, authorization: `Bearer ${accessToken}` },
      }),
      refusesToken,
    });
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
    const retryAfter = answer.headers['retry-after'];
    return all(classifyHuaweiFailure({ status: answer.status, reply, retryAfter }, clock.now()));
  };

  return {
    provider: 'huawei',
    batchSize,
    send: (messages) =>
      sendBatches(noResults(messages), batchIdenticalMessages(messages, batchSize), sendBatch),
    close: () => http.close(),
  } satisfies PushAdapter;
}
