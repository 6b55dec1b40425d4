import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from './physicalMemory';

// Declared here, not imported, so that a wrong constant cannot pass its own test.
const PAGE_SIZE = 4096;
const MiB = 0x10_0000;

describe('PhysicalMemory', () => {
  it('is a whole number of pages', () => {
    expect(new PhysicalMemory(64 * MiB).size).toBe(64 * MiB);
    expect(new PhysicalMemory(PAGE_SIZE).bytes.length).toBe(PAGE_SIZE);
    expect(() => new PhysicalMemory(PAGE_SIZE + 1)).toThrow(RangeError);
    expect(() => new PhysicalMemory(0)).toThrow(RangeError);
  });

  it('reads and writes bytes, words and dwords little-endian', () => {
    const m = new PhysicalMemory(PAGE_SIZE);
    expect(m.writeDword(0x10, 0xdeadbeef)).toBe(true);
    expect([...m.bytes.subarray(0x10, 0x14)]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect(m.readDword(0x10)).toBe(0xdeadbeef);
    expect(m.readWord(0x11)).toBe(0xadbe);
    expect(m.readByte(0x13)).toBe(0xde);
    m.writeWord(0x20, 0x1234);
    expect([m.bytes[0x20], m.bytes[0x21]]).toEqual([0x34, 0x12]);
    m.writeByte(0x30, 0x1ff);
    expect(m.readByte(0x30)).toBe(0xff);
  });

  it('reaches addresses above 16 MiB on the default 64 MiB machine', () => {
    const m = new PhysicalMemory(64 * MiB);
    const pa = 48 * MiB + 0x123;
    m.writeDword(pa, 0x01020304);
    expect(m.readDword(pa)).toBe(0x01020304);
    expect(m.contains(64 * MiB - 4, 4)).toBe(true);
    expect(m.contains(64 * MiB - 3, 4)).toBe(false);
  });

  it('hands out copies on read and takes bulk writes', () => {
    const m = new PhysicalMemory(2 * PAGE_SIZE);
    m.write(PAGE_SIZE - 2, new Uint8Array([1, 2, 3, 4]));
    const copy = m.read(PAGE_SIZE - 2, 4);
    expect([...copy]).toEqual([1, 2, 3, 4]);
    copy[0] = 99;
    expect(m.readByte(PAGE_SIZE - 2)).toBe(1);
    m.fill(0, 8, 0xaa);
    expect([...m.read(6, 4)]).toEqual([0xaa, 0xaa, 0, 0]);
  });

  it('floats reads and drops writes beyond the end of memory, and counts them', () => {
    const m = new PhysicalMemory(PAGE_SIZE);
    m.fill(0, PAGE_SIZE, 0x11);
    expect(m.readByte(PAGE_SIZE)).toBe(0xff);
    expect(m.readDword(PAGE_SIZE - 2)).toBe(0xffff1111);
    expect(m.outOfRangeReads).toBe(2);
    expect([...m.read(PAGE_SIZE - 1, 3)]).toEqual([0x11, 0xff, 0xff]);
    expect(m.outOfRangeReads).toBe(3);

    expect(m.writeByte(PAGE_SIZE, 1)).toBe(false);
    expect(m.writeWord(-1, 0x2222)).toBe(false);
    expect(m.readByte(0)).toBe(0x22);
    expect(m.write(PAGE_SIZE - 1, new Uint8Array([7, 8]))).toBe(false);
    expect(m.readByte(PAGE_SIZE - 1)).toBe(7);
    expect(m.outOfRangeWrites).toBe(3);
    expect(m.bytes.length).toBe(PAGE_SIZE);
  });

  it('never throws on odd addresses', () => {
    const m = new PhysicalMemory(PAGE_SIZE);
    for (const pa of [NaN, -5, 1.5, 2 ** 40, Infinity]) {
      expect(() => m.readDword(pa)).not.toThrow();
      expect(() => m.read(pa, 4)).not.toThrow();
      expect(m.write(pa, new Uint8Array(2))).toBe(false);
    }
  });
});
