export { baseConfigSchema, loadConfig, ConfigError, csv, flag, durationMs } from './config.js';
export { CONFIG, LOGGER, HEALTH, METRICS } from './tokens.js';
export { RuntimeModule } from './runtime.module.js';
export { HealthController } from './health.controller.js';
export { startService, runService, type ServiceDefinition, type ServiceContext, type RunningService } from './bootstrap.js';
