/**
 * The machine line every benchmark table starts with: numbers are only comparable on the same kind of
 * machine, so each table says where it was measured.
 */
import os from 'node:os';

/** "Machine: <CPU model>, <n> cores; Node <version>" plus an optional note. */
export function machineLine(note?: string): string {
  const cpus = os.cpus();
  const base = `Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores; Node ${process.version}`;
  return note ? `${base}; ${note}` : base;
}
