/** Small pieces every fake push provider reads the same way. */
import type { Clock } from '../../src/clock.js';

/** The clock a fake uses when a test gives it none. */
export const systemClock: Clock = { now: () => Date.now() };

/** The value as a JSON object, or undefined when it is not one (null and arrays are not). */
export const objectOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/** One base64url segment of a JWT, read as a JSON object (undefined when it is not one). */
export function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (segment === undefined) return undefined;
  try {
    return objectOf(JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')));
  } catch {
    return undefined;
  }
}

/** The `code` field of a JSON body; undefined when the body is not JSON or has none. */
export function codeField(body: string): unknown {
  try {
    return objectOf(JSON.parse(body))?.code;
  } catch {
    return undefined;
  }
}
