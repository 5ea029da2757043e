import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Command, encodeFrame, type Frame, FrameDecoder, FrameError, MAX_PAYLOAD_BYTES } from './frames.js';

const header = (command: number, length: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeInt32LE(command, 0);
  bytes.writeInt32LE(length, 4);
  return bytes;
};
const simple = (frames: Frame[]) =>
  frames.map((frame) => ({ command: frame.command, payload: frame.payload.toString('utf8') }));

describe('the frame decoder', () => {
  it('encodes little-endian command and length, then the UTF-8 payload', () => {
    const frame = encodeFrame(Command.token, '{"token":"ä"}');
    expect(frame.readInt32LE(0)).toBe(2);
    expect(frame.readInt32LE(4)).toBe(Buffer.byteLength('{"token":"ä"}'));
    expect(frame.subarray(8).toString('utf8')).toBe('{"token":"ä"}');
  });

  it('reads frames split across chunks and frames coalesced into one chunk', () => {
    const decoder = new FrameDecoder();
    const bytes = Buffer.concat([
      encodeFrame(Command.heartbeat, '1700000000000'),
      encodeFrame(Command.register, '{}'),
    ]);
    expect(decoder.push(bytes.subarray(0, 3))).toEqual([]);
    expect(decoder.push(bytes.subarray(3, 12))).toEqual([]);
    expect(simple(decoder.push(bytes.subarray(12)))).toEqual([
      { command: 0, payload: '1700000000000' },
      { command: 1, payload: '{}' },
    ]);
    expect(decoder.buffered).toBe(0);
  });

  it('reads an empty payload', () => {
    expect(simple(new FrameDecoder().push(encodeFrame(Command.heartbeat, '')))).toEqual([
      { command: 0, payload: '' },
    ]);
  });

  it('takes 64 KiB and refuses one byte more, from the header alone', () => {
    expect(
      new FrameDecoder().push(encodeFrame(Command.register, 'x'.repeat(MAX_PAYLOAD_BYTES))),
    ).toHaveLength(1);
    expect(() => new FrameDecoder().push(header(Command.register, MAX_PAYLOAD_BYTES + 1))).toThrow(
      FrameError,
    );
  });

  it.each([
    ['a negative length', header(0, -5)],
    ['an unknown command', header(4, 0)],
    ['a negative command', header(-1, 0)],
  ])('refuses %s', (_case, bytes) => {
    expect(() => new FrameDecoder().push(bytes)).toThrow(FrameError);
  });

  it('gives back any sequence of frames, however the stream is cut', () => {
    const frame = fc.record({
      command: fc.constantFrom(Command.heartbeat, Command.register, Command.token, Command.event),
      payload: fc.string({ unit: 'grapheme', maxLength: 200 }),
    });
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const bytes = Buffer.concat(frames.map((item) => encodeFrame(item.command, item.payload)));
          const points = [...new Set(cuts.map((cut) => (bytes.length === 0 ? 0 : cut % bytes.length)))].sort(
            (a, b) => a - b,
          );
          const decoder = new FrameDecoder();
          const decoded: Frame[] = [];
          let start = 0;
          for (const point of [...points, bytes.length]) {
            decoded.push(...decoder.push(bytes.subarray(start, point)));
            start = point;
          }
          expect(simple(decoded)).toEqual(frames);
          expect(decoder.buffered).toBe(0);
        },
      ),
    );
  });

  describe('work per byte', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    /** Counts the bytes Buffer.concat and Buffer.from produce: the copying the decoder does. */
    function countCopies(): () => number {
      let bytes = 0;
      const concat = Buffer.concat.bind(Buffer);
      const from = Buffer.from.bind(Buffer) as (...args: unknown[]) => Buffer;
      vi.spyOn(Buffer, 'concat').mockImplementation((list, total) => {
        const result = concat(list, total);
        bytes += result.length;
        return result;
      });
      vi.spyOn(Buffer, 'from').mockImplementation(((...args: unknown[]) => {
        const result = from(...args);
        bytes += result.length;
        return result;
      }) as typeof Buffer.from);
      return () => bytes;
    }

    it('copies a 64 KiB frame sent one byte per read a bounded number of times, not once per byte', () => {
      const frame = encodeFrame(Command.register, 'x'.repeat(MAX_PAYLOAD_BYTES));
      const decoder = new FrameDecoder();
      const copied = countCopies();
      const frames: Frame[] = [];
      for (let i = 0; i < frame.length; i += 1) frames.push(...decoder.push(frame.subarray(i, i + 1)));
      const total = copied();
      vi.restoreAllMocks();
      expect(frames).toHaveLength(1);
      expect(frames[0]?.payload.length).toBe(MAX_PAYLOAD_BYTES);
      // Once to join the pieces, once for the payload of its own, once for the header's bytes.
      expect(total).toBeLessThanOrEqual(3 * frame.length);
      expect(decoder.bytesCopied).toBeLessThanOrEqual(3 * frame.length);
    });

    it('copies frames that come whole only for their payloads', () => {
      const frames = Array.from({ length: 100 }, (_, i) => encodeFrame(Command.heartbeat, String(i)));
      const decoder = new FrameDecoder();
      const copied = countCopies();
      for (const frame of frames) decoder.push(frame);
      const total = copied();
      vi.restoreAllMocks();
      expect(total).toBe(frames.reduce((sum, frame) => sum + frame.length - 8, 0));
    });

    it('refuses a frame spread over more reads than allowed, and takes one within them', () => {
      const frame = encodeFrame(Command.register, 'y'.repeat(1000));
      const pieces = (count: number) => {
        const size = Math.ceil(frame.length / count);
        return Array.from({ length: count }, (_, i) => frame.subarray(i * size, (i + 1) * size));
      };
      const within = new FrameDecoder(MAX_PAYLOAD_BYTES, 16);
      expect(pieces(16).flatMap((piece) => within.push(piece))).toHaveLength(1);
      const over = new FrameDecoder(MAX_PAYLOAD_BYTES, 16);
      expect(() => {
        for (const piece of pieces(17)) over.push(piece);
      }).toThrow(/more than 16 reads/);
    });
  });
});
