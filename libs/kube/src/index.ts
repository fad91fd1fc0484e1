export { loadKubeConfig, type KubeConfigSource } from './config.js';
export { KubeHttp, KubeApiError, isTransientKubeError, type Query, type RequestOptions } from './http.js';
export { ListWatch, HandlerError, type ListWatchHandler, type ListWatchOptions, type ListWatchStatus, type WatchEventType } from './list-watch.js';
export { LeaderElector, type LeaderElectionOptions } from './leader-election.js';
export { Backoff, sleep } from './backoff.js';
