import { runService } from '@heapstream/service-runtime';
import { eventWatcherService } from './service.js';

runService(eventWatcherService);
