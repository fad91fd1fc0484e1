import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageRuntime, repoRoot } from './pipeline.js';

describe('bundles run as the image runs them', () => {
  it("take the entrypoint's Node flags and environment, with the preload beside the bundles", () => {
    const { flags, env } = imageRuntime('/tmp/bundles');
    expect(flags).toContain('--import=/tmp/bundles/runtime.mjs');
    expect(flags.join(' ')).not.toContain('$app');
    expect(env).toMatchObject({ MALLOC_ARENA_MAX: expect.stringMatching(/^\d+$/) });
    expect(existsSync(join(repoRoot, 'deploy/docker/runtime.mjs'))).toBe(true);
  });
});
