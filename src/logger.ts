import { type ChildLoggerOptions, type DestinationStream, type Logger, pino } from 'pino';
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

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger, made from the server's on first use. Most requests log nothing, and
 * making a pino child runs the redaction over its bindings: with one child per request that was
 * a measurable share of a request's cost.
 */
export class LazyChildLogger {
  #child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): Logger {
    this.#child ??= this.parent.child(this.bindings, this.options);
    return this.#child;
  }

  get level(): string {
    return (this.#child ?? this.parent).level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.parent).isLevelEnabled(level);
  }

  private write(method: LogMethod, args: unknown[]): void {
    if (!this.isLevelEnabled(method)) return;
    (this.logger[method] as (...values: unknown[]) => void)(...args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Record<string, unknown>, options?: ChildLoggerOptions): Logger {
    return this.logger.child(bindings, options);
  }
}
