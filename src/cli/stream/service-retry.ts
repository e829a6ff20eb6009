/**
 * --service: keys that could not connect (start failed, host unreachable) are tried again with a
 * growing delay (1 s doubling to 60 s, back to 1 s once none is failing), so a network outage at
 * start or during the day never ends the service. A key whose token was refused is not retried with
 * the same token: it waits for a new one (keys file, SIGHUP, or its provider).
 */
import type { MultiApiKiteTickerManager } from '../../manager/manager.js';

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 60_000;

/**
 * Starts the retry loop over `managers` (the stream's one manager, or an HA instance's held keys'
 * managers, read at each round); returns a function that stops it.
 */
export function retryFailedKeys(
  managers: MultiApiKiteTickerManager | (() => readonly MultiApiKiteTickerManager[]),
  tokenOf: (id: string) => string | undefined,
  log: (fields: object, msg: string) => void,
): () => void {
  let delay = FIRST_DELAY_MS;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    const running = (typeof managers === 'function' ? managers() : [managers]).filter(
      (m) => m.state === 'running',
    );
    const failing = running.flatMap((manager) =>
      manager
        .getStats()
        .perApiStats.filter((k) => k.state === 'failed' && k.failureReason !== 'auth_failed')
        .map((key) => ({ manager, key })),
    );
    if (failing.length === 0) delay = FIRST_DELAY_MS;
    for (const { manager, key } of failing) {
      const token = tokenOf(key.apiKeyId);
      if (token === undefined) continue;
      log({ apiKeyId: key.apiKeyId, reason: key.failureReason, nextRetryMs: delay }, 'retrying API key');
      // Reopens its sockets, or starts a key whose start failed; a failure stays a failed key.
      await manager.updateAccessToken(key.apiKeyId, token).catch(() => undefined);
    }
    if (failing.length > 0) delay = Math.min(MAX_DELAY_MS, delay * 2);
    schedule();
  };
  const schedule = (): void => {
    if (stopped) return;
    // Not unref'd: with every key waiting (no socket, no metrics port) this timer is what keeps a
    // service alive until it is told to stop.
    timer = setTimeout(() => void tick(), delay);
  };
  schedule();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
