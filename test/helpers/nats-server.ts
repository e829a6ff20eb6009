/**
 * Starts a real `nats-server` on a free loopback port for a test file, and can stop and restart it on
 * the same port (to test reconnection). JetStream with a temporary store directory on request.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServerHandle {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL by default: an abrupt crash, as when a machine goes away). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (and the same JetStream store). */
  restart(): Promise<void>;
  /** Stops it and removes the store directory. */
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startNatsServer(
  options: { jetstream?: boolean; user?: string; pass?: string } = {},
): Promise<NatsServerHandle> {
  const port = await freePort();
  const storeDir = options.jetstream ? mkdtempSync(join(tmpdir(), 'kite-nats-js-')) : undefined;
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (storeDir) args.push('-js', '-sd', storeDir);
  // With user and pass, every client must log in (the server refuses anonymous connections).
  if (options.user !== undefined) args.push('--user', options.user, '--pass', options.pass ?? '');
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`nats-server did not start within 10 s:\n${log}`));
      }, 10_000);
      proc.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${log}`));
      });
      proc.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    // Keep reading stderr so the pipe never fills and blocks the server.
    proc.stderr?.resume();
  };

  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  };

  await launch();
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    stop,
    restart: launch,
    dispose: async () => {
      await stop();
      if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
