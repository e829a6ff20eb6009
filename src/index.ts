/**
 * kiteticker-manager: the curated public surface. Each area's own index.ts chooses what it exports.
 */
export * from './errors.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export * from './protocol/index.js';
export * from './stream/index.js';
export * from './connection/index.js';
export * from './manager/index.js';
export * from './multi/index.js';
export * from './instruments/index.js';
