/*
 * The same entry as main.ts, loaded as CommonJS: `node --import tsx
 * services/storage-writer/src/main-cjs.cts`. Under plain Node ESM, libs/kafka's
 * `import { KafkaJSError } from 'kafkajs'` fails (kafkajs spreads its errors into
 * module.exports, which Node's CJS export detection cannot see); through require()
 * the named imports resolve. Remove once libs/kafka imports kafkajs' default export.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the point of this file
require('./main.ts');
