/**
 * A 3-node JetStream cluster of real `nats-server`s on loopback, for failure tests: free ports, a
 * temporary store directory per node, full-mesh cluster routes. `startNatsCluster` resolves once the
 * JetStream meta leader is elected and an R3 bucket (a KV-shaped stream, replicated on all three nodes)
 * can be created; one node can be killed (-9) and restarted; `dispose` stops everything and removes the
 * stores. Every wait is bounded; a failed start cleans up what it started.
 *
 * Works with the nats-server Debian ships (2.9.10) and later ones: only classic config syntax is used.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { freePort } from './nats-server.js';

export interface ClusterNode {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** Running now (not killed or stopped). */
  readonly running: boolean;
}

export interface NatsClusterHandle {
  readonly nodes: readonly ClusterNode[];
  /** Every node's URL, for clients that should fail over between them. */
  readonly urls: string[];
  /** The node whose client port is `port` (e.g. from `nc.getServer()`), or undefined. */
  nodeOf(server: string): number | undefined;
  /** SIGKILL one node (as when its machine goes away); resolves when the process has exited. */
  kill(index: number): Promise<void>;
  /** Starts a killed node again with its config and store; resolves when it serves JetStream again. */
  restart(index: number): Promise<void>;
  /** Stops every node and removes the store directories. Idempotent. */
  dispose(): Promise<void>;
}

const START_BOUND_MS = 15_000;
const READY_BOUND_MS = 30_000;

interface NodeState {
  name: string;
  port: number;
  clusterPort: number;
  config: string;
  child: ChildProcess | undefined;
}

export async function startNatsCluster(
  options: { size?: number; name?: string } = {},
): Promise<NatsClusterHandle> {
  const size = options.size ?? 3;
  const clusterName = options.name ?? 'kite-test';
  const root = mkdtempSync(join(tmpdir(), 'kite-nats-cluster-'));
  const nodes: NodeState[] = [];
  for (let i = 0; i < size; i++) {
    nodes.push({
      name: `n${i + 1}`,
      port: await freePort(),
      clusterPort: await freePort(),
      config: '',
      child: undefined,
    });
  }
  for (const node of nodes) {
    const store = join(root, node.name);
    mkdirSync(store);
    const routes = nodes
      .filter((other) => other !== node)
      .map((other) => `nats-route://127.0.0.1:${other.clusterPort}`);
    node.config = join(root, `${node.name}.conf`);
    writeFileSync(
      node.config,
      [
        `server_name: ${node.name}`,
        `listen: 127.0.0.1:${node.port}`,
        `jetstream { store_dir: "${store}" }`,
        'cluster {',
        `  name: ${clusterName}`,
        `  listen: 127.0.0.1:${node.clusterPort}`,
        `  routes: [${routes.join(', ')}]`,
        '}',
        '',
      ].join('\n'),
    );
  }

  const urlOf = (node: NodeState): string => `nats://127.0.0.1:${node.port}`;
  let disposed = false;

  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    await Promise.all(nodes.map((node) => killNode(node)));
    rmSync(root, { recursive: true, force: true });
  };

  try {
    await Promise.all(nodes.map((node) => launch(node)));
    await waitForJetStream(nodes.map(urlOf), true);
  } catch (error) {
    await dispose();
    throw error;
  }

  return {
    nodes: nodes.map((node) => ({
      name: node.name,
      port: node.port,
      url: urlOf(node),
      get running() {
        return isRunning(node.child);
      },
    })),
    urls: nodes.map(urlOf),
    nodeOf(server: string) {
      const port = Number(/:(\d+)\/?$/.exec(server)?.[1]);
      const index = nodes.findIndex((node) => node.port === port);
      return index === -1 ? undefined : index;
    },
    kill: (index) => killNode(nodeAt(nodes, index)),
    restart: async (index) => {
      const node = nodeAt(nodes, index);
      if (isRunning(node.child)) return;
      await launch(node);
      await waitForJetStream([urlOf(node)], false);
    },
    dispose,
  };
}

function nodeAt(nodes: NodeState[], index: number): NodeState {
  const node = nodes[index];
  if (!node) throw new RangeError(`no node ${index} in a cluster of ${nodes.length}`);
  return node;
}

function isRunning(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Starts one node and waits for "Server is ready" (bounded); its stderr is drained so it never blocks. */
async function launch(node: NodeState): Promise<void> {
  const proc = spawn('nats-server', ['-c', node.config], { stdio: ['ignore', 'ignore', 'pipe'] });
  node.child = proc;
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(
        new Error(`nats-server ${node.name} did not start within ${START_BOUND_MS} ms:\n${log.slice(-4000)}`),
      );
    }, START_BOUND_MS);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        proc.stderr?.off('data', onData);
        resolve();
      }
    };
    proc.stderr?.on('data', onData);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`nats-server ${node.name} exited (${code ?? signal}):\n${log.slice(-4000)}`));
    });
    proc.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  proc.stderr?.resume();
}

async function killNode(node: NodeState): Promise<void> {
  const proc = node.child;
  if (!proc || !isRunning(proc)) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

/**
 * Polls until JetStream answers through `servers` (a meta leader is elected) and, with `bucket`, until an
 * R3 stream shaped like a KV bucket can be created (and is removed again): then replicated assets work.
 */
async function waitForJetStream(servers: string[], bucket: boolean): Promise<void> {
  const deadline = Date.now() + READY_BOUND_MS;
  let nc: NatsConnection | undefined;
  let last: unknown;
  try {
    nc = await connect({ servers, timeout: 5_000 });
    while (Date.now() < deadline) {
      try {
        // Creating the manager asks for the account info: it fails until a meta leader is elected.
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        if (!bucket) return;
        const name = `KV_cluster_probe_${process.pid}`;
        await jsm.streams.add({
          name,
          subjects: [`$KV.cluster_probe_${process.pid}.>`],
          num_replicas: 3,
          max_msgs_per_subject: 1,
          allow_rollup_hdrs: true,
          deny_delete: true,
          allow_direct: true,
        });
        await jsm.streams.delete(name);
        return;
      } catch (error) {
        last = error;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    throw new Error(`JetStream not ready within ${READY_BOUND_MS} ms: ${String(last)}`);
  } finally {
    await nc?.close().catch(() => undefined);
  }
}
