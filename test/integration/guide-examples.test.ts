/**
 * docs/multi-api-guide.md's TypeScript examples are kept as a test: every ```ts block is extracted into
 * a module (test/helpers/guide-blocks.ts), type-checked with the repository's compiler options, and run
 * against the built-in simulator with its url injected into every builder. A block that loops forever
 * (`for await` over a channel) ends when the runner stops the managers it built, as a reader's Ctrl-C would.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mode, MultiApiKiteTickerManager } from '../../src/index.js';
import { KiteSimulator } from '../../src/simulator/index.js';
import { blockModule, type GuideEnv, REPO, tsBlocks } from '../helpers/guide-blocks.js';

const GUIDE = `${REPO}docs/multi-api-guide.md`;
const OUT = `${REPO}test/.generated/guide`;
const blocks = tsBlocks(GUIDE);
const files = blocks.map((b) => `${OUT}/block-${String(b.index).padStart(2, '0')}.ts`);

/** What some blocks must print, by the heading they sit under: proof that they really ran. */
const PRINTS: Record<string, RegExp> = {
  'Quick start': /^From account[12]:/m,
  'Unified channel': /^API key account[12]: \d+ ticks on connection 0/m,
  'Per-API channel': /^account1\/connection 0:/m,
  'Aggregate statistics': /^Total API keys: 2$/m,
  'Per-API statistics': /^account1 1 \d+/m,
  'Symbol distribution': /^ {2}connection 0: \d+/m,
};

let sim: KiteSimulator;
let tokens: number[];

beforeAll(async () => {
  sim = new KiteSimulator({
    credentials: { api_key_1: 'access_token_1', api_key_2: 'access_token_2' },
    ticksPerSecond: 5,
  });
  await sim.start({ port: 0 });
  tokens = sim
    .instruments()
    .slice(0, 40)
    .map((i) => i.instrument_token);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  blocks.forEach((block, i) => {
    writeFileSync(files[i]!, blockModule(block, files[i]!));
  });
});

afterAll(async () => {
  await sim?.stop();
  rmSync(`${REPO}test/.generated`, { recursive: true, force: true });
});

/** A fresh world per block: a started two-key manager and the names the guide's prose assumes. */
async function makeEnv(): Promise<{ env: GuideEnv; output: string[]; built: MultiApiKiteTickerManager[] }> {
  const built: MultiApiKiteTickerManager[] = [];
  const url = sim.url;
  class SimulatorBound extends MultiApiKiteTickerManager {
    static override builder() {
      const builder = MultiApiKiteTickerManager.builder().url(url);
      const build = builder.build.bind(builder);
      builder.build = () => {
        const manager = build();
        built.push(manager);
        return manager;
      };
      return builder;
    }
  }
  const manager = SimulatorBound.builder()
    .addApiKey('account1', 'api_key_1', 'access_token_1')
    .addApiKey('account2', 'api_key_2', 'access_token_2')
    .build();
  await manager.start();
  await manager.subscribeSymbols(tokens.slice(0, 10), Mode.Quote);
  const output: string[] = [];
  const print = (...args: unknown[]): void => {
    output.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a, replacer))).join(' '));
  };
  return {
    built,
    output,
    env: {
      MultiApiKiteTickerManager: SimulatorBound,
      manager,
      symbols: tokens.slice(10, 20),
      niftySymbols: tokens.slice(20, 25),
      stockSymbols: tokens.slice(25, 30),
      mode: Mode.Quote,
      apiKey: 'api_key_1',
      token: 'access_token_1',
      apiKey1: 'api_key_1',
      token1: 'access_token_1',
      apiKey2: 'api_key_2',
      token2: 'access_token_2',
      freshToken: 'access_token_1',
      config: {},
      console: { log: print, error: print, warn: print },
    },
  };
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

describe('guide examples', () => {
  it('guide - the page has its TypeScript examples (a renamed fence would silently skip them)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(14);
    for (const heading of Object.keys(PRINTS)) expect(blocks.map((b) => b.heading)).toContain(heading);
  });

  it('guide - every example type-checks against the package, with the repository compiler options', () => {
    const config = ts.getParsedCommandLineOfConfigFile(
      `${REPO}tsconfig.json`,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
        },
      },
    );
    if (!config) throw new Error('cannot read tsconfig.json');
    const program = ts.createProgram(files, { ...config.options, noEmit: true });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.includes(d.file.fileName))
      .map((d) => {
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        const source = d.file!.text.split('\n')[0];
        return `${source} (generated line ${line + 1}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  }, 60_000);

  for (const [i, block] of blocks.entries()) {
    it(`guide - example ${block.index} ("${block.heading}", line ${block.line}) runs against the simulator`, async () => {
      const { env, output, built } = await makeEnv();
      const run = (await import(pathToFileURL(files[i]!).href)).default as (env: GuideEnv) => Promise<void>;
      let failed: unknown;
      const done = run(env).catch((error: unknown) => {
        failed = error;
      });
      // A block that reads a channel forever gets time to print, then its managers are stopped.
      const ended = await Promise.race([done.then(() => true), sleep(1500).then(() => false)]);
      await Promise.all([env.manager, ...built].map((m) => m.stop()));
      if (!ended) {
        const stopped = await Promise.race([done.then(() => true), sleep(5000).then(() => false)]);
        expect(stopped, 'the example ends once its managers stop').toBe(true);
      }
      expect(failed).toBeUndefined();
      const prints = PRINTS[block.heading];
      if (prints) expect(output.join('\n')).toMatch(prints);
    });
  }
});
