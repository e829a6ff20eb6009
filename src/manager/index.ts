export { MANAGER_DEFAULTS, resolveManagerConfig } from './config.js';
export { connectionHealth } from './health.js';
export { KiteTickerManager, type ManagerState } from './manager.js';
export { DEFAULT_ORDER_DEDUPE_SIZE, OrderDeduplicator, orderUpdateKey } from './order-dedupe.js';
export type { SlotState, SlotSubscribePlan, SubscribePlan } from './placement.js';
export { freeCapacity, planModeChange, planSubscribe, planUnsubscribe } from './placement.js';
export type * from './types.js';
