import { gunzipSync } from 'node:zlib';
import kafkajs, { CompressionTypes } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { compressionOf, configureCompression } from './compression.js';

// Registered by importing the library, as every service does.
const codecs = kafkajs.CompressionCodecs as Record<number, () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }>;
const record = Buffer.from(JSON.stringify({ pods: Array.from({ length: 200 }, (_, i) => ({ name: `pod-${i}`, cpu: { usageCoreNanoSeconds: (i * 2654435761) % 1e9, usageNanoCores: (i * 40503) % 99991 } })) }));

describe('Kafka compression codecs', () => {
  afterEach(() => configureCompression({ KAFKA_COMPRESSION: 'gzip' }));

  it('maps KAFKA_COMPRESSION to the kafkajs type', () => {
    expect(compressionOf({ KAFKA_COMPRESSION: 'none' })).toBe(CompressionTypes.None);
    expect(compressionOf({ KAFKA_COMPRESSION: 'gzip' })).toBe(CompressionTypes.GZIP);
    expect(compressionOf({ KAFKA_COMPRESSION: 'zstd' })).toBe(CompressionTypes.ZSTD);
  });

  it('writes plain gzip at any level, which any gunzip reads', async () => {
    const gzip = codecs[CompressionTypes.GZIP]!();
    const sizes: number[] = [];
    for (const level of [undefined, 1, 6, 9]) {
      configureCompression({ KAFKA_COMPRESSION: 'gzip', KAFKA_COMPRESSION_LEVEL: level });
      const packed = await gzip.compress({ buffer: record });
      expect(gunzipSync(packed)).toEqual(record);
      expect(await gzip.decompress(packed)).toEqual(record);
      sizes.push(packed.length);
    }
    // The default is level 1, which trades size for CPU; 6 (zlib's default) and 9 are smaller.
    expect(sizes[0]).toBe(sizes[1]);
    expect(sizes[1]).toBeGreaterThan(sizes[2]!);
    expect(sizes[2]).toBeGreaterThanOrEqual(sizes[3]!);
  });

  it('round-trips zstd at the default and a chosen level', async () => {
    const zstd = codecs[CompressionTypes.ZSTD]!();
    for (const level of [undefined, 1, 19]) {
      configureCompression({ KAFKA_COMPRESSION: 'zstd', KAFKA_COMPRESSION_LEVEL: level });
      const packed = await zstd.compress({ buffer: record });
      expect(packed.readUInt32LE(0)).toBe(0xfd2fb528); // zstd frame magic
      expect(packed.length).toBeLessThan(record.length / 5);
      expect(await zstd.decompress(packed)).toEqual(record);
    }
  });

  it('refuses a level outside the codec range, naming the variable', () => {
    expect(() => configureCompression({ KAFKA_COMPRESSION: 'gzip', KAFKA_COMPRESSION_LEVEL: 12 })).toThrow(/KAFKA_COMPRESSION_LEVEL=12 is not a gzip level: use 1-9/);
    expect(() => configureCompression({ KAFKA_COMPRESSION: 'zstd', KAFKA_COMPRESSION_LEVEL: 0 })).toThrow(/zstd level: use 1-19/);
    expect(() => configureCompression({ KAFKA_COMPRESSION: 'none', KAFKA_COMPRESSION_LEVEL: 12 })).not.toThrow();
  });
});
