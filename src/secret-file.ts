/**
 * Reads a small secrets file (a keys file, a relay clients file) without ever blocking: opened with
 * O_NONBLOCK, so a FIFO put at the path opens at once instead of waiting for a writer (which would hang
 * the event loop for a sync read, or a pool thread and every later read for an async one); then only a
 * regular file (fstat of the opened file, so nothing can be swapped in between) is read, and at most
 * `maxBytes` + 1 bytes of it. The result says what was wrong; callers word their own reports.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

export type SecretFileRead =
  | { ok: true; text: string /** permission bits */; mode: number /** inode:size:mtime */; signature: string }
  | {
      ok: false;
      problem: 'not a regular file' | 'too large' | 'cannot read' /** errno code */;
      code?: string;
    };

// Windows has no O_NONBLOCK (and no FIFOs at a file path).
const FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function checked(info: Stats, maxBytes: number): SecretFileRead | undefined {
  if (!info.isFile()) return { ok: false, problem: 'not a regular file' };
  if (info.size > maxBytes) return { ok: false, problem: 'too large' };
  return undefined;
}

function done(buf: Buffer, n: number, info: Stats, maxBytes: number): SecretFileRead {
  // Grown between fstat and read: refused like any file over the bound.
  if (n > maxBytes) return { ok: false, problem: 'too large' };
  return {
    ok: true,
    text: buf.toString('utf8', 0, n),
    mode: info.mode & 0o777,
    signature: `${info.ino}:${info.size}:${info.mtimeMs}`,
  };
}

const failed = (error: unknown): SecretFileRead => ({
  ok: false,
  problem: 'cannot read',
  code: (error as NodeJS.ErrnoException).code ?? 'error',
});

/** Synchronous; for start-up reads and the relay's clients-file watch. Never throws. */
export function readSecretFileSync(path: string, maxBytes: number): SecretFileRead {
  let fd: number;
  try {
    fd = openSync(path, FLAGS);
  } catch (error) {
    return failed(error);
  }
  try {
    const info = fstatSync(fd);
    const bad = checked(info, maxBytes);
    if (bad) return bad;
    const buf = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) break;
    }
    return done(buf, n, info, maxBytes);
  } catch (error) {
    return failed(error);
  } finally {
    closeSync(fd);
  }
}

/** Asynchronous; for watchers and providers. Never rejects. */
export async function readSecretFile(path: string, maxBytes: number): Promise<SecretFileRead> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, FLAGS);
  } catch (error) {
    return failed(error);
  }
  try {
    const info = await file.stat();
    const bad = checked(info, maxBytes);
    if (bad) return bad;
    const buf = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await file.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) break;
    }
    return done(buf, n, info, maxBytes);
  } catch (error) {
    return failed(error);
  } finally {
    await file.close().catch(() => undefined);
  }
}
