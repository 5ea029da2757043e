import { once } from 'node:events';
import tls from 'node:tls';
import { Command, encodeFrame, type Frame, FrameDecoder } from '../../src/channel/frames.js';

export interface PhoneIdentity {
  imei: string;
  imsi: string;
  type?: string;
  brand?: string;
  bundle_id: string;
}

/**
 * A phone on the push channel, written to the wire format as Lancens clients speak it:
 * TLS (trusting the given certificate), a register frame, and a heartbeat (a millisecond
 * timestamp) after every frame it reads, unless told to stay silent.
 */
export class ChannelPhone {
  readonly frames: Frame[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly decoder = new FrameDecoder(1024 * 1024);
  closed = false;
  readonly whenClosed: Promise<void>;

  private constructor(
    readonly socket: tls.TLSSocket,
    private readonly answerFrames: boolean,
  ) {
    this.whenClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.whenClosed.then(() => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) {
        this.frames.push(frame);
        if (this.answerFrames && !socket.destroyed)
          socket.write(encodeFrame(Command.heartbeat, String(Date.now())));
      }
      this.wake();
    });
  }

  static async connect(
    port: number,
    ca: string,
    options: { answerFrames?: boolean } = {},
  ): Promise<ChannelPhone> {
    const socket = tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost' });
    await once(socket, 'secureConnect');
    return new ChannelPhone(socket, options.answerFrames ?? true);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** The next frame of this command (earlier frames of other commands are skipped and kept). */
  async next(command: Command, boundMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + boundMs;
    for (;;) {
      const index = this.frames.findIndex((frame) => frame.command === command);
      if (index !== -1) return this.frames.splice(index, 1)[0] as Frame;
      if (this.closed) throw new Error(`connection closed while waiting for command ${command}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for command ${command}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async register(identity: PhoneIdentity): Promise<string> {
    this.send(Command.register, JSON.stringify({ type: 'Pixel 8', brand: 'google', ...identity }));
    const frame = await this.next(Command.token);
    return (JSON.parse(frame.payload.toString('utf8')) as { token: string }).token;
  }

  async event(): Promise<Record<string, unknown>> {
    const frame = await this.next(Command.event);
    return JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown>;
  }

  send(command: Command, payload: string): void {
    this.socket.write(encodeFrame(command, payload));
  }

  raw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  async close(): Promise<void> {
    this.socket.destroy();
    await this.whenClosed;
  }
}
