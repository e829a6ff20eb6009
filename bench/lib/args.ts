/**
 * Command-line flags of the benchmark scripts: `--name value` or `--name=value`, plus `--quick` (the
 * short variant `npm run bench` uses). Unknown flags are rejected so a typo does not silently run the
 * default.
 */

export interface FlagSpec {
  /** Flag name without dashes -> help text. */
  [name: string]: string;
}

export class Flags {
  readonly #values = new Map<string, string>();

  constructor(spec: FlagSpec, argv: readonly string[] = process.argv.slice(2)) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (name === 'help') {
        console.log(
          Object.entries(spec)
            .map(([k, v]) => `  --${k}  ${v}`)
            .join('\n'),
        );
        process.exit(0);
      }
      if (!(name in spec)) throw new Error(`unknown flag --${name}; known: ${Object.keys(spec).join(', ')}`);
      let value = 'true';
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) value = argv[++i]!;
      this.#values.set(name, value);
    }
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  number(name: string, fallback: number): number {
    const raw = this.#values.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`--${name} must be a positive number, got ${raw}`);
    return value;
  }

  numbers(name: string, fallback: readonly number[]): number[] {
    const raw = this.#values.get(name);
    if (raw === undefined) return [...fallback];
    const values = raw.split(',').map(Number);
    if (values.some((v) => !Number.isFinite(v) || v <= 0))
      throw new Error(`--${name} must be a list of positive numbers, got ${raw}`);
    return values;
  }

  string(name: string, fallback: string): string {
    return this.#values.get(name) ?? fallback;
  }
}
