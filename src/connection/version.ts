/**
 * The package version, read once from package.json at module load, for the User-Agent header.
 * The file sits two levels above both src/connection/ and dist/connection/; a third level is tried
 * for builds that keep the src/ folder under dist/.
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'kiteticker-manager' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not there (or not readable): try the next candidate.
    }
  }
  return '0.0.0';
}

export const PACKAGE_VERSION: string = readVersion();

/** Sent on every upgrade so Kite (and the simulator) can tell this client apart. */
export const USER_AGENT = `kiteticker-manager/${PACKAGE_VERSION}`;
