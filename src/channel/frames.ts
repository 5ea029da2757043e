/**
 * The push channel's wire format (Lancens-compatible, reference/lancens-manual.md §3.5):
 * little-endian `int32 command`, `int32 length`, then `length` bytes of UTF-8 payload
 * (JSON, or the text of a heartbeat).
 */

export const Command = {
  /** Either side; the client sends a millisecond timestamp after every frame it reads. */
  heartbeat: 0,
  /** Client → server: `{imei, imsi, type, brand, bundle_id}`. */
  register: 1,
  /** Server → client: `{"token": "<push_token>"}`. */
  token: 2,
  /** Server → client: a notification. */
  event: 3,
} as const;

export type Command = (typeof Command)[keyof typeof Command];

export const HEADER_BYTES = 8;
/** The largest payload either side may send. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface Frame {
  command: Command;
  payload: Buffer;
}

export function isCommand(value: number): value is Command {
  return value === 0 || value === 1 || value === 2 || value === 3;
}

export function encodeFrame(command: Command, payload: string | Buffer): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeInt32LE(command, 0);
  frame.writeInt32LE(length, 4);
  if (typeof payload === 'string') frame.write(payload, HEADER_BYTES, 'utf8');
  else payload.copy(frame, HEADER_BYTES);
  return frame;
}

export class FrameError extends Error {
  override name = 'FrameError';
}

/**
 * Cuts a byte stream into frames, whatever the chunking. Chunks of an unfinished frame are
 * kept as they came, in a list, and joined once when the frame is complete: a frame sent one
 * byte per TLS record costs work in proportion to its size, not to its square. An idle
 * connection holds no buffer at all. A header with an unknown command or a length outside
 * 0..maxPayload is an error (the stream cannot be trusted after it), and so is a frame spread
 * over more than `maxReadsPerFrame` reads: no phone trickles its frames a few bytes at a time.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private held = 0;
  /** Bytes the current frame needs before it can be read: its header, then its whole length. */
  private needed = HEADER_BYTES;
  private reads = 0;
  private copied = 0;

  constructor(
    private readonly maxPayload = MAX_PAYLOAD_BYTES,
    private readonly maxReadsPerFrame = Number.POSITIVE_INFINITY,
  ) {}

  /** The frames completed by `chunk`; throws a FrameError on a bad header or a trickled frame. */
  push(chunk: Buffer): Frame[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.held += chunk.length;
    this.reads += 1;
    if (this.reads > this.maxReadsPerFrame)
      throw new FrameError(`a frame spread over more than ${this.maxReadsPerFrame} reads`);
    if (this.held < this.needed) return [];
    let data = this.join();
    const frames: Frame[] = [];
    while (data.length >= HEADER_BYTES) {
      const length = this.header(data);
      if (data.length < HEADER_BYTES + length) break;
      frames.push({ command: data.readInt32LE(0) as Command, payload: this.copy(data, length) });
      data = data.subarray(HEADER_BYTES + length);
    }
    this.reads = 0;
    this.needed = data.length >= HEADER_BYTES ? HEADER_BYTES + this.header(data) : HEADER_BYTES;
    // A copy of the rest, so that a frame in progress never pins the (possibly large) chunk.
    this.chunks = data.length === 0 ? [] : [this.copyOf(data)];
    this.held = data.length;
    if (data.length > 0) this.reads = 1;
    return frames;
  }

  /** The payload length of the header at the start of `data`, once checked. */
  private header(data: Buffer): number {
    const command = data.readInt32LE(0);
    const length = data.readInt32LE(4);
    if (!isCommand(command)) throw new FrameError(`unknown command ${command}`);
    if (length < 0 || length > this.maxPayload) throw new FrameError(`bad frame length ${length}`);
    return length;
  }

  private join(): Buffer {
    if (this.chunks.length === 1) return this.chunks[0] as Buffer;
    this.copied += this.held;
    return Buffer.concat(this.chunks, this.held);
  }

  /** A frame's payload, in a buffer of its own. */
  private copy(data: Buffer, length: number): Buffer {
    return this.copyOf(data.subarray(HEADER_BYTES, HEADER_BYTES + length));
  }

  private copyOf(bytes: Buffer): Buffer {
    this.copied += bytes.length;
    return Buffer.from(bytes);
  }

  /** Bytes of an unfinished frame held. */
  get buffered(): number {
    return this.held;
  }

  /** Bytes copied so far (joining chunks, payloads): a measure of the work done on this stream. */
  get bytesCopied(): number {
    return this.copied;
  }
}
