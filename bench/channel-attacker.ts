/**
 * A trickling attacker for bench/channel.ts, in a child process of its own: `connections` TLS
 * connections to the push socket, each sending the largest frame the protocol allows (64 KiB)
 * one byte per TLS record, and connecting again whenever the server closes it. Reports over
 * IPC, when asked, how many bytes it sent and how often the server cut it off.
 */
import './lib/exit-with-parent.mjs';
import tls from 'node:tls';
import { Command, HEADER_BYTES, MAX_PAYLOAD_BYTES } from '../src/channel/frames.js';

export interface AttackerStart {
  type: 'start';
  port: number;
  connections: number;
}

export type AttackerReport = { type: 'status'; bytesSent: number; closedByServer: number };

const header = Buffer.alloc(HEADER_BYTES);
header.writeInt32LE(Command.register, 0);
header.writeInt32LE(MAX_PAYLOAD_BYTES, 4);
const byte = Buffer.from('x');

let bytesSent = 0;
let closedByServer = 0;
let stopping = false;

function write(socket: tls.TLSSocket, chunk: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve(false);
    else socket.write(chunk, (error) => resolve(error === undefined || error === null));
  });
}

async function trickle(port: number): Promise<void> {
  while (!stopping) {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => {
      socket.once('secureConnect', () => resolve());
      socket.once('close', () => resolve());
    });
    // One record per write: each waits until the last has left.
    let open = await write(socket, header);
    for (let sent = 0; open && !stopping && sent < MAX_PAYLOAD_BYTES; sent += 1) {
      open = await write(socket, byte);
      if (open) bytesSent += 1;
    }
    if (!open && !stopping) closedByServer += 1;
    socket.destroy();
  }
}

process.on('message', (message: AttackerStart | { type: 'status' } | { type: 'stop' }) => {
  if (message.type === 'start') {
    for (let index = 0; index < message.connections; index += 1) void trickle(message.port);
  } else if (message.type === 'status') {
    process.send?.({ type: 'status', bytesSent, closedByServer } satisfies AttackerReport);
  } else {
    stopping = true;
  }
});
