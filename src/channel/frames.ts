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
 * Cuts a byte stream into frames, whatever the chunking. It keeps only the bytes of an
 * unfinished frame, so an idle connection holds no buffer at all. A header with an unknown
 * command or a length outside 0..maxPayload is an error: the stream cannot be trusted after it.
 */
export class FrameDecoder {
  private pending: Buffer | undefined;

  constructor(private readonly maxPayload = MAX_PAYLOAD_BYTES) {}

  /** The frames completed by `chunk`; throws a FrameError on a bad header. */
  push(chunk: Buffer): Frame[] {
    let data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    const frames: Frame[] = [];
    while (data.length >= HEADER_BYTES) {
      const command = data.readInt32LE(0);
      const length = data.readInt32LE(4);
      if (!isCommand(command)) throw new FrameError(`unknown command ${command}`);
      if (length < 0 || length > this.maxPayload) throw new FrameError(`bad frame length ${length}`);
      if (data.length < HEADER_BYTES + length) break;
      // A copy, so that a frame never pins the (possibly large) chunk it came in.
      frames.push({ command, payload: Buffer.from(data.subarray(HEADER_BYTES, HEADER_BYTES + length)) });
      data = data.subarray(HEADER_BYTES + length);
    }
    if (data.length > 0) this.pending = Buffer.from(data);
    return frames;
  }

  /** Bytes of an unfinished frame held. */
  get buffered(): number {
    return this.pending?.length ?? 0;
  }
}
