/** Spawns the CLI as a user does (`node --import tsx src/cli/main.ts ...`), bounded in time. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliRun {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stderr (or stdout) matches. */
  waitFor: (stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** Kills whatever is still running (afterEach). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export function startCli(args: string[], env: Record<string, string> = {}, timeoutMs = 15_000): CliRun {
  // No KITE_* from the developer's shell: the tests decide the credentials.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KITE_')));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...base, ...env, FORCE_COLOR: '0' },
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
  });
  child.stderr.on('data', (d: string) => {
    err += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout: out, stderr: err });
    });
  });
  const waitFor = (stream: 'stdout' | 'stderr', pattern: RegExp, waitMs = 10_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = (): boolean => {
        const m = (stream === 'stdout' ? out : err).match(pattern);
        if (m) resolve(m);
        return m !== null;
      };
      if (check()) return;
      const t = setTimeout(() => {
        child[stream].off('data', onData);
        reject(
          new Error(
            `timed out waiting for ${pattern} on ${stream}; got:\n${stream === 'stdout' ? out : err}`,
          ),
        );
      }, waitMs);
      const onData = (): void => {
        if (check()) {
          clearTimeout(t);
          child[stream].off('data', onData);
        }
      };
      child[stream].on('data', onData);
    });
  return { child, stdout: () => out, stderr: () => err, waitFor, done };
}

export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 15_000) {
  return startCli(args, env, timeoutMs).done;
}

/** Parses ndjson output; every non-empty line must be a JSON object. */
export function parseLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
