import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * AES-256-GCM for provider credentials at rest. A box reads
 * `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts); the key id (a digest of the key)
 * makes a wrong master key fail with a clear message instead of an authentication error.
 */
export interface SecretBox {
  readonly keyId: string;
  seal(plaintext: string): string;
  open(box: string): string;
  /**
   * A 32-byte key for another purpose (the push channel's token secret), derived from the
   * master key: the same in every process that shares the master key.
   */
  deriveKey(purpose: string): Buffer;
}

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new MasterKeyError('the master key must be 32 bytes');
  const keyId = createHash('sha256').update(key).digest('base64url').slice(0, 8);
  return {
    keyId,
    deriveKey(purpose) {
      return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `bellhop ${purpose}`, 32));
    },
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        'v1',
        keyId,
        iv.toString('base64url'),
        tag.toString('base64url'),
        ciphertext.toString('base64url'),
      ].join('.');
    },
    open(box) {
      const [version, boxKeyId, iv, tag, ciphertext] = box.split('.');
      if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) {
        throw new MasterKeyError('unreadable encrypted credentials');
      }
      if (boxKeyId !== keyId) {
        throw new MasterKeyError(
          `credentials were encrypted under master key ${boxKeyId}, not the configured ${keyId}`,
        );
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}

/** Accepts 32 bytes as 64 hex characters or as base64 / base64url. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new MasterKeyError(
      'BELLHOP_MASTER_KEY must be 32 bytes, as 64 hex characters or base64 (openssl rand -base64 32)',
    );
  }
  return key;
}

/**
 * The configured master key, or on the embedded default a key file in the data directory,
 * created on first start. A PostgreSQL deployment runs many processes that must share the
 * key, so there it must be configured.
 */
export function loadMasterKey(options: {
  configured: string | undefined;
  dataDir: string;
  embedded: boolean;
  warn: (message: string) => void;
}): Buffer {
  if (options.configured !== undefined) return parseMasterKey(options.configured);
  if (!options.embedded) {
    throw new MasterKeyError(
      'BELLHOP_MASTER_KEY is required with PostgreSQL (every process needs the same key)',
    );
  }
  const file = join(options.dataDir, 'master.key');
  if (existsSync(file)) return parseMasterKey(readFileSync(file, 'utf8'));
  mkdirSync(options.dataDir, { recursive: true });
  writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  options.warn(
    `generated a master key in ${file}: app credentials are encrypted with it. Back it up with the database, or set BELLHOP_MASTER_KEY.`,
  );
  return parseMasterKey(readFileSync(file, 'utf8'));
}
