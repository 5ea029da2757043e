import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectedError } from '../helpers/error-contract.js';

/**
 * Requests Node's HTTP parser refuses before Fastify sees them still get a catalogue answer
 * `{message, code}`: over a raw socket, since an HTTP client would not send them.
 */
describe('requests refused by the HTTP parser', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp('sqlite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await t.close();
  });

  /** Sends `request` and reads until the server closes the connection. */
  async function raw(request: string): Promise<{ status: number; body: unknown; contentType: string }> {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    const closed = once(socket, 'close');
    socket.write(request);
    await closed;
    const [head = '', body = ''] = received.split('\r\n\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
    const contentType = /\r\ncontent-type: ([^\r]+)/i.exec(head)?.[1] ?? '';
    return { status, body: JSON.parse(body), contentType };
  }

  it.each([
    [
      'bad chunking',
      'POST /v1/api/user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      'MALFORMED_BODY',
    ],
    ['a space in the path', 'GET /v1/api/user /x HTTP/1.1\r\nHost: x\r\n\r\n', 'MALFORMED_BODY'],
    ['a malformed request line', 'HELLO\r\n\r\n', 'MALFORMED_BODY'],
    [
      'oversized headers',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      'HEADERS_TOO_LARGE',
    ],
  ] as const)('answers %s with the catalogue', async (_case, request, code) => {
    const answer = await raw(request);
    const expected = expectedError(code);
    expect(answer.status).toBe(expected.status);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.body).toEqual(expected.body);
  });
});
