export { createLogger, OnceLogger, type Logger } from './logger.js';
export { StageMetrics } from './metrics.js';
export { HealthRegistry, freshnessCheck, stallCheck, type HealthCheck, type HealthReport } from './health.js';
export { backoffDelay, retry, retryAtBoot, defaultBackoff, type BackoffOptions } from './backoff.js';
export { processStats, quantile, type ProcessStats } from './process-stats.js';
