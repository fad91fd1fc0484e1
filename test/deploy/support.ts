import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { baseConfigSchema } from '@heapstream/service-runtime';
import { aggregatorConfigSchema } from '../../services/aggregator/src/config.js';
import { eventWatcherConfigSchema } from '../../services/event-watcher/src/config.js';
import { scraperConfigSchema } from '../../services/scraper/src/config.js';
import { storageWriterConfigSchema } from '../../services/storage-writer/src/config.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OVERLAYS = ['external', 'all-in-one'] as const;
export const SERVICES = ['scraper', 'event-watcher', 'aggregator', 'storage-writer'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Each service's own schema; runService validates the environment against it and the base schema. */
export const SERVICE_SCHEMAS: Record<ServiceName, z.ZodType> = {
  scraper: scraperConfigSchema,
  'event-watcher': eventWatcherConfigSchema,
  aggregator: aggregatorConfigSchema,
  'storage-writer': storageWriterConfigSchema,
};

/** The variable names a zod schema reads: object shapes through intersections, pipes and refinements. */
export function schemaKeys(schema: z.ZodType): Set<string> {
  const keys = new Set<string>();
  const visit = (s: unknown): void => {
    const def = (s as { def?: Record<string, unknown> }).def;
    if (!def) return;
    if (def.type === 'object') for (const k of Object.keys(def.shape as object)) keys.add(k);
    else if (def.type === 'intersection') {
      visit(def.left);
      visit(def.right);
    } else if (def.type === 'pipe') visit(def.in);
    else if (def.innerType) visit(def.innerType);
  };
  visit(schema);
  return keys;
}

/** Variables a schema fails without (no default, not optional). */
export function requiredKeys(schema: z.ZodType): string[] {
  const out: string[] = [];
  const visit = (s: unknown): void => {
    const def = (s as { def?: Record<string, unknown> }).def;
    if (!def) return;
    if (def.type === 'object') {
      for (const [k, field] of Object.entries(def.shape as Record<string, z.ZodType>)) if (!field.safeParse(undefined).success) out.push(k);
    } else if (def.type === 'intersection') {
      visit(def.left);
      visit(def.right);
    } else if (def.type === 'pipe') visit(def.in);
    else if (def.innerType) visit(def.innerType);
  };
  visit(schema);
  return out;
}

/** Checks an environment the way the service would at boot; returns the problems, [] when it would start. */
export function checkServiceEnv(service: ServiceName, env: Record<string, string>): string[] {
  const schema = SERVICE_SCHEMAS[service];
  const known = new Set([...schemaKeys(baseConfigSchema), ...schemaKeys(schema)]);
  const problems = Object.keys(env)
    .filter((k) => !known.has(k))
    .map((k) => `${service}: ${k} is not a setting the service reads`);
  for (const [name, s] of [['base', baseConfigSchema], [service, schema]] as const) {
    const result = (s as z.ZodType).safeParse(env);
    if (!result.success) problems.push(...result.error.issues.map((i) => `${service} (${name} schema): ${i.path.join('.')}: ${i.message}`));
  }
  return problems;
}

/** KUBECTL (kubectl 1.34 built by `heapstream infra up`) and the admin KUBECONFIG. */
export function kubeEnv(): { KUBECTL: string; KUBECONFIG: string } {
  const file = join(process.env.HEAPSTREAM_STATE ?? join(homedir(), '.cache', 'heapstream', 'run'), 'env');
  const fromFile = existsSync(file)
    ? Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    : {};
  const KUBECTL = process.env.KUBECTL ?? fromFile.KUBECTL;
  const KUBECONFIG = process.env.KUBECONFIG ?? fromFile.KUBECONFIG;
  if (!KUBECTL || !KUBECONFIG) throw new Error('KUBECTL and KUBECONFIG unset: run ./heapstream infra up (it writes them to ~/.cache/heapstream/run/env)');
  return { KUBECTL, KUBECONFIG };
}

/** The shared API server is restarted by other tests now and then: these answers mean "try again". */
const TRANSIENT = /connection refused|connection reset|unexpected EOF|ServiceUnavailable|the server is currently unable|TLS handshake timeout|i\/o timeout|etcdserver|too many requests/i;

export function kubectl(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const { KUBECTL, KUBECONFIG } = kubeEnv();
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = spawnSync(KUBECTL, args, { input, encoding: 'utf8', env: { ...process.env, KUBECONFIG }, maxBuffer: 64 * 1024 * 1024 });
    if (r.status === 0 || !TRANSIENT.test(r.stderr) || Date.now() > deadline) return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    spawnSync('sleep', ['1']);
  }
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** `kubectl kustomize <dir>` -> its text and objects; throws with kubectl's message on failure. */
export function kustomize(dir: string): { text: string; objects: K8sObject[] } {
  const r = kubectl(['kustomize', dir]);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  return { text: r.stdout, objects: (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJSON() as K8sObject).filter(Boolean) };
}

export const overlayDir = (overlay: string) => join(ROOT, 'deploy', 'overlays', overlay);

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} in the kustomize output`);
  return o;
}

// ---- pod templates ----

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: unknown };
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}
export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; emptyDir?: unknown }[];
}

export function podSpec(workload: K8sObject): PodSpec {
  return (workload as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

/** The heapstream workload of a service (the scraper is a StatefulSet, the rest Deployments). */
export function serviceWorkload(objects: K8sObject[], service: ServiceName): K8sObject {
  return find(objects, service === 'scraper' ? 'StatefulSet' : 'Deployment', `heapstream-${service}`);
}

/**
 * The environment a container would see: its ConfigMaps (envFrom) and env values;
 * downward-API fields and Secret references get sample values.
 */
export function containerEnv(objects: K8sObject[], c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (!from.configMapRef) continue;
    const cm = find(objects, 'ConfigMap', from.configMapRef.name) as unknown as { data?: Record<string, string> };
    Object.assign(env, cm.data ?? {});
  }
  for (const v of c.env ?? []) {
    if (v.value !== undefined) env[v.name] = v.value;
    else if (v.valueFrom?.fieldRef) env[v.name] = v.valueFrom.fieldRef.fieldPath === 'metadata.name' ? `heapstream-sample-0` : 'heapstream';
    else if (v.valueFrom?.secretKeyRef) env[v.name] = 'sample-secret';
  }
  return env;
}
