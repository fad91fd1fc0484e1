export * from './topics.js';
export * from './event-record.js';
export * from './event-checkpoint.js';
export * from './heapster-event.js';
export * from './codec.js';
