import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
});
