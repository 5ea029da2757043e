import { describe, expect, it } from 'vitest';
import { type HttpAnswer, HttpTransportError } from '../../../net/http-client.js';
import type { AccessTokenSource } from './access-tokens.js';
import { AccessTokenError } from './errors.js';
import { createProviderHttp, type ProviderHttp, sendWithToken, transportFailure } from './provider-http.js';

describe('createProviderHttp', () => {
  it('refuses a bound or a timeout that cannot work', () => {
    expect(() => createProviderHttp(undefined, { requestTimeoutMs: 1000, concurrency: 0 }, 1)).toThrow(
      RangeError,
    );
    expect(() => createProviderHttp(undefined, { requestTimeoutMs: 0, concurrency: 1 }, 1)).toThrow(
      RangeError,
    );
  });

  it('turns a fault without an answer into a retry, and a closed client into adapter_closed', async () => {
    expect(transportFailure(new HttpTransportError('timeout', 'slow'))).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'timeout',
    });
    expect(transportFailure(new Error('boom')).reason).toBe('network_error');
    const http = createProviderHttp(undefined, { requestTimeoutMs: 1000 }, 1);
    await http.close();
    expect(http.closed).toBe(true);
    expect(await http.exchange('http://127.0.0.1:9/', {}, '')).toEqual({
      ok: false,
      failure: 'retry',
      reason: 'adapter_closed',
    });
  });
});

describe('sendWithToken', () => {
  /** An HTTP side that answers from a list and records the token each request carried. */
  function scripted(statuses: number[]) {
    const sentWith: string[] = [];
    const http: ProviderHttp = {
      post: () => Promise.reject(new Error('not used')),
      exchange: async (_url, headers) => {
        sentWith.push(headers.token ?? '');
        return { status: statuses.shift() ?? 200, headers: {}, body: '' } satisfies HttpAnswer;
      },
      closed: false,
      close: async () => {},
    };
    return { http, sentWith };
  }
  const tokens = (issued: string[]): AccessTokenSource & { asked: Array<string | undefined> } => {
    const asked: Array<string | undefined> = [];
    return {
      asked,
      get: async (options) => {
        asked.push(options?.rejected);
        const next = issued.shift();
        if (next === undefined) {
          throw new AccessTokenError({ ok: false, failure: 'creds', reason: 'oauth_invalid_client' }, 'no');
        }
        return next;
      },
    };
  };
  const request = {
    withToken: (token: string) => ({ url: 'https://push.invalid/send', headers: { token }, body: '{}' }),
    refusesToken: (answer: HttpAnswer) => answer.status === 401,
  };

  it('on a refused token fetches one new token, naming the refused one, and sends once more', async () => {
    const { http, sentWith } = scripted([401, 401]);
    const source = tokens(['t1', 't2']);
    const answer = await sendWithToken(http, source, request);
    expect('status' in answer && answer.status).toBe(401);
    expect(sentWith).toEqual(['t1', 't2']);
    expect(source.asked).toEqual([undefined, 't1']);
  });

  it('fails as the token source says when no token can be had, sending nothing', async () => {
    const { http, sentWith } = scripted([]);
    expect(await sendWithToken(http, tokens([]), request)).toEqual({
      ok: false,
      failure: 'creds',
      reason: 'oauth_invalid_client',
    });
    expect(sentWith).toEqual([]);
  });
});
