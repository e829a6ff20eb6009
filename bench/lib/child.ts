/**
 * Benchmark child processes: every measured client and every server runs in its own process, so that
 * their CPU is their own (process.cpuUsage) and the official client's module-global state and
 * process.exit cannot touch the harness. They talk over IPC.
 *
 * Children run as plain JavaScript compiled by tsc (bench/tsconfig.json, into
 * node_modules/.cache/kiteticker-bench/<checkout>): under tsx every process would carry a loader thread and its
 * caches (~35 MB of RSS and some CPU) that a real deployment does not have. BENCH_TSX=1 runs them
 * through tsx instead.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// One output folder per checkout: git worktrees often share one node_modules (a symlink), and a second
// checkout compiling its own src into the same folder would swap code under the other's running children.
const CHECKOUT = createHash('sha256').update(realpathSync(ROOT)).digest('hex').slice(0, 12);
const OUT_DIR = join(ROOT, 'node_modules/.cache/kiteticker-bench', CHECKOUT);
const BUILD_INFO = join(OUT_DIR, '.tsbuildinfo');
const USE_TSX = process.env.BENCH_TSX === '1';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

let compiled = false;

/** Compiles the children (and the src they import) unless the output is newer than every source. */
export function ensureCompiled(): void {
  if (compiled || USE_TSX) return;
  let built = 0;
  try {
    built = statSync(BUILD_INFO).mtimeMs;
  } catch {
    // not built yet
  }
  if (built < Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'bench')))) {
    process.stderr.write('compiling benchmark children (tsc -p bench/tsconfig.json)...\n');
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(ROOT, 'bench/tsconfig.json'),
        '--outDir',
        OUT_DIR,
        '--tsBuildInfoFile',
        BUILD_INFO,
      ],
      {
        stdio: 'inherit',
      },
    );
    // Node would otherwise treat these files as CommonJS: package scope lookup stops at node_modules.
    writeFileSync(join(OUT_DIR, 'package.json'), '{ "type": "module" }\n');
  }
  compiled = true;
}

/** A message a child sends: `{ type, ...fields }`. */
export interface ChildMessage {
  type: string;
  [field: string]: unknown;
}

export interface SpawnOptions {
  /** Extra node flags (e.g. --expose-gc, --cpu-prof). */
  nodeFlags?: string[];
  /** Give up waiting for any one message after this long. Default 120 000 ms. */
  timeoutMs?: number;
}

export class BenchChild {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #queue: ChildMessage[] = [];
  #waiter: ((m: ChildMessage | undefined) => void) | undefined;
  #exited = false;
  readonly #exit: Promise<number | null>;
  readonly #timeoutMs: number;

  constructor(script: string, args: readonly string[], options: SpawnOptions = {}) {
    this.name = `${script} ${args.join(' ')}`;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    ensureCompiled();
    const path = USE_TSX
      ? join(ROOT, 'bench', script)
      : join(OUT_DIR, 'bench', script.replace(/\.ts$/, '.js'));
    this.#child = fork(path, [...args], {
      execArgv: [...(USE_TSX ? ['--import', 'tsx'] : []), ...(options.nodeFlags ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (m: ChildMessage) => {
      if (this.#waiter) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w(m);
      } else this.#queue.push(m);
    });
    this.#exit = new Promise((resolve) => {
      this.#child.on('exit', (code) => {
        this.#exited = true;
        this.#waiter?.(undefined);
        this.#waiter = undefined;
        resolve(code);
      });
    });
  }

  /** The next message; rejects if the child exits first or nothing comes within the timeout. */
  async next(expectType?: string): Promise<ChildMessage> {
    const queued = this.#queue.shift();
    let m: ChildMessage | undefined = queued;
    if (!m) {
      if (this.#exited) throw new Error(`${this.name}: exited before sending a message`);
      let timer: NodeJS.Timeout | undefined;
      m = await new Promise<ChildMessage | undefined>((resolve, reject) => {
        this.#waiter = resolve;
        timer = setTimeout(() => {
          this.#waiter = undefined;
          reject(new Error(`${this.name}: no message within ${this.#timeoutMs} ms`));
        }, this.#timeoutMs);
      }).finally(() => clearTimeout(timer));
      if (!m) throw new Error(`${this.name}: exited before sending a message`);
    }
    if (m.type === 'error') throw new Error(`${this.name}: ${String(m.message)}`);
    if (expectType && m.type !== expectType)
      throw new Error(`${this.name}: expected ${expectType}, got ${m.type}`);
    return m;
  }

  send(message: ChildMessage): void {
    if (!this.#exited) this.#child.send(message);
  }

  /** Sends `{type:'stop'}` and waits for the exit; kills the child if it lingers. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.#exited) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.#exit;
    clearTimeout(timer);
  }
}

/** In a child: send a message to the parent (no-op when run by hand without IPC). */
export function toParent(message: ChildMessage): void {
  process.send?.(message);
}

/** In a child: resolves on the parent's `{type}` message (or when the IPC channel closes, for 'stop'). */
export function fromParent(type: string): Promise<ChildMessage> {
  return new Promise((resolve) => {
    const onMessage = (m: ChildMessage) => {
      if (m.type !== type) return;
      process.off('message', onMessage);
      resolve(m);
    };
    process.on('message', onMessage);
    if (type === 'stop') process.once('disconnect', () => resolve({ type: 'stop' }));
  });
}

/** In a child: report a crash to the parent instead of dying silently. */
export function reportErrors(): void {
  const report = (error: unknown) => {
    toParent({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    setTimeout(() => process.exit(1), 100);
  };
  process.on('uncaughtException', report);
  process.on('unhandledRejection', report);
}

/** CPU (user + system) in ms since `since` (or process start). */
export function cpuMs(since?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}
