import { hash, randomBytes } from 'node:crypto';

/** An opaque bearer secret: 256 bits from the CSPRNG, base64url. */
export function newOpaqueSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Tokens and reflash keys are stored only as SHA-256 digests. They carry 256 random bits,
 * so a fast unsalted digest is enough: nothing can be guessed from a leaked table.
 */
export function digestSecret(secret: string): string {
  // The one-shot form: a third of the cost of a Hash object, on every authenticated request.
  return hash('sha256', secret, 'base64url');
}
