import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import tsconfig from './tsconfig.base.json' with { type: 'json' };

// Resolve the workspace aliases (@heapstream/*) from tsconfig so tests import
// libraries exactly the way services do: through their index.ts.
const alias = Object.fromEntries(
  Object.entries(tsconfig.compilerOptions.paths).map(([name, [target]]) => [
    name,
    fileURLToPath(new URL(target!, import.meta.url)),
  ]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['libs/**/*.test.ts', 'services/**/*.test.ts', 'tools/**/*.test.ts', 'test/workspace.test.ts'],
          exclude: ['**/*.it.test.ts', '**/node_modules/**'],
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['**/*.it.test.ts', 'test/**/*.it.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The real servers are shared: keep the number of concurrent files modest on 2 cores.
          maxWorkers: 2,
        },
      },
    ],
  },
});
