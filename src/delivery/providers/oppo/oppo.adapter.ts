import type { HttpAnswer } from '../../../net/http-client.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import { type AccessTokenSource, createAccessTokenSource } from '../shared/access-tokens.js';
import { batchIdenticalMessages, type MessageBatch, noResults, sendBatches } from '../shared/batches.js';
import { classifyHttpStatus, type PushFailure } from '../shared/errors.js';
import { createProviderHttp, type HttpAdapterOptions, sendWithToken } from '../shared/provider-http.js';
import { fetchOppoAuthToken, OPPO_AUTH_TOKEN_REFRESH_MARGIN_MS, oppoAuthTokenKey } from './oppo.auth.js';
import type { OppoSettings } from './oppo.config.js';
import {
  classifyOppoCode,
  OPPO_AUTH_TOKEN_CODES,
  OPPO_INVALID_REGISTRATION_ID,
  type OppoBatchEntry,
  parseOppoAnswer,
} from './oppo.errors.js';
import { buildOppoRequest, OPPO_MAX_BATCH, oppoBaseUrl, oppoRegion, withAuthToken } from './oppo.request.js';

/** Default `concurrency`: 16. */
export type OppoAdapterOptions = HttpAdapterOptions;

const refusesToken = (answer: HttpAnswer) =>
  OPPO_AUTH_TOKEN_CODES.has(parseOppoAnswer(answer.body)?.code ?? 0);

/** Splits a batch where its phones live on different OPPO hosts, keeping positions. */
function byRegion(batch: MessageBatch): MessageBatch[] {
  const parts = new Map<string, MessageBatch>();
  batch.messages.forEach((message, i) => {
    const region = oppoRegion(message.token);
    let part = parts.get(region);
    if (part === undefined) {
      part = { indexes: [], messages: [] };
      parts.set(region, part);
    }
    part.indexes.push(batch.indexes[i] ?? -1);
    part.messages.push(message);
  });
  return [...parts.values()];
}

/**
 * One result per message of an OPPO answer: a refusal of the whole request applies to each;
 * a `unicast_batch` answer's entries are matched by registration id (or by position).
 */
function resultsOf(
  messages: readonly PushMessage[],
  answer: HttpAnswer | PushFailure,
  now: number,
): PushResult[] {
  const all = (result: PushResult) => messages.map(() => result);
  if (!('status' in answer)) return all(answer);
  const parsed = parseOppoAnswer(answer.body);
  if (parsed === undefined || answer.status < 200 || answer.status >= 300) {
    // A 200 that is not OPPO's JSON: something in between answered; try again later.
    const status = answer.status >= 200 && answer.status < 300 ? 502 : answer.status;
    return all(classifyHttpStatus(status, answer.headers['retry-after'], now));
  }
  if (parsed.code !== 0) return all(classifyOppoCode(parsed.code, now));
  if (messages.length === 1 && parsed.entries === undefined) {
    return [{ ok: true, providerMessageId: parsed.messageId }];
  }
  const entries = parsed.entries ?? [];
  const byToken = new Map<string, OppoBatchEntry[]>();
  const positional = entries.some((entry) => entry.registrationId === undefined);
  if (!positional) {
    for (const entry of entries) {
      const key = entry.registrationId ?? '';
      const queue = byToken.get(key);
      if (queue === undefined) byToken.set(key, [entry]);
      else queue.push(entry);
    }
  }
  return messages.map((message, i): PushResult => {
    const entry = positional ? entries[i] : byToken.get(message.token)?.shift();
    // Sent again later; `app_message_id` makes OPPO show it once if it did go out.
    if (entry === undefined) return { ok: false, failure: 'retry', reason: 'OPPO_no_result' };
    if (entry.errorCode === undefined || entry.errorCode === 0) {
      return { ok: true, providerMessageId: entry.messageId };
    }
    return classifyOppoCode(entry.errorCode, now);
  });
}

/**
 * OPPO PUSH (reference/providers.md §5.1). A ring goes out at once with `unicast`; messages
 * that differ only in their phone go out together with `unicast_batch`, up to 1000 a request,
 * one request per host (mainland China or `api-intl`, by the registration id). Each host has its
 * own `auth_token`, cached 23 hours and shared through the store; when OPPO refuses it (11,
 * 29) a new one is fetched, once for all requests that saw it, and the request is sent again.
 * Per-phone `errorCode`s of a batch answer map back to their messages; a batch refused as a
 * whole for an invalid registration id is sent again phone by phone, to find which. OPPO has
 * no data messages: one with neither title nor body (a ring's cancel) fails as `oppo_no_text`
 * without a request. `send` never throws: network faults and timeouts are `retry` results.
 */
export function createOppoAdapter(settings: OppoSettings, options: OppoAdapterOptions): PushAdapter {
  const { clock } = options;
  const http = createProviderHttp(settings.ca, options, 16);
  const tokenSources = new Map<string, AccessTokenSource>();
  const tokensFor = (baseUrl: string): AccessTokenSource => {
    let source = tokenSources.get(baseUrl);
    if (source === undefined) {
      source = createAccessTokenSource({
        key: oppoAuthTokenKey(settings, baseUrl),
        fetch: () => fetchOppoAuthToken(settings, baseUrl, http.post, clock.now()),
        clock,
        refreshMarginMs: OPPO_AUTH_TOKEN_REFRESH_MARGIN_MS,
        store: options.accessTokens,
      });
      tokenSources.set(baseUrl, source);
    }
    return source;
  };

  const sendRequest = async (messages: readonly PushMessage[]): Promise<PushResult[]> => {
    const request = buildOppoRequest(messages, settings, clock.now());
    const answer = await sendWithToken(http, tokensFor(oppoBaseUrl(messages[0]?.token ?? '', settings)), {
      withToken: (authToken) => ({ ...request, body: withAuthToken(request.body, authToken) }),
      refusesToken,
    });
    // A batch refused as a whole for one phone: each phone on its own, to find which.
    if (
      messages.length > 1 &&
      'status' in answer &&
      parseOppoAnswer(answer.body)?.code === OPPO_INVALID_REGISTRATION_ID
    ) {
      return (await Promise.all(messages.map((message) => sendRequest([message])))).flat();
    }
    return resultsOf(messages, answer, clock.now());
  };

  return {
    provider: 'oppo',
    batchSize: OPPO_MAX_BATCH,
    send(messages: readonly PushMessage[]): Promise<PushResult[]> {
      const results = noResults(messages);
      // OPPO PUSH shows notifications only: with no text (a ring's cancel) there is nothing to send.
      const sendable: PushMessage[] = [];
      const positions: number[] = [];
      messages.forEach((message, index) => {
        if (message.title === undefined && message.body === undefined) {
          results[index] = { ok: false, failure: 'bad_request', reason: 'oppo_no_text' };
        } else {
          sendable.push(message);
          positions.push(index);
        }
      });
      const batches = batchIdenticalMessages(sendable, OPPO_MAX_BATCH)
        .flatMap(byRegion)
        .map((batch) => ({ ...batch, indexes: batch.indexes.map((i) => positions[i] ?? -1) }));
      return sendBatches(results, batches, (batch) => sendRequest(batch.messages));
    },
    close: () => http.close(),
  } satisfies PushAdapter;
}
