import { registerHooks } from 'node:module';

// Work around kafkajs' undetectable CommonJS exports (see kafkajs-esm.mjs); remove once
// libs/kafka imports kafkajs through its default export.
const shim = new URL('./kafkajs-esm.mjs', import.meta.url).href;
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'kafkajs' && context.parentURL !== shim) return { url: shim, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});

const { runService } = await import('@heapstream/service-runtime');
const { aggregatorService } = await import('./service.js');
runService(aggregatorService);
