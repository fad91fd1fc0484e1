import { createKafka } from '@heapstream/kafka';
import { loadKubeConfig } from '@heapstream/kube';
import { runService, type ServiceDefinition } from '@heapstream/service-runtime';
import { scraperConfigSchema } from './config.js';
import { ScraperModule } from './scraper.module.js';

export const scraperService: ServiceDefinition<typeof scraperConfigSchema> = {
  name: 'scraper',
  configSchema: scraperConfigSchema,
  module: ({ config, logger, metrics, health }) =>
    ScraperModule.forRoot({
      config,
      kubeConfig: loadKubeConfig(config.KUBECONFIG ? { kubeconfigPath: config.KUBECONFIG } : {}),
      kafka: createKafka(config, logger, 'heapstream-scraper'),
      logger,
      metrics,
      health,
    }),
};

if (import.meta.url === `file://${process.argv[1]}`) runService(scraperService);
