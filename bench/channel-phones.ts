/**
 * Phones for bench/channel.ts, in a child process of their own: TLS connections to the push
 * socket, each registering one identity and behaving as a Lancens client does (a heartbeat
 * after every frame it reads; it gives up on a connection that has been silent for 130 s).
 * Reports over IPC: connected, each ring received, fan-out complete, and the alive count.
 */
import './lib/exit-with-parent.mjs';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { Command, encodeFrame, FrameDecoder } from '../src/channel/frames.js';
import { createChannelTokens } from '../src/channel/tokens.js';
import { createSecretBox } from '../src/crypto/secret-box.js';

export interface PhonesStart {
  type: 'start';
  port: number;
  /** Phones `from` … `to - 1`: identity i is imei `bench-<i>`. */
  from: number;
  to: number;
  bundleId: string;
  masterKey: string;
  idleTimeoutMs: number;
  concurrency: number;
}

export type PhonesReport =
  | { type: 'connected'; count: number; tokensMatched: number; failed: number }
  | { type: 'ring'; seq: number; at: number }
  | { type: 'fanout'; received: number; at: number }
  | { type: 'status'; alive: number; dropped: number; idleGaveUp: number; heartbeats: number };

export const wallClock = () => performance.timeOrigin + performance.now();

const send = (report: PhonesReport) => process.send?.(report);

interface Phone {
  socket: tls.TLSSocket;
  decoder: FrameDecoder;
  lastRead: number;
  open: boolean;
}

const phones: Phone[] = [];
let dropped = 0;
let idleGaveUp = 0;
let heartbeats = 0;
let fanoutReceived = 0;
let expectedFanout = 0;

function onEvent(payload: Buffer): void {
  const event = JSON.parse(payload.toString('utf8')) as { bench?: string; seq?: string };
  if (event.bench === 'ring') send({ type: 'ring', seq: Number(event.seq), at: wallClock() });
  else if (event.bench === 'fanout') {
    fanoutReceived += 1;
    if (fanoutReceived === expectedFanout)
      send({ type: 'fanout', received: fanoutReceived, at: wallClock() });
  }
}

function connect(start: PhonesStart, index: number, expected: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ port: start.port, host: '127.0.0.1', rejectUnauthorized: false });
    const phone: Phone = { socket, decoder: new FrameDecoder(), lastRead: Date.now(), open: true };
    let registered = false;
    socket.setNoDelay(true);
    socket.once('secureConnect', () => {
      socket.write(
        encodeFrame(
          Command.register,
          JSON.stringify({
            imei: `bench-${index}`,
            imsi: '',
            type: 'bench',
            brand: 'bench',
            bundle_id: start.bundleId,
          }),
        ),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      phone.lastRead = Date.now();
      for (const frame of phone.decoder.push(chunk)) {
        if (frame.command === Command.token && !registered) {
          registered = true;
          phones.push(phone);
          resolve((JSON.parse(frame.payload.toString('utf8')) as { token: string }).token === expected);
        } else if (frame.command === Command.heartbeat) heartbeats += 1;
        else if (frame.command === Command.event) onEvent(frame.payload);
        socket.write(encodeFrame(Command.heartbeat, String(Date.now())));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (phone.open && registered) dropped += 1;
      phone.open = false;
      if (!registered) resolve(false);
    });
  });
}

process.on('message', (message: PhonesStart | { type: 'status' }) => {
  if (message.type === 'status') {
    send({
      type: 'status',
      alive: phones.filter((phone) => phone.open).length,
      dropped,
      idleGaveUp,
      heartbeats,
    });
    return;
  }
  void (async () => {
    const tokens = createChannelTokens(
      createSecretBox(Buffer.from(message.masterKey, 'base64')).deriveKey('push channel tokens'),
    );
    expectedFanout = message.to - message.from;
    let next = message.from;
    let matched = 0;
    let failed = 0;
    const worker = async () => {
      while (next < message.to) {
        const index = next;
        next += 1;
        const expected = tokens.issue({ bundleId: message.bundleId, imei: `bench-${index}`, imsi: '' });
        if (await connect(message, index, expected)) matched += 1;
        else failed += 1;
      }
    };
    await Promise.all(Array.from({ length: message.concurrency }, worker));
    // A client's read timeout: one sweep for all phones, not a timer each.
    setInterval(() => {
      const now = Date.now();
      for (const phone of phones) {
        if (phone.open && now - phone.lastRead > message.idleTimeoutMs) {
          idleGaveUp += 1;
          phone.socket.destroy();
        }
      }
    }, 1_000);
    send({ type: 'connected', count: phones.length, tokensMatched: matched, failed });
  })();
});
