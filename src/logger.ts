import { type DestinationStream, type Logger, pino } from 'pino';
import type { Config } from './config.js';

/** Where secrets can appear in a log line; pino replaces them with `[redacted]`. */
export const redactedPaths = [
  'req.headers.token',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.old_password',
  '*.new_password',
  '*.token',
  '*.reflash_key',
  '*.push_token',
  '*.os_token',
  '*.key',
  '*.private_key',
  '*.passphrase',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.identity_token',
  '*.authorization_code',
  '*.code_verifier',
  '*.client_secret',
  '*.secret',
  '*.appSecret',
  '*.privateKey',
  '*.credentials',
];

export function createLogger(config: Pick<Config, 'logLevel'>, stream?: DestinationStream): Logger {
  const options = { level: config.logLevel, redact: { paths: redactedPaths, censor: '[redacted]' } };
  return stream === undefined ? pino(options) : pino(options, stream);
}
