/** Injection tokens of the runtime; providers inject these explicitly (no decorator metadata). */
export const CONFIG = Symbol('heapstream.config');
export const LOGGER = Symbol('heapstream.logger');
export const HEALTH = Symbol('heapstream.health');
export const METRICS = Symbol('heapstream.metrics');
