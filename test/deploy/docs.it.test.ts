import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseConfigSchema } from '@heapstream/service-runtime';
import { withReference } from './config-reference.js';
import { ROOT, SERVICE_SCHEMAS, SERVICES, schemaKeys } from './support.js';

// The operations guide and the README's install section stay in step with the code.

const operations = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('docs/operations.md', () => {
  it('has the configuration reference the schemas generate (npx tsx test/deploy/config-reference.ts)', () => {
    expect(operations).toBe(withReference(operations));
  });

  it.each(SERVICES)('lists every setting %s reads in the configuration reference', (service) => {
    const keys = [...schemaKeys(baseConfigSchema), ...schemaKeys(SERVICE_SCHEMAS[service])];
    expect(keys.filter((k) => !operations.includes(`\`${k}\``))).toEqual([]);
  });

  it('names only deploy/ paths that exist', () => {
    for (const m of operations.matchAll(/`(deploy\/[\w./-]+)`/g)) expect(existsSync(join(ROOT, m[1]!.replace(/\*.*$/, ''))), m[1]).toBe(true);
  });
});

describe('README', () => {
  const section = readme.slice(readme.indexOf('## Install on a cluster / docker compose'), readme.indexOf('## Prerequisites'));
  it('says how to install both overlays with kubectl and how to start docker compose', () => {
    expect(section).toContain('kubectl apply -k deploy/overlays/all-in-one');
    expect(section).toContain('kubectl apply -k deploy/overlays/external');
    expect(section).toContain('docker compose up -d --build');
    expect(section).toContain('deploy/compose/real-cluster.yml');
  });
});
