import { runService } from '@heapstream/service-runtime';
import { aggregatorService } from './service.js';

runService(aggregatorService);
