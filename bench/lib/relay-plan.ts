/**
 * Who subscribes what in the relay's scale runs (bench:relay and test/integration/relay-scale): client
 * `i` of `clients` takes `perClient` consecutive instruments of the universe starting at
 * `floor(i * universe / clients)`, wrapping round. With `clients * perClient >= universe` the windows
 * overlap and their union is the whole universe (200 x 500 over 27 000: every instrument in 3-4
 * clients), which is what the upstream must hold, each instrument once.
 */

/** Each client's instruments (tokens from `universe`, no duplicates within a client). */
export function planClients(universe: readonly number[], clients: number, perClient: number): number[][] {
  const u = universe.length;
  const take = Math.min(perClient, u);
  const out: number[][] = [];
  for (let i = 0; i < clients; i++) {
    const start = Math.floor((i * u) / clients);
    const mine: number[] = new Array(take);
    for (let j = 0; j < take; j++) mine[j] = universe[(start + j) % u]!;
    out.push(mine);
  }
  return out;
}

/** The union of the plan's instruments. */
export function unionOf(plan: readonly (readonly number[])[]): Set<number> {
  const all = new Set<number>();
  for (const tokens of plan) for (const t of tokens) all.add(t);
  return all;
}

/** Relay client credentials for the bench and tests: id `c<i>`, token `bench-token-<i>`. */
export function benchClients(n: number): { id: string; accessToken: string }[] {
  return Array.from({ length: n }, (_, i) => ({ id: `c${i}`, accessToken: `bench-token-${i}` }));
}
