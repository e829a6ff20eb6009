/** Renders a SoakReport as the table printed by `npm run soak` and pasted into docs/reliability.md. */
import type { FaultRecord, SoakReport } from './harness.js';
import { percentile } from './invariants.js';

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mb = (n: number): string => `${n.toFixed(0)} MB`;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function byKind(faults: readonly FaultRecord[]): string[] {
  const kinds = [...new Set(faults.map((f) => f.kind))].sort();
  const lines = [
    row(['fault', 'injected', 'recovered', 'p50 recovery', 'slowest']),
    row(['---', '---:', '---:', '---:', '---:']),
  ];
  for (const kind of kinds) {
    const of = faults.filter((f) => f.kind === kind);
    const times = of
      .filter((f) => f.recoveryMs !== undefined)
      .map((f) => f.recoveryMs!)
      .sort((a, b) => a - b);
    lines.push(
      row([
        kind,
        String(of.length),
        String(times.length),
        s(percentile(times, 50)),
        s(times[times.length - 1] ?? 0),
      ]),
    );
  }
  return lines;
}

export function formatReport(r: SoakReport, command?: string): string {
  const violations = Object.entries(r.violationsByKind);
  const totalViolations = violations.reduce((n, [, c]) => n + (c ?? 0), 0);
  const lines = [
    ...(command ? [`command: \`${command}\``, ''] : []),
    row(['metric', 'value']),
    row(['---', '---']),
    row([
      'instruments / keys / per socket',
      `${int(r.instruments)} / ${r.keys} / ${int(r.maxSymbolsPerConnection)}`,
    ]),
    row(['chaos phase', s(r.durationMs)]),
    row(['initial subscribe to all ticking', s(r.initialConvergenceMs)]),
    row([
      'faults injected',
      `${r.faults.length} (${Object.entries(r.faultsByKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')})`,
    ]),
    row(['recoveries', `${r.recovered} of ${r.faults.length}`]),
    row(['recovery p50 / p99', `${s(r.recoveryP50Ms)} / ${s(r.recoveryP99Ms)}`]),
    row([
      'slowest recovery',
      r.slowestFault
        ? `${s(r.recoveryMaxMs)} (#${r.slowestFault.seq} ${r.slowestFault.kind}: ${r.slowestFault.detail})`
        : '-',
    ]),
    row(['slowest recovery after the last hit (bound: 10 s)', s(r.settleMaxMs)]),
    row(['token rotations (revoked -> updateAccessToken)', String(r.tokenRotations)]),
    row(['reconnects (client side)', int(r.reconnects)]),
    row([
      'upgrades accepted / refused',
      `${int(r.upgradesAccepted)} / ${JSON.stringify(r.upgradesRejected)}`,
    ]),
    row([
      'max sockets on one key / instruments on one socket',
      `${r.maxSocketsOnKey} / ${int(r.maxInstrumentsOnSocket)}`,
    ]),
    row([
      'ticks received',
      `${int(r.ticksReceived)} (${int(r.ticksPerSecond)}/s during chaos, ${int(r.expectedTicksPerSecond)}/s produced at best)`,
    ]),
    row(['protocol errors counted (corrupt frames)', int(r.protocolErrors)]),
    row([
      'slow consumer (capacity / max held / read / dropped)',
      `${r.slowConsumer.capacity} / ${r.slowConsumer.maxSize} / ${int(r.slowConsumer.received)} / ${int(r.slowConsumer.dropped)}`,
    ]),
    row([
      'fast consumer (tick batches / listener batches / dropped)',
      `${int(r.fastConsumer.tickBatches)} / ${int(r.fastConsumer.listenerBatches)} / ${r.fastConsumer.dropped}`,
    ]),
    row(['manager drops (pump + channels)', int(r.managerDrops)]),
    row([
      'RSS start / end / max',
      `${mb(r.memory.rssStartMb)} / ${mb(r.memory.rssEndMb)} / ${mb(r.memory.rssMaxMb)}`,
    ]),
    row([
      'heap after GC: after warm-up / end / trend',
      `${mb(r.memory.heapAfterWarmupMb)} / ${mb(r.memory.heapEndMb)} / ${r.memory.heapSlopeMbPerMin.toFixed(1)} MB/min`,
    ]),
    row([
      'invariant violations',
      totalViolations === 0
        ? '0'
        : `${totalViolations} (${violations.map(([k, n]) => `${k} ${n}`).join(', ')})`,
    ]),
    '',
    ...byKind(r.faults),
  ];
  if (r.violations.length > 0) {
    lines.push('', 'violations:');
    for (const v of r.violations.slice(0, 30)) lines.push(`  ${s(v.at)} ${v.kind}: ${v.detail}`);
  }
  if (r.chaosErrors.length > 0) lines.push('', `chaos driver errors: ${r.chaosErrors.join('; ')}`);
  return lines.join('\n');
}
