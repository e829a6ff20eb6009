/**
 * The Kite-compatible simulator (`kiteticker-manager/simulator`).
 */
export { Chaos, type ChaosTarget, FAULT_KINDS } from './chaos.js';
export { CORRUPTION_KINDS } from './corrupt.js';
export { FramePacketIndex, type InjectFrameOptions, type InjectTarget } from './inject.js';
export { Market, packetLength } from './market.js';
export { hash4, Rng } from './random.js';
export {
  DEFAULT_LOGIN_PORT,
  DEFAULT_SIMULATOR_APPS,
  LoginEndpoint,
  type LoginHost,
  MAX_FORM_BYTES,
  type SimulatorApp,
} from './rest-login.js';
export { DEFAULT_SIMULATOR_CREDENTIALS, KiteSimulator, type SimulatorEvents } from './server.js';
export { parseStagger, type Stagger, staggerOffsetMs } from './stagger.js';
export { monotonicMs, stampedMs, stampFrame, stampSendTime } from './stamp.js';
export {
  formatIst,
  IST_OFFSET_MS,
  MAX_CLOCK_SPEED,
  parseIst,
  TradingClock,
  type TradingClockOptions,
} from './trading-clock.js';
export type {
  ChaosOptions,
  CorruptionKind,
  FaultKind,
  FaultRecord,
  SimulatorCommandLogEntry,
  SimulatorConnectionInfo,
  SimulatorInstrument,
  SimulatorKeyInfo,
  SimulatorOptions,
  TickerSimulator,
} from './types.js';
export { DEFAULT_UNIVERSE_SIZE, generateUniverse } from './universe.js';
export { decideUpgrade, type RefusalWindow, type UpgradeContext, type UpgradeDecision } from './upgrade.js';
