/**
 * The README's "library in five lines", run against the built-in simulator instead of Kite:
 *   npx tsx examples/quickstart.ts
 * With real credentials, drop the simulator and the `.url(...)` line.
 */
import { Mode, MultiApiKiteTickerManager } from 'kiteticker-manager';
import { KiteSimulator } from 'kiteticker-manager/simulator';

const sim = new KiteSimulator({ credentials: { my_api_key: 'my_access_token' }, universeSize: 2000 });
await sim.start({ port: 0 });
const [apiKey, accessToken] = ['my_api_key', 'my_access_token'];

const manager = MultiApiKiteTickerManager.builder()
  .addApiKey('main', apiKey, accessToken)
  .url(sim.url)
  .build();
await manager.start();
await manager.subscribeSymbols([256265, 408065, 738561], Mode.Full);
manager.on('ticks', (ticks, apiKeyId, connectionIndex) =>
  console.log(apiKeyId, connectionIndex, ticks[0]?.instrument_token, ticks[0]?.last_price),
);

setTimeout(async () => {
  await manager.stop();
  await sim.stop();
}, 3000);
