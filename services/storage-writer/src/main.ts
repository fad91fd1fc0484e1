import { runService } from '@heapstream/service-runtime';
import { storageWriterService } from './service.js';

runService(storageWriterService());
