/**
 * The soak's chaos: the simulator's own seeded chaos draw (`Chaos` from src/simulator: Poisson arrivals,
 * drops, closes, stalls, corrupt frames, refused upgrades, revocations, restarts), driven through the
 * simulator's public fault API so the harness decides when it starts (after the fleet is up) and how a
 * revocation ends: the simulator's built-in chaos re-issues the same token by itself, whereas here the
 * token stays revoked until the harness, playing the user, rotates it with updateAccessToken.
 * Every fault is recorded through the simulator's 'fault' event.
 */
import { Chaos, type ChaosTarget, type KiteSimulator } from '../../src/simulator/index.js';
import type { FaultKind } from '../../src/simulator/types.js';

export interface SoakChaosOptions {
  seed: number;
  /** Mean faults per second across the server. */
  faultsPerSecond: number;
  kinds?: readonly FaultKind[];
}

export class SoakChaos {
  readonly #chaos: Chaos;
  readonly #target: ChaosTarget;
  readonly #seed: number;
  #restarting: Promise<void> | undefined;
  /** Errors thrown by the simulator's fault API (should stay empty). */
  readonly errors: string[] = [];
  /** Keys revoked by chaos and not yet given a new token. */
  readonly revoked = new Set<string>();

  constructor(sim: KiteSimulator, apiKeys: readonly string[], options: SoakChaosOptions) {
    const target: ChaosTarget = {
      connectionIds: () => sim.connections().map((c) => c.id),
      apiKeys: () => [...apiKeys],
      drop: (id) => this.#guard(() => sim.dropConnection(id)),
      close: (id, code, reason) => this.#guard(() => sim.closeConnection(id, code, reason)),
      stall: (id, ms) => this.#guard(() => sim.stallConnection(id, ms)),
      corrupt: (id, kind) => this.#guard(() => sim.corruptConnection(id, kind)),
      refuse: (status, ms, apiKey) => this.#guard(() => sim.refuseUpgrades(status, ms, apiKey)),
      revokeFor: (apiKey) => {
        // One outstanding revocation per key; it ends when the harness rotates the token.
        if (this.revoked.has(apiKey)) return false;
        this.revoked.add(apiKey);
        return this.#guard(() => sim.revokeToken(apiKey));
      },
      restart: (ms) => {
        if (this.#restarting) return false;
        this.#restarting = sim
          .restart(ms)
          .catch((error: unknown) => {
            this.errors.push(`restart: ${String(error)}`);
          })
          .finally(() => {
            this.#restarting = undefined;
          });
        return true;
      },
    };
    const chaosOptions = options.kinds
      ? { faultsPerSecond: options.faultsPerSecond, faults: [...options.kinds] }
      : { faultsPerSecond: options.faultsPerSecond };
    this.#chaos = new Chaos(chaosOptions, options.seed, target);
    this.#target = target;
    this.#seed = options.seed;
  }

  start(): void {
    this.#chaos.start();
  }

  /** One fault of `kind` now, drawn like chaos draws it (a short run uses it for kinds chaos missed). */
  inject(kind: FaultKind): boolean {
    return new Chaos({ faultsPerSecond: 1, faults: [kind] }, this.#seed, this.#target).injectOne();
  }

  /** Stops drawing faults; waits for a restart in progress, so the server is up when this resolves. */
  async stop(): Promise<void> {
    this.#chaos.stop();
    await this.#restarting;
  }

  /** The harness gave the key a new token. */
  tokenRestored(apiKey: string): void {
    this.revoked.delete(apiKey);
  }

  #guard(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (error) {
      this.errors.push(String(error));
      return false;
    }
  }
}
