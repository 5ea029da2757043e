import type { AddressInfo } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { capConnectionsPerAddress } from '../http/connection-limits.js';
import type { TlsMaterial } from './certificate.js';
import type { ChannelConnection, ChannelHub, ChannelTransport } from './connections.js';
import {
  type Command,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameError,
  MAX_PAYLOAD_BYTES,
} from './frames.js';

export interface ChannelServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The push socket: TLS over TCP, frames of frames.ts. Anything wrong on a connection (a bad
 * header, an oversized frame, a register that is not JSON, a handshake that stalls) closes
 * that connection only.
 */
export async function startChannelServer(
  hub: ChannelHub,
  options: {
    port: number;
    host: string;
    tls: TlsMaterial;
    handshakeTimeoutMs: number;
    /** Open connections per client address; 0 or absent = no cap. */
    maxConnectionsPerAddress?: number;
    /** A frame whose bytes take more reads than this closes its connection; absent = no bound. */
    maxReadsPerFrame?: number;
    onError?: (error: Error) => void;
  },
): Promise<ChannelServer> {
  const server = tls.createServer(
    {
      cert: options.tls.cert,
      key: options.tls.key,
      // Lancens clients cap at TLS 1.2; 1.3 is offered to the others.
      minVersion: 'TLSv1.2',
      handshakeTimeout: options.handshakeTimeoutMs,
      // Resumption by stateless tickets only: the server keeps no session cache.
      sessionTimeout: 300,
    },
    (socket) => {
      socket.setNoDelay(true);
      const transport = new TlsTransport(socket as ChannelSocket, options.maxReadsPerFrame);
      const connection = hub.open(transport);
      transport.attach(connection);
    },
  );
  // Counted from the TCP connection, before a TLS handshake is worked on.
  capConnectionsPerAddress(server, options.maxConnectionsPerAddress ?? 0, () => false);
  // A failed or stalled handshake (handshakeTimeout): with a listener here, closing the
  // socket is ours to do.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  server.on('error', (error) => options.onError?.(error));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        hub.closeAll('tls');
      }),
  };
}

const kTransport = Symbol('channel transport');
type ChannelSocket = TLSSocket & { [kTransport]?: TlsTransport };

/**
 * One TLS connection. Listeners are shared functions that find the transport on the socket,
 * not closures per connection, and the frame decoder holds bytes only while a frame is
 * incomplete: 10,000 idle phones cost little beyond their TLS state.
 */
class TlsTransport implements ChannelTransport {
  readonly kind = 'tls' as const;
  readonly decoder: FrameDecoder;
  connection: ChannelConnection | undefined;

  constructor(
    private readonly socket: ChannelSocket,
    maxReadsPerFrame: number | undefined,
  ) {
    this.decoder = new FrameDecoder(MAX_PAYLOAD_BYTES, maxReadsPerFrame);
  }

  attach(connection: ChannelConnection): void {
    this.connection = connection;
    this.socket[kTransport] = this;
    this.socket.on('data', onData);
    this.socket.on('error', ignore);
    this.socket.on('close', onClose);
  }

  write(command: Command, payload: string): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(encodeFrame(command, payload));
    return true;
  }

  buffered(): number {
    return this.socket.writableLength;
  }

  close(): void {
    this.socket.destroy();
  }
}

function onData(this: ChannelSocket, chunk: Buffer): void {
  const connection = this[kTransport]?.connection;
  const decoder = this[kTransport]?.decoder;
  if (connection === undefined || decoder === undefined) return;
  let frames: Frame[];
  try {
    frames = decoder.push(chunk);
  } catch (error) {
    if (!(error instanceof FrameError)) throw error;
    connection.close('bad_frame');
    return;
  }
  for (const frame of frames) {
    connection.receive(frame.command, frame.payload.toString('utf8'));
    if (connection.isClosed) return;
  }
}

function onClose(this: ChannelSocket): void {
  this[kTransport]?.connection?.close('peer');
}

function ignore(): void {}
