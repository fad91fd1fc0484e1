import * as zlib from 'node:zlib';
import kafkajs, { CompressionTypes } from 'kafkajs';
import type { KafkaConfig } from './config.js';

/*
 * kafkajs ships gzip (zlib's default level 6) and no zstd. Importing this library
 * registers both codecs on Node's own zlib (no native dependency):
 *  - gzip at a chosen level: the bytes are plain gzip whatever the level, so every
 *    consumer reads them; level 1 costs about a third of level 6's CPU for records
 *    about 20 % larger (raw scrapes: 6.3× instead of 7.6× smaller);
 *  - zstd (Kafka ≥ 2.1 brokers and clients; a kafkajs consumer needs a registered codec,
 *    as every heapstream service has), cheaper than gzip level 1 and smaller than level 6.
 * kafkajs looks codecs up per process, so the level is per process too (`configureCompression`).
 */

/*
 * The codecs compress and decompress synchronously, on the calling thread. Node's async
 * zlib hands the work to the libuv pool in 16 KiB steps, and measured on 140 KiB of raw
 * scrape JSON that costs 1.5-8x the CPU of the same work done at once (gzip level 1:
 * 0.93 vs 0.45 ms per call; zstd level 3: 0.6-1.2 vs 0.15 ms; gunzip: 0.6-1.0 vs 0.3 ms),
 * and services here are CPU-bound. A send is at most a few MiB (see send-limits.ts), so
 * the event loop is held for tens of milliseconds at most (4 MiB at gzip level 1: ~13 ms).
 */
const noZstd = (): never => {
  // Node ≥ 22.15 / 23.8; on an older Node (the CLI's bootstrap) zstd fails when used, not at import.
  throw new Error(`zstd needs Node ≥ 22.15 (this is ${process.version})`);
};

/** `work()` as a promise: kafkajs codecs are asynchronous, and a codec error must be a rejection. */
function settled(work: () => Buffer): Promise<Buffer> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err as Error);
  }
}

/**
 * Used when KAFKA_COMPRESSION_LEVEL is unset: gzip level 1 (about a third of zlib's
 * default level 6's CPU for ~20 % more bytes, and still plain gzip), zstd's own default.
 */
const DEFAULT_LEVELS = { gzip: 1, zstd: zlib.constants.ZSTD_CLEVEL_DEFAULT ?? 3 };
const levels = { ...DEFAULT_LEVELS };

interface KafkaJsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const gzipCodec: KafkaJsCodec = {
  compress: (encoder) => settled(() => zlib.gzipSync(encoder.buffer, { level: levels.gzip })),
  decompress: (buffer) => settled(() => zlib.unzipSync(buffer)),
};

const zstdCodec: KafkaJsCodec = {
  compress: (encoder) => settled(() => (zlib.zstdCompressSync ?? noZstd)(encoder.buffer, { params: { [zlib.constants.ZSTD_c_compressionLevel]: levels.zstd } })),
  decompress: (buffer) => settled(() => (zlib.zstdDecompressSync ?? noZstd)(buffer)),
};

// kafkajs is CommonJS: its codec table is only reachable through the default export.
const codecs = kafkajs.CompressionCodecs as Record<number, () => KafkaJsCodec>;
codecs[CompressionTypes.GZIP] = () => gzipCodec;
codecs[CompressionTypes.ZSTD] = () => zstdCodec;

export const COMPRESSIONS = ['none', 'gzip', 'zstd'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** Valid KAFKA_COMPRESSION_LEVEL range per codec. */
const LEVEL_RANGE = { gzip: { min: 1, max: 9 }, zstd: { min: 1, max: 19 } };

export function compressionOf(config: Pick<KafkaConfig, 'KAFKA_COMPRESSION'>): CompressionTypes {
  switch (config.KAFKA_COMPRESSION) {
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'zstd':
      return CompressionTypes.ZSTD;
    default:
      return CompressionTypes.None;
  }
}

/**
 * Internal topics (service state only heapstream reads, such as the aggregator's
 * checkpoints): zstd unless compression is off. Every heapstream process registers the
 * codec, and on binary state zstd costs a fraction of gzip's CPU for smaller records. Needs
 * brokers >= 2.1, like KAFKA_COMPRESSION=zstd.
 */
export function internalCompressionOf(config: Pick<KafkaConfig, 'KAFKA_COMPRESSION'>): CompressionTypes {
  return config.KAFKA_COMPRESSION === 'none' ? CompressionTypes.None : CompressionTypes.ZSTD;
}

/**
 * Sets the level this process compresses with (unset: the codec's default); throws,
 * naming the variable, when the level is outside the chosen codec's range.
 */
export function configureCompression(config: Pick<KafkaConfig, 'KAFKA_COMPRESSION' | 'KAFKA_COMPRESSION_LEVEL'>): void {
  const { KAFKA_COMPRESSION: codec, KAFKA_COMPRESSION_LEVEL: level } = config;
  levels.gzip = DEFAULT_LEVELS.gzip;
  levels.zstd = DEFAULT_LEVELS.zstd;
  if (level === undefined || codec === 'none') return;
  const range = LEVEL_RANGE[codec];
  if (level < range.min || level > range.max) {
    throw new Error(`KAFKA_COMPRESSION_LEVEL=${level} is not a ${codec} level: use ${range.min}-${range.max}, or unset it for the default`);
  }
  levels[codec] = level;
}
