import type { Clock } from '../../../clock.js';
import { createLimiter } from '../../../limiter.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import type { AccessTokenSource, AccessTokenStore } from '../shared/access-tokens.js';
import { batchIdenticalMessages, type MessageBatch } from '../shared/batches.js';
import { createPooledPost, type HttpAnswer } from '../shared/http-client.js';
import { createOppoAuthTokenSource, OppoAuthError, transportFailure } from './oppo.auth.js';
import {
  type OppoCredentials,
  type OppoSettings,
  OppoSettingsError,
  validateOppoSettings,
} from './oppo.config.js';
import {
  classifyOppoCode,
  classifyOppoHttpStatus,
  OPPO_AUTH_TOKEN_CODES,
  OPPO_INVALID_REGISTRATION_ID,
  type OppoAnswer,
  type OppoBatchEntry,
  type PushFailure,
  parseOppoAnswer,
} from './oppo.errors.js';
import { buildOppoRequest, OPPO_MAX_BATCH, oppoBaseUrl, oppoRegion, withAuthToken } from './oppo.request.js';

export interface OppoAdapterOptions {
  clock: Clock;
  /** Per HTTP exchange (auth or send), connecting included. Default 10 s. */
  requestTimeoutMs?: number;
  /** Requests in flight at once, across `send` calls; also the connection-pool size. Default 16. */
  concurrency?: number;
  /** Where `auth_token`s are kept; default: in this adapter's memory. */
  accessTokens?: AccessTokenStore;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONCURRENCY = 16;

type Exchange = { answer: HttpAnswer; parsed: OppoAnswer | undefined } | PushFailure;

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
 * OPPO PUSH (reference/providers.md §5.1). A ring goes out at once with `unicast`; messages
 * that differ only in their phone go out together with `unicast_batch`, up to 1000 a request,
 * one request per host (mainland China or `api-intl`, by the registration id). Each host has its
 * own `auth_token`, cached 23 hours and shared through the store; when OPPO refuses it (11,
 * 29) a new one is fetched, once for all requests that saw it, and the request is sent again.
 * Per-phone `errorCode`s of a batch answer map back to their messages; a batch refused as a
 * whole for an invalid registration id is sent again phone by phone, to find which. OPPO has
 * no data messages: one with neither title nor body (a ring's cancel) fails as `oppo_no_text`
 * without a request. `send` never throws: network faults and timeouts are `retry` results.
 *
 * Throws `OppoSettingsError` when the settings do not validate.
 */
export function createOppoAdapter(credentials: OppoCredentials, options: OppoAdapterOptions): PushAdapter {
  const check = validateOppoSettings(credentials);
  if (!check.ok) throw new OppoSettingsError(check.error);
  const settings: OppoSettings = check.settings;
  const { clock } = options;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const http = createPooledPost({
    ca: settings.ca,
    concurrency,
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  const { post } = http;
  let closed = false;
  const tokenSources = new Map<string, AccessTokenSource>();
  const tokensFor = (baseUrl: string): AccessTokenSource => {
    let source = tokenSources.get(baseUrl);
    if (source === undefined) {
      source = createOppoAuthTokenSource({
        identity: { appKey: settings.appKey, masterSecret: settings.masterSecret },
        baseUrl,
        post,
        clock,
        store: options.accessTokens,
      });
      tokenSources.set(baseUrl, source);
    }
    return source;
  };
  const limit = createLimiter(concurrency);

  const exchange = async (url: string, headers: Record<string, string>, body: string): Promise<Exchange> => {
    try {
      const answer = await post(url, headers, body);
      return { answer, parsed: parseOppoAnswer(answer.body) };
    } catch (error) {
      return transportFailure(error);
    }
  };

  const resultsOf = (messages: readonly PushMessage[], outcome: Exchange): PushResult[] => {
    const now = clock.now();
    const all = (result: PushResult) => messages.map(() => result);
    if ('ok' in outcome) return all(outcome);
    const { answer, parsed } = outcome;
    if (parsed === undefined || answer.status < 200 || answer.status >= 300) {
      const retryAfter = answer.headers['retry-after'];
      // A 200 that is not OPPO's JSON: something in between answered; try again later.
      const status = answer.status >= 200 && answer.status < 300 ? 502 : answer.status;
      return all(classifyOppoHttpStatus(status, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, now));
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
  };

  const sendRequest = async (messages: readonly PushMessage[]): Promise<PushResult[]> => {
    if (closed) return messages.map(() => ({ ok: false, failure: 'retry', reason: 'adapter_closed' }));
    const request = buildOppoRequest(messages, settings, clock.now());
    const tokens = tokensFor(oppoBaseUrl(messages[0]?.token ?? '', settings));
    let outcome: Exchange | undefined;
    let rejected: string | undefined;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      let authToken: string;
      try {
        authToken = await tokens.get({ rejected });
      } catch (error) {
        const failure: PushFailure =
          error instanceof OppoAuthError
            ? error.result
            : { ok: false, failure: 'retry', reason: 'auth_error' };
        return messages.map(() => failure);
      }
      outcome = await exchange(request.url, request.headers, withAuthToken(request.body, authToken));
      if ('ok' in outcome || !OPPO_AUTH_TOKEN_CODES.has(outcome.parsed?.code ?? 0)) break;
      rejected = authToken;
    }
    if (
      messages.length > 1 &&
      outcome !== undefined &&
      !('ok' in outcome) &&
      outcome.parsed?.code === OPPO_INVALID_REGISTRATION_ID
    ) {
      return (await Promise.all(messages.map((message) => sendRequest([message])))).flat();
    }
    return resultsOf(messages, outcome ?? { ok: false, failure: 'retry', reason: 'internal_error' });
  };

  const guarded = async (messages: readonly PushMessage[]): Promise<PushResult[]> => {
    try {
      return await sendRequest(messages);
    } catch {
      return messages.map(() => ({ ok: false, failure: 'retry', reason: 'internal_error' }));
    }
  };

  return {
    provider: 'oppo',
    batchSize: OPPO_MAX_BATCH,
    async send(messages: readonly PushMessage[]): Promise<PushResult[]> {
      const results: PushResult[] = messages.map(() => ({
        ok: false,
        failure: 'retry',
        reason: 'no_result',
      }));
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
      // Rings first: the limiter serves requests in the order they are queued.
      const ordered = [
        ...batches.filter((batch) => batch.messages[0]?.channel === 'ring'),
        ...batches.filter((batch) => batch.messages[0]?.channel !== 'ring'),
      ];
      await Promise.all(
        ordered.map(async (batch) => {
          const batchResults = await limit(() => guarded(batch.messages));
          batch.indexes.forEach((index, i) => {
            const result = batchResults[i];
            if (result !== undefined) results[index] = result;
          });
        }),
      );
      return results;
    },
    async close(): Promise<void> {
      closed = true;
      await http.close();
    },
  } satisfies PushAdapter;
}
