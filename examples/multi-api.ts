/**
 * The multi-API-key manager, end to end, against the built-in Kite simulator (no real account needed):
 *
 *   npx tsx examples/multi-api.ts
 *
 * Three keys share 450 instruments round-robin, a unified channel reads every key's ticks, then one
 * key's token is revoked: its instruments fail over to the others, and a token rotation brings it back.
 */
import { DistributionStrategy, Mode, MultiApiKiteTickerManager } from 'kiteticker-manager';
import { KiteSimulator } from 'kiteticker-manager/simulator';

const sim = new KiteSimulator({
  credentials: { api_key_1: 'access_token_1', api_key_2: 'access_token_2', api_key_3: 'access_token_3' },
  ticksPerSecond: 1,
});
await sim.start({ port: 0 });

{
  // `await using`: the manager stops (every socket, every channel) when this block ends.
  await using manager = MultiApiKiteTickerManager.builder()
    .addApiKey('account1', 'api_key_1', 'access_token_1')
    .addApiKey('account2', 'api_key_2', 'access_token_2')
    .addApiKey('account3', 'api_key_3', 'access_token_3')
    .maxConnectionsPerApi(2)
    .maxSymbolsPerConnection(100) // 200 per key: small on purpose, so the failover below runs out of room
    .distributionStrategy(DistributionStrategy.RoundRobin)
    .defaultMode(Mode.Quote)
    .failoverAfter(10_000)
    .url(sim.url) // the simulator instead of wss://ws.kite.trade
    .build();

  manager.on('failover', (e) =>
    console.log(
      `failover: ${e.apiKeyId} (${e.reason}) moved ${[...e.moved.values()].flat().length}, unplaced ${e.unplaced.length}`,
    ),
  );
  manager.on('unplaced', (e) =>
    console.log(`unplaced: ${e.tokens.length} waiting for capacity (${e.reason})`),
  );
  manager.on('placed', (p) =>
    console.log(`placed: ${[...p.values()].flat().length} waiting tokens found a key`),
  );

  await manager.start();
  const symbols = sim
    .instruments()
    .slice(0, 450)
    .map((i) => i.instrument_token);
  await manager.subscribeSymbols(symbols, Mode.Quote);

  // Read the unified channel for two seconds.
  const unified = manager.getUnifiedChannel();
  const perKey = new Map<string, number>();
  const reading = (async () => {
    for await (const { apiKeyId, message } of unified) {
      if (message.type === 'ticks') perKey.set(apiKeyId, (perKey.get(apiKeyId) ?? 0) + message.ticks.length);
    }
  })();
  await new Promise((r) => setTimeout(r, 2000));
  unified.close();
  await reading;
  console.log('ticks per key in 2 s:', Object.fromEntries(perKey));

  const stats = manager.getStats();
  console.log(
    `keys ${stats.totalApiKeys}, connections ${stats.totalConnections}, symbols ${stats.totalSymbols}, messages ${stats.totalMessagesReceived}`,
  );
  for (const api of stats.perApiStats) {
    console.log(
      `  ${api.apiKeyId}: ${api.activeConnections} connections, ${api.totalSymbols} symbols, ${api.state}`,
    );
  }

  // Redundancy: account2's token is revoked; of its 150 instruments, 100 fit on the others, 50 wait.
  sim.revokeToken('api_key_2');
  await new Promise((r) => setTimeout(r, 1000));
  console.log('after revoke:', summary(manager));

  // Tokens expire daily: rotate it, and the waiting instruments are placed again.
  sim.setAccessToken('api_key_2', 'access_token_2_new');
  await manager.updateAccessToken('account2', 'access_token_2_new');
  await new Promise((r) => setTimeout(r, 1000));
  console.log('after rotation:', summary(manager));
}
await sim.stop();

function summary(manager: MultiApiKiteTickerManager): string {
  const s = manager.getStats();
  const keys = s.perApiStats.map(
    (k) => `${k.apiKeyId}=${k.totalSymbols}${k.state === 'failed' ? '(failed)' : ''}`,
  );
  return `${keys.join(' ')} unplaced=${s.unplacedSymbols}`;
}
