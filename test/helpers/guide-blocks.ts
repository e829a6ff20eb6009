/**
 * The TypeScript examples of a docs page, as modules a test can type-check and run. Each ```ts block
 * becomes one module whose default export runs the block in a scope that provides what a guide reader
 * has at hand: every root export of the package (the blocks often use `Mode` or `KiteTickerError` without
 * repeating the import) and the variables the prose assumes (`manager`, `symbols`, `apiKey`...), taken
 * from a `GuideEnv`. The block's own `import` lines are hoisted to the top, with `kiteticker-manager`
 * pointed at src/. The block itself sits in an inner `{ }`, so a block that declares its own `manager`
 * shadows the provided one, exactly as if it were pasted into a fresh file.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Package from '../../src/index.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** What the guide's prose assumes a reader already has. */
export interface GuideEnv {
  /** The builder's class; the runner's subclass points every build at the simulator. */
  MultiApiKiteTickerManager: typeof Package.MultiApiKiteTickerManager;
  /** A started manager with keys 'account1' and 'account2' and some subscriptions. */
  manager: Package.MultiApiKiteTickerManager;
  symbols: number[];
  niftySymbols: number[];
  stockSymbols: number[];
  mode: Package.Mode;
  apiKey: string;
  token: string;
  apiKey1: string;
  token1: string;
  apiKey2: string;
  token2: string;
  freshToken: string;
  config: Partial<Package.KiteTickerManagerConfig>;
  console: Pick<Console, 'log' | 'error' | 'warn'>;
}

export interface GuideBlock {
  /** 1-based position among the page's ts blocks. */
  index: number;
  /** The nearest heading above the block. */
  heading: string;
  /** Line of the opening fence in the page (1-based). */
  line: number;
  code: string;
}

/** Every ```ts block of a markdown page, in order. */
export function tsBlocks(markdownPath: string): GuideBlock[] {
  const lines = readFileSync(markdownPath, 'utf8').split('\n');
  const blocks: GuideBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    if (/^```(ts|typescript)\s*$/.test(line)) {
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
      blocks.push({ index: blocks.length + 1, heading, line: start + 1, code: body.join('\n') });
    }
  }
  return blocks;
}

/** The names of `GuideEnv` given to every block as local constants. */
const ENV_NAMES = [
  'manager',
  'symbols',
  'niftySymbols',
  'stockSymbols',
  'mode',
  'apiKey',
  'token',
  'apiKey1',
  'token1',
  'apiKey2',
  'token2',
  'freshToken',
  'config',
  'console',
] as const;

/**
 * The module for one block, to be saved at `modulePath` (a path inside the repository: imports are
 * made relative to it). `kiteticker-manager` and its subpaths resolve to src/ as in tsconfig's paths.
 */
export function blockModule(block: GuideBlock, modulePath: string): string {
  const from = dirname(modulePath);
  const toSrc = (file: string): string => {
    const rel = relative(from, `${REPO}src/${file}`);
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  const entry: Record<string, string> = {
    'kiteticker-manager': 'index.js',
    'kiteticker-manager/protocol': 'protocol-public.js',
    'kiteticker-manager/simulator': 'simulator/index.js',
    'kiteticker-manager/nats': 'sinks/index.js',
    'kiteticker-manager/compat': 'compat/index.js',
    'kiteticker-manager/relay': 'relay/index.js',
    'kiteticker-manager/ha': 'ha/index.js',
  };
  const imports: string[] = [];
  const body: string[] = [];
  for (const line of block.code.split('\n')) {
    const m = /^import (.+) from '([^']+)';\s*$/.exec(line);
    if (m) {
      const target = entry[m[2]!];
      imports.push(target ? `import ${m[1]} from '${toSrc(target)}';` : line);
    } else body.push(line);
  }
  return [
    `// Generated from docs (block ${block.index}, line ${block.line}, "${block.heading}"). Do not edit.`,
    `import * as __package from '${toSrc('index.js')}';`,
    `import type { GuideEnv } from '${relative(from, `${REPO}test/helpers/guide-blocks.js`)}';`,
    ...imports,
    '',
    'export default async function run(__env: GuideEnv): Promise<void> {',
    '  const { MultiApiKiteTickerManager } = __env;',
    `  const { ${ENV_NAMES.join(', ')} } = __env;`,
    `  const { ${rootValueNames().join(', ')} } = __package;`,
    `  void [MultiApiKiteTickerManager, ${ENV_NAMES.join(', ')}];`,
    '  {',
    ...body.map((l) => (l === '' ? '' : `    ${l}`)),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The root's run-time exports a block may use unimported (MultiApiKiteTickerManager comes from the env). */
function rootValueNames(): string[] {
  return [
    'CapacityError',
    'DistributionStrategy',
    'ErrorCode',
    'KiteTickerError',
    'KiteTickerManager',
    'Mode',
    'ApiKeyNotFoundError',
  ];
}
