import type { HttpAnswer } from '../../../net/http-client.js';
import type { PushAdapter, PushMessage, PushResult } from '../adapter.js';
import { batchIdenticalMessages, type MessageBatch, sendBatches } from '../shared/batches.js';
import { classifyHttpStatus, type PushFailure } from '../shared/errors.js';
import { createProviderHttp, type HttpAdapterOptions } from '../shared/provider-http.js';
import type { XiaomiSettings } from './xiaomi.config.js';
import { classifyXiaomiCode, parseXiaomiAnswer } from './xiaomi.errors.js';
import { buildXiaomiRequest, XIAOMI_MAX_REGIDS, xiaomiAuthorization } from './xiaomi.request.js';

/** Default `concurrency`: 16. MiPush has no access token: `accessTokens` is not used. */
export interface XiaomiAdapterOptions extends HttpAdapterOptions {
  /** regIds per request. Default (and at most) 1000. */
  batchSize?: number;
}

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
 */
export function createXiaomiAdapter(settings: XiaomiSettings, options: XiaomiAdapterOptions): PushAdapter {
  const { clock } = options;
  const batchSize = options.batchSize ?? XIAOMI_MAX_REGIDS;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > XIAOMI_MAX_REGIDS) {
    throw new RangeError(`batchSize must be an integer from 1 to ${XIAOMI_MAX_REGIDS}`);
  }
  const http = createProviderHttp(settings.ca, options, 16);
  const authorization = xiaomiAuthorization(settings.appSecret);

  const results = (answer: HttpAnswer, tokens: readonly string[]): PushResult[] => {
    const now = clock.now();
    const body = parseXiaomiAnswer(answer.body);
    const ok = answer.status >= 200 && answer.status < 300;
    let failure: PushFailure;
    if (body?.code === undefined) {
      failure = ok
        ? { ok: false, failure: 'retry', reason: 'bad_response' }
        : classifyHttpStatus(answer.status, answer.headers['retry-after'], now);
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

  const sendBatch = async ({ messages }: MessageBatch): Promise<PushResult[]> => {
    const [first] = messages;
    if (first === undefined) return [];
    const tokens = messages.map((message) => message.token);
    const request = buildXiaomiRequest(first, settings, clock.now(), tokens);
    const answer = await http.exchange(request.url, { ...request.headers, authorization }, request.body);
    return 'status' in answer ? results(answer, tokens) : tokens.map(() => answer);
  };

  return {
    provider: 'xiaomi',
    batchSize,
    send(messages: readonly PushMessage[]): Promise<PushResult[]> {
      const out: PushResult[] = messages.map(() => ({ ok: false, failure: 'dead', reason: 'INVALID_REGID' }));
      const sendable: PushMessage[] = [];
      const positions: number[] = [];
      messages.forEach((message, index) => {
        if (!isAddressable(message.token)) return;
        sendable.push(message);
        positions.push(index);
      });
      const batches = batchIdenticalMessages(sendable, batchSize).map((batch) => ({
        ...batch,
        indexes: batch.indexes.map((index) => positions[index] ?? -1),
      }));
      return sendBatches(out, batches, sendBatch);
    },
    close: () => http.close(),
  } satisfies PushAdapter;
}
