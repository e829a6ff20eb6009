/**
 * Small strict parsers for the deploy files, enough to check them in a test without systemd or Docker:
 * a systemd unit (INI-like: sections, Key=Value, repeated keys, backslash continuations, # and ;
 * comments) and a Dockerfile (instructions, continuations, exec-form JSON arrays). Anything they do not
 * understand is an error naming the line, so a broken file fails loudly.
 */

/** Section name -> key -> values in file order (a key may repeat). */
export type UnitFile = Map<string, Map<string, string[]>>;

/** Keys this project's unit may use, per section: a key in the wrong section is ignored by systemd. */
const UNIT_KEYS: Record<string, ReadonlySet<string>> = {
  Unit: new Set([
    'Description',
    'Documentation',
    'Wants',
    'Requires',
    'After',
    'Before',
    'StartLimitIntervalSec',
    'StartLimitBurst',
  ]),
  Service: new Set([
    'Type',
    'User',
    'Group',
    'DynamicUser',
    'UMask',
    'StateDirectory',
    'StateDirectoryMode',
    'ReadWritePaths',
    'WorkingDirectory',
    'Environment',
    'EnvironmentFile',
    'ExecStart',
    'ExecReload',
    'KillMode',
    'KillSignal',
    'TimeoutStopSec',
    'Restart',
    'RestartSec',
    'RestartPreventExitStatus',
    'NoNewPrivileges',
    'ProtectSystem',
    'ProtectHome',
    'PrivateTmp',
    'PrivateDevices',
    'ProtectKernelTunables',
    'ProtectKernelModules',
    'ProtectKernelLogs',
    'ProtectControlGroups',
    'ProtectClock',
    'ProtectHostname',
    'ProtectProc',
    'ProcSubset',
    'RestrictAddressFamilies',
    'RestrictNamespaces',
    'RestrictRealtime',
    'RestrictSUIDSGID',
    'LockPersonality',
    'RemoveIPC',
    'CapabilityBoundingSet',
    'AmbientCapabilities',
    'SystemCallArchitectures',
    'SystemCallFilter',
    'SystemCallErrorNumber',
    'MemoryDenyWriteExecute',
    'LimitNOFILE',
  ]),
  Install: new Set(['WantedBy', 'Alias']),
};

export function parseUnitFile(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  let sectionName = '';
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    let line = lines[n]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    while (line.endsWith('\\') && n + 1 < lines.length) {
      n++;
      line = `${line.slice(0, -1).trimEnd()} ${lines[n]!.trim()}`;
    }
    if (line.startsWith('[')) {
      const m = /^\[([A-Za-z]+)\]$/.exec(line);
      if (!m) throw new Error(`line ${lineNo}: bad section header ${line}`);
      sectionName = m[1]!;
      if (!(sectionName in UNIT_KEYS)) throw new Error(`line ${lineNo}: unknown section [${sectionName}]`);
      if (unit.has(sectionName)) throw new Error(`line ${lineNo}: section [${sectionName}] repeated`);
      section = new Map();
      unit.set(sectionName, section);
      continue;
    }
    if (!section) throw new Error(`line ${lineNo}: outside any section`);
    const m = /^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`line ${lineNo}: expected Key=Value, got ${line}`);
    const [, key, value] = m as unknown as [string, string, string];
    if (!UNIT_KEYS[sectionName]!.has(key)) {
      throw new Error(`line ${lineNo}: ${key} does not belong in [${sectionName}]`);
    }
    section.set(key, [...(section.get(key) ?? []), value]);
  }
  return unit;
}

export interface DockerInstruction {
  instruction: string;
  /** Everything after the instruction, continuations joined. */
  args: string;
  /** The exec form (a JSON array of strings), when args is one. */
  json?: string[];
  line: number;
}

const DOCKER_INSTRUCTIONS = new Set([
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
]);
/** Instructions whose argument in `[` must be a valid JSON array of strings. */
const EXEC_FORM = new Set(['CMD', 'ENTRYPOINT', 'RUN', 'SHELL', 'VOLUME']);

export function parseDockerfile(text: string): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    let line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && n + 1 < lines.length) {
      n++;
      const next = lines[n]!.trim();
      if (next.startsWith('#')) continue; // comment lines inside a continuation are dropped
      line = `${line.slice(0, -1).trimEnd()} ${next}`;
    }
    const m = /^([A-Za-z]+)\s+(.+)$/s.exec(line);
    if (!m) throw new Error(`line ${lineNo}: expected INSTRUCTION arguments, got ${line}`);
    const instruction = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (!DOCKER_INSTRUCTIONS.has(instruction)) throw new Error(`line ${lineNo}: unknown instruction ${m[1]}`);
    if (out.length === 0 && instruction !== 'FROM' && instruction !== 'ARG') {
      throw new Error(`line ${lineNo}: the first instruction must be FROM (or ARG), not ${instruction}`);
    }
    const entry: DockerInstruction = { instruction, args, line: lineNo };
    if (EXEC_FORM.has(instruction) && args.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(args);
      } catch {
        throw new Error(`line ${lineNo}: ${instruction} is not a valid JSON array`);
      }
      if (!Array.isArray(parsed) || parsed.some((a) => typeof a !== 'string')) {
        throw new Error(`line ${lineNo}: ${instruction} must be a JSON array of strings`);
      }
      entry.json = parsed as string[];
    }
    out.push(entry);
  }
  if (!out.some((i) => i.instruction === 'FROM')) throw new Error('no FROM instruction');
  return out;
}
