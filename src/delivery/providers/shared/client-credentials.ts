import type { HttpAnswer, HttpPost } from '../../../net/http-client.js';
import { secretDigest } from './access-tokens.js';
import { postForToken } from './provider-http.js';

/** A client of a token endpoint that takes the OAuth 2.0 client-credentials grant. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  /** The token endpoint. */
  authUrl: string;
}

/** What the token endpoint answered: `fields` is the JSON body's object, `{}` when there is none. */
export interface ClientCredentialsAnswer {
  status: number;
  headers: HttpAnswer['headers'];
  fields: Record<string, unknown>;
}

/** When the answer does not say (`expires_in`), a token is taken to live an hour. */
const DEFAULT_LIFETIME_SECONDS = 3600;

/**
 * POSTs the client-credentials grant (form `grant_type=client_credentials`, `client_id`,
 * `client_secret`) to the token endpoint. An exchange that got no answer throws an
 * `AccessTokenError` (`oauth_<transport reason>`, e.g. `oauth_timeout`; `adapter_closed`).
 */
export async function postClientCredentials(
  credentials: ClientCredentials,
  post: HttpPost,
): Promise<ClientCredentialsAnswer> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
  }).toString();
  const answer = await postForToken(post, 'oauth_', {
    url: credentials.authUrl,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form,
  });
  return { status: answer.status, headers: answer.headers, fields: jsonObject(answer.body) };
}

/** The body's JSON object; `{}` for anything else (a proxy's page, `null`, a number). */
function jsonObject(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Unix ms when a token issued `now` expires, from the answer's `expires_in` (seconds; default an hour). */
export function tokenExpiry(expiresIn: unknown, now: number): number {
  const seconds = Number(expiresIn);
  return now + (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_LIFETIME_SECONDS) * 1000;
}

/** A token endpoint's status that says "later", not "never": 5xx, 429 and 408. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** `: <error_description>` (200 characters at most) for an error message, or nothing. */
export function describedError(fields: Record<string, unknown>): string {
  return typeof fields.error_description === 'string' ? `: ${fields.error_description.slice(0, 200)}` : '';
}

/**
 * The store key of a client's tokens: provider, client id, a digest of the secret and the token
 * endpoint, so that settings with another secret (a typo, a rotated one) never borrow a token the
 * right one obtained.
 */
export function clientCredentialsTokenKey(provider: string, credentials: ClientCredentials): string {
  return `${provider} ${credentials.clientId} ${secretDigest(credentials.clientSecret)} ${credentials.authUrl}`;
}
