import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { TlsMaterial } from './certificate.js';
import type { ChannelHub, ChannelTransport } from './connections.js';
import { type Command, encodeFrame, FrameDecoder, FrameError } from './frames.js';

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
      // Phones reconnect rarely: no session cache to hold, tickets are stateless.
      sessionTimeout: 300,
    },
    (socket) => {
      socket.setNoDelay(true);
      const decoder = new FrameDecoder();
      const transport: ChannelTransport = {
        kind: 'tls',
        write: (command: Command, payload: string) => {
          if (socket.destroyed || !socket.writable) return false;
          socket.write(encodeFrame(command, payload));
          return true;
        },
        buffered: () => socket.writableLength,
        close: () => {
          socket.destroy();
        },
      };
      const connection = hub.open(transport);
      socket.on('data', (chunk: Buffer) => {
        let frames: ReturnType<FrameDecoder['push']>;
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
      });
      socket.on('error', () => {});
      socket.on('close', () => connection.close('peer'));
    },
  );
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
