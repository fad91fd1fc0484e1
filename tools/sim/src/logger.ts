/** The few log calls the simulator makes; the CLI passes pino, tests a quiet default. */
export interface SimLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const stderrLogger: SimLogger = {
  info: (msg) => process.stderr.write(`[sim] ${msg}\n`),
  warn: (msg) => process.stderr.write(`[sim] WARN ${msg}\n`),
  error: (msg) => process.stderr.write(`[sim] ERROR ${msg}\n`),
};

export const quietLogger: SimLogger = {
  info: () => undefined,
  warn: (msg) => process.stderr.write(`[sim] WARN ${msg}\n`),
  error: (msg) => process.stderr.write(`[sim] ERROR ${msg}\n`),
};
