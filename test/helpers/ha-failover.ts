/**
 * The failover rig shared by `npm run bench:ha` and test/integration/ha-failover.test.ts: a 3-node
 * JetStream cluster, the simulator standing for Kite (in this process, so its sockets per key are read
 * directly), `kiteticker stream --nats ... --ha GROUP` instances as child processes with the same keys
 * file, a core NATS subscriber and a JetStream consumer recording what consumers see.
 *
 * Each instance reaches the simulator through a TCP proxy of its own, so a sample tells WHICH instance
 * holds Kite sockets: "never both instances holding the key" is checked at the socket level, not from
 * what the instances say. A sampler reads the simulator and the proxies every `sampleMs`; the
 * simulator's own high-water mark of concurrent sockets per key covers what falls between samples.
 *
 * One API key, `instruments` instruments in full mode, `symbolsPerConnection` per socket: with the
 * defaults (30, 10) an active instance opens exactly 3 sockets, Kite's limit, so any overlap of two
 * holders would show as more than 3.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { KiteSimulator } from '../../src/simulator/index.js';
import { ensureLastTickStream, subscribeTicks, type TickSubscription } from '../../src/sinks/index.js';
import { type CliRun, startCli } from '../integration/cli-helpers.js';
import { HA_KEYS } from './ha.js';
import { type NatsClusterHandle, startNatsCluster } from './nats-cluster.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { TickRecorder } from './tick-consumer.js';

export const FAILOVER_KEY = HA_KEYS[0];

export interface FailoverRigOptions {
  group?: string;
  instruments?: number;
  symbolsPerConnection?: number;
  /** Simulator ticks per second per instrument. Default 5. */
  ticksPerSecond?: number;
  sampleMs?: number;
  /** --ha-ttl; the CLI's default when undefined. */
  ttlMs?: number;
  /** Progress lines (the bench prints them on stderr). */
  say?: (line: string) => void;
}

export interface RigInstance {
  readonly id: string;
  readonly run: CliRun;
  readonly proxy: TcpProxy;
}

export interface RoundResult {
  kind: 'kill' | 'term';
  from: string;
  to: string;
  /** Signal -> the new holder says it is active (its stderr). */
  takeoverMs: number;
  /** Last tick from the old holder -> first from the new, as the core subscriber saw them. */
  gapMs: number;
  /** The same at the JetStream consumer. */
  jsGapMs: number;
  /** Signal -> every instrument ticked again from the new holder (core subscriber). */
  backMs: number;
}

export interface NodeLossResult {
  /** The killed node led the group's KV stream. */
  leader: boolean;
  takeover: boolean;
  /** Who holds the key at the end of the observation. */
  holderAfter: 'same' | 'standby' | 'none';
  /** The holder fenced itself (its stderr says "standby ... (fenced)"). */
  fenced: boolean;
  /** The longest silence the core subscriber saw for the key during the observation. */
  silenceMs: number;
  /** Ticks the core subscriber knows it missed (per-key sequence gaps) during the observation. */
  missing: number;
}

export interface SocketSamples {
  samples: number;
  /** Most sockets of the key open at the simulator in one sample. */
  maxSockets: number;
  /** The simulator's own high-water mark of concurrent sockets of the key (between samples too). */
  simulatorMax: number;
  /** Samples in which two instances both had Kite sockets open. */
  bothHolding: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Records one tick stream (core or JetStream) and the longest silence since `mark()`. */
class Watched {
  readonly recorder: TickRecorder;
  #last = 0;
  #silence = 0;
  #missingAtMark = 0;

  constructor(keySequences: boolean) {
    this.recorder = new TickRecorder({ keySequences });
  }

  record(data: Parameters<TickRecorder['record']>[0], gap = 0): void {
    const now = Date.now();
    if (this.#last > 0) this.#silence = Math.max(this.#silence, now - this.#last);
    this.#last = now;
    this.recorder.record(data, gap);
  }

  mark(): void {
    this.#last = Date.now();
    this.#silence = 0;
    this.#missingAtMark = this.recorder.report().missing;
  }

  /** Longest silence since mark(), including the one still running. */
  silenceMs(): number {
    return Math.max(this.#silence, Date.now() - this.#last);
  }

  missingSinceMark(): number {
    return this.recorder.report().missing - this.#missingAtMark;
  }
}

export class FailoverRig {
  readonly instances: RigInstance[] = [];
  readonly tokens: number[];
  readonly core = new Watched(true);
  /** JetStream drops ticks whose content id it already stored, so its sequences are not checked. */
  readonly js = new Watched(false);
  readonly group: string;
  #nextId = 1;
  #samples: SocketSamples = { samples: 0, maxSockets: 0, simulatorMax: 0, bothHolding: 0 };
  #sampler: NodeJS.Timeout | undefined;
  #sub: TickSubscription | undefined;
  #jsStop: (() => void) | undefined;
  #loops: Promise<unknown>[] = [];
  readonly #say: (line: string) => void;

  private constructor(
    readonly cluster: NatsClusterHandle,
    readonly sim: KiteSimulator,
    readonly nc: NatsConnection,
    private readonly dir: string,
    private readonly options: Required<Omit<FailoverRigOptions, 'ttlMs' | 'say'>> & { ttlMs?: number },
    say: (line: string) => void,
  ) {
    this.group = options.group;
    this.#say = say;
    this.tokens = sim
      .instruments()
      .filter((i) => i.segment !== 'INDICES')
      .slice(0, options.instruments)
      .map((i) => i.instrument_token);
  }

  static async start(options: FailoverRigOptions = {}): Promise<FailoverRig> {
    const resolved = {
      group: options.group ?? 'failover',
      instruments: options.instruments ?? 30,
      symbolsPerConnection: options.symbolsPerConnection ?? 10,
      ticksPerSecond: options.ticksPerSecond ?? 5,
      sampleMs: options.sampleMs ?? 50,
      ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
    };
    const say = options.say ?? (() => undefined);
    const dir = mkdtempSync(join(tmpdir(), 'kite-ha-failover-'));
    let cluster: NatsClusterHandle | undefined;
    let sim: KiteSimulator | undefined;
    let nc: NatsConnection | undefined;
    try {
      cluster = await startNatsCluster();
      say(`cluster up: ${cluster.urls.join(' ')}`);
      sim = new KiteSimulator({
        credentials: { [FAILOVER_KEY.apiKey]: FAILOVER_KEY.accessToken },
        ticksPerSecond: resolved.ticksPerSecond,
        batchIntervalMs: 50,
        heartbeatIntervalMs: 200,
      });
      await sim.start({ port: 0 });
      nc = await connect({ servers: cluster.urls, reconnectTimeWait: 100 });
      const rig = new FailoverRig(cluster, sim, nc, dir, resolved, say);
      await rig.#startConsumers();
      return rig;
    } catch (error) {
      await nc?.close().catch(() => undefined);
      await sim?.stop();
      await cluster?.dispose();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async #startConsumers(): Promise<void> {
    const keysFile = join(this.dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify([FAILOVER_KEY]), { mode: 0o600 });
    chmodSync(keysFile, 0o600);
    // The last-tick stream replicated on all three nodes, made before any instance (which then uses it).
    await ensureLastTickStream(this.nc, undefined, { replicas: 3 });
    const sub = await subscribeTicks(this.nc, { maxPending: 1_000_000 });
    this.#sub = sub;
    this.#loops.push(
      (async () => {
        for await (const message of sub) this.core.record(message, message.gap);
      })(),
    );
    const js = jetstream(this.nc);
    const consumer = await js.consumers.get('KITE_TICKS', { deliver_policy: DeliverPolicy.New });
    const messages = await consumer.consume();
    this.#jsStop = () => void messages.stop();
    this.#loops.push(
      (async () => {
        for await (const m of messages) this.js.recorder.recordPayload(m.data);
      })(),
    );
    const apiKey = FAILOVER_KEY.apiKey;
    this.#sampler = setInterval(() => {
      const s = this.#samples;
      s.samples++;
      const sockets = this.sim.connections().filter((c) => c.apiKey === apiKey).length;
      s.maxSockets = Math.max(s.maxSockets, sockets);
      if (this.instances.filter((i) => i.proxy.connections > 0).length > 1) s.bothHolding++;
    }, this.options.sampleMs);
  }

  get keysFile(): string {
    return join(this.dir, 'keys.json');
  }

  samples(): SocketSamples {
    return {
      ...this.#samples,
      simulatorMax: this.sim.keyInfo(FAILOVER_KEY.apiKey).maxConcurrentConnections,
    };
  }

  /** Starts one instance (`natsUrls`: the nodes it is given) and waits until it has joined the group. */
  async startInstance(natsUrls: readonly string[] = this.cluster.urls): Promise<RigInstance> {
    const id = `p${this.#nextId++}`;
    const proxy = await startTcpProxy(Number(new URL(this.sim.url).port), 'ws');
    const run = startCli(
      [
        'stream',
        ...this.tokens.map(String),
        '--url',
        proxy.url,
        '--keys-file',
        this.keysFile,
        '--nats',
        natsUrls.join(','),
        '--nats-jetstream',
        '--ha',
        this.group,
        '--ha-instance',
        id,
        '--ha-replicas',
        '3',
        ...(this.options.ttlMs !== undefined ? ['--ha-ttl', String(this.options.ttlMs)] : []),
        '--mode',
        'full',
        '--connections-per-key',
        '3',
        '--symbols-per-connection',
        String(this.options.symbolsPerConnection),
        '--format',
        'none',
        '--no-summary',
        '--verbose',
      ],
      {},
      3_600_000,
    );
    const instance = { id, run, proxy };
    this.instances.push(instance);
    // An instance that exits before joining fails the start at once, with what it said.
    const exited = run.done.then(({ code, stderr }) => {
      throw new Error(`${id} exited (${code}) before joining the group:\n${stderr}`);
    });
    await Promise.race([
      run.waitFor('stderr', new RegExp(`ha ${this.group}/${id}: started`), 60_000),
      exited,
    ]);
    exited.catch(() => undefined);
    this.#say(`${id} started`);
    return instance;
  }

  /** The instance that says it holds the key now (its last role line is "active"). */
  holder(): RigInstance | undefined {
    return this.instances.find((i) => running(i) && isActive(i, this.group));
  }

  /** Waits until one instance holds the key with all its sockets and every instrument ticks from it. */
  async steady(timeoutMs = 30_000): Promise<RigInstance> {
    const sockets = Math.ceil(this.tokens.length / this.options.symbolsPerConnection);
    let since = Date.now();
    await until(
      'one holder with every socket open',
      () => {
        const h = this.holder();
        return h !== undefined && h.proxy.connections === sockets;
      },
      timeoutMs,
    );
    since = Date.now();
    await until('every instrument ticking', () => this.#allBackSince(since), timeoutMs);
    return this.holder()!;
  }

  #allBackSince(since: number): boolean {
    const report = this.core.recorder.report().keys[FAILOVER_KEY.id];
    return (
      report !== undefined &&
      report.tokens === this.tokens.length &&
      this.core.recorder.silentTokens(FAILOVER_KEY.id, since).length === 0
    );
  }

  /** kill -9 (or SIGTERM) the holder; the standby takes over; a new standby is started. */
  async round(kind: 'kill' | 'term', timeoutMs = 20_000): Promise<RoundResult> {
    const victim = await this.steady(timeoutMs);
    const standby = this.instances.find((i) => i !== victim && running(i));
    if (!standby) throw new Error('no standby to take over');
    const coreBefore = this.core.recorder.handovers().length;
    const jsBefore = this.js.recorder.handovers().length;
    const t0 = performance.now();
    const wall0 = Date.now();
    victim.run.child.kill(kind === 'kill' ? 'SIGKILL' : 'SIGTERM');
    await standby.run
      .waitFor('stderr', new RegExp(`ha ${this.group}/${standby.id}: active for key`), timeoutMs)
      .catch(async (error: unknown) => {
        throw new Error(`${String(error)}\n${this.#describe()}\n${await this.#leaseViews()}`);
      });
    const takeoverMs = performance.now() - t0;
    await until(
      'the core subscriber to see the handover',
      () => this.core.recorder.handovers().length > coreBefore,
      timeoutMs,
    );
    const handover = this.core.recorder.handovers()[coreBefore]!;
    if (handover.from !== victim.id || handover.to !== standby.id) {
      throw new Error(
        `unexpected handover ${handover.from} -> ${handover.to} (${victim.id} -> ${standby.id})`,
      );
    }
    await until('every instrument back', () => this.#allBackSince(handover.at), timeoutMs);
    const backMs = Date.now() - wall0;
    await until(
      'the JetStream consumer to see the handover',
      () => this.js.recorder.handovers().length > jsBefore,
      timeoutMs,
    );
    const jsHandover = this.js.recorder.handovers()[jsBefore]!;
    const exit = await victim.run.done;
    if (kind === 'term' && exit.code !== 0) throw new Error(`${victim.id} exited ${exit.code} after SIGTERM`);
    await this.#retire(victim);
    await this.startInstance();
    const result: RoundResult = {
      kind,
      from: victim.id,
      to: standby.id,
      takeoverMs,
      gapMs: handover.arrivalGapMs,
      jsGapMs: jsHandover.arrivalGapMs,
      backMs,
    };
    this.#say(
      `${kind}: ${result.from} -> ${result.to}: active after ${Math.round(takeoverMs)} ms, gap ${Math.round(result.gapMs)} ms (JetStream ${Math.round(result.jsGapMs)} ms), all back after ${backMs} ms`,
    );
    return result;
  }

  /**
   * A NATS node killed under the holder: the holder is given only that node (the others it learns
   * from the cluster), the standby another. `leader`: the killed node leads the group's KV stream, so
   * lease writes also wait for a new stream leader. Observes for `observeMs`, then restarts the node.
   */
  async nodeLoss(leader: boolean, observeMs: number): Promise<NodeLossResult> {
    await this.stopAll();
    const stream = `KV_KITE_HA_${this.group}`;
    const jsm = await jetstreamManager(this.nc);
    const consumerNode = this.cluster.nodeOf(this.nc.getServer());
    const leaderIndex = async (): Promise<number> => {
      const info = await jsm.streams.info(stream);
      return this.cluster.nodes.findIndex((n) => n.name === info.cluster?.leader);
    };
    // The consumers' node stays up: what they miss is what the publishers' side lost.
    while ((await leaderIndex()) === consumerNode) {
      await this.nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 5_000 });
      await sleep(500);
    }
    const kvLeader = await leaderIndex();
    const victimNode = leader
      ? kvLeader
      : this.cluster.nodes.findIndex((_, i) => i !== kvLeader && i !== consumerNode);
    const otherNode = this.cluster.nodes.findIndex((_, i) => i !== victimNode);
    const holder = await this.startInstance([this.cluster.urls[victimNode]!]);
    await this.steady();
    const standby = await this.startInstance([this.cluster.urls[otherNode]!]);
    await this.steady();
    const handoversBefore = this.core.recorder.handovers().length;
    this.core.mark();
    this.#say(
      `killing node ${this.cluster.nodes[victimNode]!.name} (KV leader: ${leader}) under ${holder.id}`,
    );
    await this.cluster.kill(victimNode);
    await sleep(observeMs);
    const result: NodeLossResult = {
      leader,
      takeover: isActive(standby, this.group),
      holderAfter: isActive(standby, this.group) ? 'standby' : isActive(holder, this.group) ? 'same' : 'none',
      fenced: new RegExp(`ha ${this.group}/${holder.id}: standby for key \\S+ \\(fenced\\)`).test(
        holder.run.stderr(),
      ),
      silenceMs: this.core.silenceMs(),
      missing: this.core.missingSinceMark(),
    };
    if (this.core.recorder.handovers().length > handoversBefore && !result.takeover) {
      throw new Error('the consumer saw a handover the instances do not report');
    }
    this.#say(`node loss (leader ${leader}): ${JSON.stringify(result)}`);
    for (const i of [holder, standby]) {
      const lines = i.run
        .stderr()
        .split('\n')
        .filter((l) => /ha[ :]|error|warn/.test(l));
      this.#say(`${i.id} said:\n  ${lines.slice(-12).join('\n  ')}`);
    }
    await this.cluster.restart(victimNode);
    await this.stopAll();
    return result;
  }

  /** SIGTERM every instance (standbys first, so the key is not handed around) and waits for each. */
  async stopAll(): Promise<void> {
    const live = this.instances.filter(running);
    live.sort((a, b) => Number(isActive(a, this.group)) - Number(isActive(b, this.group)));
    for (const instance of live) {
      instance.run.child.kill('SIGTERM');
      await instance.run.done;
      await this.#retire(instance);
    }
  }

  async #retire(instance: RigInstance): Promise<void> {
    await instance.proxy.close();
    this.instances.splice(this.instances.indexOf(instance), 1);
  }

  /** What each instance said and holds, for a failure message. */
  #describe(): string {
    const sockets = this.sim.connections().filter((c) => c.apiKey === FAILOVER_KEY.apiKey).length;
    const lines = this.instances.map(
      (i) =>
        `--- ${i.id} (${running(i) ? 'running' : `exited ${i.run.child.exitCode ?? i.run.child.signalCode}`}, ${i.proxy.connections} Kite sockets):\n${i.run.stderr().slice(-3000)}`,
    );
    return [`simulator: ${sockets} sockets of the key`, ...lines].join('\n');
  }

  /**
   * The key's lease as the bucket serves it: several direct gets (any replica may answer one) and one
   * read through the stream leader. Replicas that disagree explain a standby that cannot take a lease.
   */
  async #leaseViews(): Promise<string> {
    try {
      const { Kvm } = await import('@nats-io/kv');
      const { encodeKeyId } = await import('../../src/ha/names.js');
      const key = `lease.${encodeKeyId(FAILOVER_KEY.id)}`;
      const kv = await new Kvm(this.nc).open(`KITE_HA_${this.group}`);
      const views: string[] = [];
      for (let i = 0; i < 6; i++) {
        const e = await kv.get(key);
        views.push(e ? `${e.operation}@${e.revision}` : 'none');
      }
      const jsm = await jetstreamManager(this.nc);
      const leader = await jsm.streams
        .getMessage(`KV_KITE_HA_${this.group}`, { last_by_subj: `$KV.KITE_HA_${this.group}.${key}` })
        .then((m) => `seq ${m?.seq} ${m?.header?.get('KV-Operation') || 'PUT'}`)
        .catch((e: unknown) => String(e));
      const info = await jsm.streams.info(`KV_KITE_HA_${this.group}`);
      return `lease entry: direct gets ${views.join(' ')}; via the leader: ${leader}; stream last seq ${info.state.last_seq}, leader ${info.cluster?.leader}, replicas ${JSON.stringify(info.cluster?.replicas?.map((r) => [r.name, r.current, r.lag]))}`;
    } catch (error) {
      return `lease entry: unreadable (${String(error)})`;
    }
  }

  /** Stops everything; safe to call after a failed start or twice. */
  async dispose(): Promise<void> {
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = undefined;
    for (const instance of this.instances) instance.run.child.kill('SIGKILL');
    await Promise.all(this.instances.map((i) => i.run.done));
    await Promise.all(this.instances.map((i) => i.proxy.close()));
    this.instances.length = 0;
    this.#jsStop?.();
    await this.#sub?.close().catch(() => undefined);
    await this.nc.close().catch(() => undefined);
    await Promise.allSettled(this.#loops);
    await this.sim.stop();
    await this.cluster.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function running(instance: RigInstance): boolean {
  return instance.run.child.exitCode === null && instance.run.child.signalCode === null;
}

/** Whether the instance's last role line says it holds the key. */
function isActive(instance: RigInstance, group: string): boolean {
  const err = instance.run.stderr();
  const prefix = `ha ${group}/${instance.id}: `;
  return err.lastIndexOf(`${prefix}active for key`) > err.lastIndexOf(`${prefix}standby for key`);
}
