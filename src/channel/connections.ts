import type { ChannelBus, ChannelEndpoint } from './bus.js';
import { Command } from './frames.js';
import type { ChannelTokens, DeviceIdentity } from './tokens.js';

/** How a connection's bytes reach the phone: a TLS socket or a WebSocket. */
export interface ChannelTransport {
  readonly kind: 'tls' | 'websocket';
  /** Writes one frame; false when it could not be written. */
  write(command: Command, payload: string): boolean;
  /** Bytes written but not yet sent: a phone that stops reading is dropped. */
  buffered(): number;
  close(): void;
}

export type CloseReason =
  | 'peer'
  | 'bad_frame'
  | 'bad_register'
  | 'register_timeout'
  | 'idle'
  | 'replaced'
  | 'slow'
  | 'shutdown';

export interface ChannelHubOptions {
  bus: ChannelBus;
  tokens: ChannelTokens;
  heartbeatMs: number;
  idleTimeoutMs: number;
  registerTimeoutMs: number;
  /** Monotonic milliseconds; tests may pass their own. */
  now?: () => number;
  observer?: ChannelObserver;
}

/** What the hub reports, for metrics and logs. */
export interface ChannelObserver {
  opened?(kind: ChannelTransport['kind']): void;
  closed?(kind: ChannelTransport['kind'], reason: CloseReason): void;
  frameSent?(command: Command): void;
  registered?(kind: ChannelTransport['kind']): void;
}

/** A phone that stops reading is dropped once this much is waiting to be sent to it. */
const MAX_BUFFERED_BYTES = 256 * 1024;
const MAX_FIELD_LENGTH = 256;

/**
 * One connection's protocol state: registered or not, when it was last heard from and last
 * written to. Timing is checked by the hub's one sweep, never by a timer per connection.
 */
export class ChannelConnection implements ChannelEndpoint {
  token: string | undefined;
  lastHeard: number;
  lastSent: number;
  readonly openedAt: number;
  private detach: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly hub: ChannelHub,
    readonly transport: ChannelTransport,
    now: number,
  ) {
    this.openedAt = now;
    this.lastHeard = now;
    this.lastSent = now;
  }

  /** A frame from the phone. Register payloads are JSON objects (or their text). */
  receive(command: number, payload: unknown): void {
    if (this.closed) return;
    this.lastHeard = this.hub.now();
    if (command === Command.register) this.register(payload);
    // Heartbeats only say the phone is alive; a phone never sends tokens or events.
  }

  private register(payload: unknown): void {
    const identity = parseRegister(payload);
    if (identity === undefined) {
      this.close('bad_register');
      return;
    }
    const token = this.hub.tokens.issue(identity);
    if (token !== this.token) {
      this.detach?.();
      this.token = token;
      this.send(Command.token, JSON.stringify({ token }));
      this.detach = this.hub.bus.attach(token, this);
    } else this.send(Command.token, JSON.stringify({ token }));
    this.hub.observer?.registered?.(this.transport.kind);
  }

  send(command: Command, payload: string): boolean {
    if (this.closed) return false;
    if (this.transport.buffered() > MAX_BUFFERED_BYTES) {
      this.close('slow');
      return false;
    }
    const ok = this.transport.write(command, payload);
    if (ok) {
      this.lastSent = this.hub.now();
      this.hub.observer?.frameSent?.(command);
    }
    return ok;
  }

  sendEvent(event: string): boolean {
    return this.send(Command.event, event);
  }

  replaced(): void {
    this.detach = undefined;
    this.close('replaced');
  }

  /** Closes the connection (once) and forgets it. */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.detach?.();
    this.detach = undefined;
    this.hub.forget(this, reason);
    this.transport.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function field(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string' || value.length > MAX_FIELD_LENGTH) return undefined;
  return value.trim();
}

/**
 * `{imei, imsi, type, brand, bundle_id}`: a bundle id and at least one of imei / imsi, the
 * device identity the token is derived from. Undefined when the payload is not that.
 */
export function parseRegister(payload: unknown): DeviceIdentity | undefined {
  let value = payload;
  if (typeof payload === 'string') {
    try {
      value = JSON.parse(payload);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const bundleId = field(record.bundle_id ?? record.bundleid);
  const imei = field(record.imei ?? '');
  const imsi = field(record.imsi ?? '');
  if (bundleId === undefined || bundleId === '' || imei === undefined || imsi === undefined) return undefined;
  if (imei === '' && imsi === '') return undefined;
  return { bundleId, imei, imsi };
}

/**
 * Every connection of this process, TLS or WebSocket. One sweep (an unref'd interval that
 * runs only while there are connections) sends heartbeats when a connection has not been
 * written to for `heartbeatMs`, and closes connections that never registered or went silent.
 */
export class ChannelHub {
  readonly bus: ChannelBus;
  readonly tokens: ChannelTokens;
  readonly observer: ChannelObserver | undefined;
  readonly now: () => number;
  private readonly connections = new Set<ChannelConnection>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly sweepMs: number;

  constructor(private readonly options: ChannelHubOptions) {
    this.bus = options.bus;
    this.tokens = options.tokens;
    this.observer = options.observer;
    this.now = options.now ?? (() => performance.now());
    const shortest = Math.min(options.heartbeatMs, options.idleTimeoutMs, options.registerTimeoutMs);
    this.sweepMs = Math.max(20, Math.min(1000, Math.floor(shortest / 4)));
  }

  open(transport: ChannelTransport): ChannelConnection {
    const connection = new ChannelConnection(this, transport, this.now());
    this.connections.add(connection);
    this.observer?.opened?.(transport.kind);
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), this.sweepMs);
      this.sweeper.unref();
    }
    return connection;
  }

  /** Called by ChannelConnection.close. */
  forget(connection: ChannelConnection, reason: CloseReason): void {
    if (!this.connections.delete(connection)) return;
    this.observer?.closed?.(connection.transport.kind, reason);
    if (this.connections.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  get size(): number {
    return this.connections.size;
  }

  sweep(): void {
    const now = this.now();
    const { heartbeatMs, idleTimeoutMs, registerTimeoutMs } = this.options;
    for (const connection of this.connections) {
      if (connection.token === undefined && now - connection.openedAt >= registerTimeoutMs)
        connection.close('register_timeout');
      else if (now - connection.lastHeard >= idleTimeoutMs) connection.close('idle');
      else if (now - connection.lastSent >= heartbeatMs)
        connection.send(Command.heartbeat, String(Date.now()));
    }
  }

  /** Closes every connection, or every one of a kind (shutdown). */
  closeAll(kind?: ChannelTransport['kind']): void {
    for (const connection of [...this.connections])
      if (kind === undefined || connection.transport.kind === kind) connection.close('shutdown');
  }
}
