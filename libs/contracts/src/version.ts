/**
 * Every record carries `schemaVersion: "<major>.<minor>"` in its value and the same
 * string in the Kafka header `SCHEMA_VERSION_HEADER`. A minor bump only adds
 * optional fields (old readers ignore them); a major bump gets a new topic name
 * (`.v2`) and old readers reject it with reason `unsupported-version`.
 */
export const SCHEMA_VERSION_HEADER = 'heapstream-schema-version';

/** Current version written by this build, per schema (event schemas: src/events/topics.ts). */
export const SCHEMA_VERSIONS = {
  rawScrape: '1.0',
  metricPoints: '2.1',
  deadLetter: '1.0',
} as const;

/** Major part of a "major.minor" version, or undefined when the string is not one. */
export function majorOf(version: string): number | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(version);
  return m ? Number(m[1]) : undefined;
}
