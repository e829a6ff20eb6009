/**
 * One API key's sockets: the pool the manager drives. Internal: the manager is the public face.
 */
export { keepKnown } from './keep-known.js';
export { ConnectionPool } from './pool.js';
export type * from './types.js';
