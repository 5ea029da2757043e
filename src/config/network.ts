import { isIP } from 'node:net';

/**
 * Who may tell the client's address: nobody (`false`), the nearest `hops` peers (a count of
 * reverse proxies in front of Bellhop), or peers whose own address is in a list of addresses
 * and CIDR ranges. The client's address is then the right-most `X-Forwarded-For` entry that
 * was not written by a trusted proxy: the one the outermost trusted proxy saw.
 */
export type TrustProxy = false | number | string[];

/** Timeouts and caps of the HTTP server, against clients that hold connections open. */
export interface HttpLimits {
  /** The whole request, headers and body, must arrive within this (Node's `requestTimeout`). */
  requestTimeoutMs: number;
  /** The headers must arrive within this (Node's `headersTimeout`). */
  headersTimeoutMs: number;
  /** A connection on which nothing moves for this long is closed (Fastify's `connectionTimeout`). */
  idleTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections one client address may hold; 0 = no cap. Trusted proxies are exempt. */
  maxConnectionsPerAddress: number;
}

/** proxy-addr's names for address ranges, which Fastify's `trustProxy` understands. */
const rangeNames = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrRange(entry: string): boolean {
  if (rangeNames.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The parsed setting, or a message naming what is wrong. */
export function parseTrustProxy(raw: string): TrustProxy | string {
  const value = raw.trim().toLowerCase();
  if (value === '' || value === 'false' || value === 'no' || value === '0') return false;
  if (value === 'true' || value === 'yes')
    return (
      'trusting every peer lets any client choose its own address (X-Forwarded-For); give the number ' +
      'of proxies in front of Bellhop (TRUST_PROXY=1) or their addresses/CIDRs (TRUST_PROXY=10.0.0.0/8,127.0.0.1)'
    );
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops <= 10 ? hops : `a hop count is at most 10 (got ${raw})`;
  }
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const wrong = entries.filter((entry) => !isAddressOrRange(entry));
  if (wrong.length > 0)
    return `not an address, CIDR range, hop count or false: ${wrong.join(', ')} (e.g. TRUST_PROXY=1 or TRUST_PROXY=10.0.0.0/8)`;
  return entries;
}

export function httpLimits(env: {
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_IDLE_TIMEOUT_MS: number;
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  HTTP_MAX_CONNECTIONS_PER_IP: number;
}): HttpLimits | string {
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS)
    return 'HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)';
  return {
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
    idleTimeoutMs: env.HTTP_IDLE_TIMEOUT_MS,
    keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxConnectionsPerAddress: env.HTTP_MAX_CONNECTIONS_PER_IP,
  };
}
