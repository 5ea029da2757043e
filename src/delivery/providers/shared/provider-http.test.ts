import { describe, expect, it } from 'vitest';
import { HttpTransportError } from '../../../net/http-client.js';
import { createProviderHttp, transportFailure } from './provider-http.js';

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
