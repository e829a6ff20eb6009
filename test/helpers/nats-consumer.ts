/**
 * A consumer in its own process, for the NATS fan-out tests: subscribes with subscribeTicks and prints
 * `{"ready":true}` once subscribed, then one JSON line per tick message, and exits after COUNT of them.
 *
 *   node --import tsx test/helpers/nats-consumer.ts <url> <count> [filter...]
 */
import { parseTickFilter, subscribeTicks } from '../../src/sinks/index.js';

const [url, countText, ...filterArgs] = process.argv.slice(2);
if (!url || !countText) {
  process.stderr.write('usage: nats-consumer.ts <url> <count> [filter...]\n');
  process.exit(2);
}
const count = Number(countText);
const filter = filterArgs.length > 0 ? filterArgs.map((f) => parseTickFilter(f)) : undefined;

const sub = await subscribeTicks(url, { filter, connectOptions: { reconnectTimeWait: 50 } });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.on('SIGTERM', () => {
  void sub.close().then(() => process.exit(0));
});

let seen = 0;
for await (const message of sub) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
  if (++seen >= count) break;
}
await sub.close();
