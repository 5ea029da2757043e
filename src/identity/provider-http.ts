import type { IdentityProvider } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { HttpAnswer, HttpGet, HttpPost } from '../net/http-client.js';

/** What provider modules use to reach their provider: GET and POST with a timeout and the configured CA. */
export interface LoginProviderHttp {
  get: HttpGet;
  post: HttpPost;
}

/** The provider could not be asked (down, slow, answering garbage): 503, never an account. */
export function unavailable(provider: IdentityProvider, why: string, cause?: unknown): AppError {
  return new AppError('PROVIDER_UNAVAILABLE', {
    field: provider,
    cause: new Error(`${provider}: ${why}`, { cause }),
  });
}

/** The provider, or our check of its answer, refused what the client sent: 401. */
export function rejected(field: string, why: string): AppError {
  return new AppError('INVALID_PROVIDER_TOKEN', { field, cause: new Error(why) });
}

export interface JsonAnswer {
  status: number;
  headers: HttpAnswer['headers'];
  body: Record<string, unknown>;
}

/**
 * Sends a request and parses a JSON object from the answer. No answer, a 5xx or 429, or a body
 * that is not a JSON object means the provider is unavailable; any other status is returned
 * for the provider module to read. URLs are never put in errors: WeChat's carry the secret.
 */
export async function requestJson(
  provider: IdentityProvider,
  send: () => Promise<HttpAnswer>,
  what: string,
): Promise<JsonAnswer> {
  let answer: HttpAnswer;
  try {
    answer = await send();
  } catch (error) {
    throw unavailable(provider, `${what}: ${(error as Error).message}`, error);
  }
  if (answer.status >= 500 || answer.status === 429) {
    throw unavailable(provider, `${what} answered HTTP ${answer.status}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    throw unavailable(provider, `${what} answered HTTP ${answer.status} without JSON`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw unavailable(provider, `${what} answered HTTP ${answer.status} with no JSON object`);
  }
  return { status: answer.status, headers: answer.headers, body: body as Record<string, unknown> };
}

export const formHeaders = {
  'content-type': 'application/x-www-form-urlencoded',
  accept: 'application/json',
} as const;

export const jsonHeaders = { accept: 'application/json' } as const;

/** A string field of a provider answer, or undefined. */
export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * A display name fit for storage: no control characters (PostgreSQL refuses NUL), no lone
 * surrogates, at most 64 code points; null when nothing is left.
 */
export function cleanDisplayName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const cleaned = value.replace(/[\p{Cc}\p{Cs}]/gu, '').trim();
  const limited = Array.from(cleaned).slice(0, 64).join('').trim();
  return limited === '' ? null : limited;
}
