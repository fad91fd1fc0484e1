import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Option, type Command } from 'commander';
import {
  DEFAULT_RATE_OPTIONS,
  parseSummary,
  ratesBetween,
  scrapeToPoints,
  STORAGE_SCHEMAS,
  toLineProtocol,
  type MetricPoint,
  type StorageSchemaName,
} from '@heapstream/metric-model';
import { existingFile, positiveNumber } from './options.js';

export interface InspectSummaryOptions {
  schema: StorageSchemaName;
  cluster: string;
  maxGapSeconds: number;
}

export interface InspectOutput {
  /** Line protocol, with `#` comment lines between sections (valid for `influx write`). */
  stdout: string[];
  /** Parse issues and skipped points. */
  stderr: string[];
}

/**
 * Saved /stats/summary bodies -> line protocol; with a later body also the rates
 * between the two. Pure apart from reading the files, so tests call it directly.
 */
export function inspectSummary(files: string[], opts: InspectSummaryOptions): InspectOutput {
  const out: InspectOutput = { stdout: [], stderr: [] };
  const sets: MetricPoint[][] = [];
  const write = (title: string, points: MetricPoint[]) => {
    const lp = toLineProtocol(points, { schema: opts.schema });
    out.stdout.push(`# ${title}: ${points.length} points, ${lp.lines.length} lines (${opts.schema} schema)`, ...lp.lines);
    for (const s of lp.skipped) out.stderr.push(`${title}: skipped ${s.point.metric} (${s.reason})`);
  };
  for (const file of files) {
    const { scrape, issues } = parseSummary(readFileSync(file), { cluster: opts.cluster });
    for (const i of issues) out.stderr.push(`${basename(file)}: ${i.path || '(body)'}: ${i.reason}`);
    const points = scrapeToPoints(scrape);
    sets.push(points);
    write(basename(file), points);
  }
  if (sets.length === 2) {
    const rates = ratesBetween(sets[0]!, sets[1]!, { ...DEFAULT_RATE_OPTIONS, maxGapMs: opts.maxGapSeconds * 1000 });
    write(`rates ${basename(files[0]!)} -> ${basename(files[1]!)}`, rates.points);
    const skipped = Object.entries(rates.skipped).map(([reason, n]) => `${reason} ${n}`);
    if (skipped.length > 0) out.stdout.push(`# series without a rate: ${skipped.join(', ')}`);
  }
  return out;
}

export function registerInspectCommand(program: Command): void {
  const inspect = program.command('inspect').description('look at saved payloads the way the pipeline sees them');
  inspect
    .command('summary')
    .description('parse saved kubelet /stats/summary bodies and print InfluxDB line protocol; with a later file also the rates')
    .argument('<file>', 'a saved /stats/summary body', existingFile)
    .argument('[later-file]', 'a later body from the same node, to compute rates', existingFile)
    .addOption(new Option('--schema <schema>', 'storage schema').choices(STORAGE_SCHEMAS).default('wide'))
    .option('--cluster <name>', 'cluster_name tag', 'default')
    .option('--max-gap-seconds <n>', 'no rate across a longer gap', positiveNumber, DEFAULT_RATE_OPTIONS.maxGapMs / 1000)
    .action((file: string, later: string | undefined, opts: InspectSummaryOptions) => {
      const { stdout, stderr } = inspectSummary(later ? [file, later] : [file], opts);
      for (const line of stderr) console.error(line);
      process.stdout.write(`${stdout.join('\n')}\n`);
    });
}
