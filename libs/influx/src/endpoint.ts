import type { InfluxConfig } from './config.js';
import type { InfluxEndpoint } from './http.js';

export function endpointOf(c: InfluxConfig): InfluxEndpoint {
  return { url: c.INFLUX_URL, token: c.INFLUX_TOKEN, org: c.INFLUX_ORG, timeoutMs: c.INFLUX_TIMEOUT_MS, gzip: c.INFLUX_GZIP };
}
