import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCredentials, parseKeysFile, permissionWarning } from '../../src/cli/credentials.js';
import { jsonErrorOffset, positionOf } from '../../src/cli/json-position.js';
import { natsAuthOptions, natsSecrets } from '../../src/cli/nats-auth.js';
import { runCli } from '../../src/cli/program.js';
import { escapeControls, escapeJsonControls, terminalLine } from '../../src/cli/terminal-text.js';
import { splitServerUrl, withUrlCredentials } from '../../src/sinks/auth.js';
import { memoryIo } from '../helpers/memory-io.js';

const TOKEN = 'keysfile-SECRET-7781';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-cli-secrets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cli secrets', () => {
  it('cli secrets - a keys-file syntax error gives line and column, never the file content', () => {
    const cases: [string, number, number][] = [
      [`[{"id":"a","apiKey":"k","accessToken":"${TOKEN}",}]`, 1, 62],
      [`[\n  {"id": "a", "accessToken": "${TOKEN}"\n  "apiKey": "k"}\n]`, 3, 3],
      [`[{"accessToken": ${TOKEN}}]`, 1, 18],
      [`[{"accessToken": "${TOKEN}`, 1, 39],
      [`[{"accessToken": "${TOKEN}\\q"}]`, 1, 40],
      [`[{"a": tru}]`, 1, 11],
      [`[01]`, 1, 3],
      [`[1] x`, 1, 5],
    ];
    for (const [text, line, column] of cases) {
      let message = '';
      try {
        parseKeysFile(text, 'keys.json');
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, text).toBe(`keys.json: not valid JSON at line ${line}, column ${column}`);
      expect(message).not.toContain('SECRET');
    }
  });

  it('cli secrets - the JSON scanner agrees with V8 where V8 reports a position', () => {
    const texts = ['[1,]', '{"a" 1}', '[1 2]', '{"a":1,}', '["\\x"]', '[-]', '{,}', '[nul]', '[1]]'];
    for (const text of texts) {
      let v8: number | undefined;
      try {
        JSON.parse(text);
      } catch (error) {
        const m = /position (\d+)/.exec((error as Error).message);
        v8 = m ? Number(m[1]) : undefined;
      }
      const ours = jsonErrorOffset(text);
      expect(ours, text).toBeGreaterThanOrEqual(0);
      if (v8 !== undefined) expect(ours, text).toBe(v8);
    }
    expect(jsonErrorOffset('[{"a":[1,{"b":null}]}]')).toBe(-1);
    expect(positionOf('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
    expect(jsonErrorOffset(`${'['.repeat(100_000)}x`)).toBe(100_000);
  });

  it('cli secrets - a keys file others can read is used, with an ssh-like warning', async () => {
    const path = join(dir, 'keys.json');
    await writeFile(path, `[{"id":"a","apiKey":"k","accessToken":"${TOKEN}"}]`);
    for (const mode of [0o644, 0o666, 0o640]) {
      await chmod(path, mode);
      const loaded = loadCredentials({}, path);
      expect(loaded.keys).toHaveLength(1);
      const warning = loaded.warnings?.[0] ?? '';
      expect(warning).toContain(`0${mode.toString(8)}`);
      expect(warning).toContain(`chmod 600 ${path}`);
    }
    await chmod(path, 0o600);
    expect(loadCredentials({}, path).warnings).toBeUndefined();
    expect(permissionWarning(path)).toBeUndefined();
    await chmod(path, 0o644);
    expect(permissionWarning(path, 'win32')).toBeUndefined();
  });

  it('cli secrets - stream prints the keys-file warning on stderr', async () => {
    const path = join(dir, 'open-keys.json');
    await writeFile(path, `[{"id":"a","apiKey":"k","accessToken":"${TOKEN}"}]`);
    await chmod(path, 0o644);
    const t = memoryIo();
    await runCli(
      ['stream', '--keys-file', path, '--url', 'ws://127.0.0.1:1', '-d', '0.2', '--format', 'none', '256265'],
      t.io,
    );
    expect(t.err()).toContain(`kiteticker: warning: ${path} holds access tokens but its permissions 0644`);
    expect(t.err()).toContain(`run: chmod 600 ${path}`);
    expect(t.err()).not.toContain(TOKEN);
  });

  it('cli secrets - control characters from the network are shown escaped, never sent to the terminal', () => {
    const osc52 = '\x1b]52;c;aGVsbG8=\x07';
    const clear = '\x1b[2J';
    const escaped = escapeControls(`boom ${osc52}${clear}\u009b31m\x7f\tend\r\nnext`);
    expect(escaped).toBe('boom \\x1b]52;c;aGVsbG8=\\x07\\x1b[2J\\x9b31m\\x7f\tend\\r\\nnext');
    for (let c = 0; c < 0xa0; c++) {
      if (c === 0x09 || (c >= 0x20 && c < 0x7f)) continue;
      expect(escapeControls(String.fromCharCode(c))).toMatch(/^\\(x[0-9a-f]{2}|n|r)$/);
    }
    expect(escapeControls('plain text · ₹')).toBe('plain text · ₹');
    const json = JSON.stringify({ id: `a\u009b\x7fb${osc52}` });
    const safe = escapeJsonControls(json);
    expect(
      [...safe].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)),
    ).toBe(false);
    expect(JSON.parse(safe)).toEqual(JSON.parse(json));
    expect(terminalLine(`x ${TOKEN}\x1b[2J`, [TOKEN])).toBe('x ***\\x1b[2J');
  });

  it('cli secrets - an error quoting the token and a URL password is printed without them', async () => {
    const t = memoryIo({ KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: TOKEN });
    const code = await runCli(
      ['stream', '--url', `http://me:url-pa55word@h/?x=${TOKEN}&access_token=short`],
      t.io,
    );
    expect(code).toBe(2);
    expect(t.err()).toContain('--url: expected a ws:// or wss:// URL');
    expect(t.err()).toContain('"http://***@h/?x=***&access_token=***"');
    expect(t.err()).not.toContain(TOKEN);
    expect(t.err()).not.toContain('url-pa55word');
  });

  it('cli secrets - a keys-file syntax error on the command line names the position only', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, `[{"id":"a","apiKey":"k","accessToken":"${TOKEN}"]`, { mode: 0o600 });
    const t = memoryIo();
    expect(await runCli(['stream', '--keys-file', path, '-d', '1'], t.io)).toBe(2);
    expect(t.err()).toContain(`${path}: not valid JSON at line 1, column 61`);
    expect(t.err()).not.toContain('SECRET');
  });

  it('cli secrets - NATS credentials from the URL (unencoded @ kept whole), env vars or a creds file', async () => {
    expect(splitServerUrl('nats://u:p@ss@127.0.0.1:4222')).toEqual({
      url: 'nats://127.0.0.1:4222',
      credentials: { user: 'u', pass: 'p@ss' },
    });
    expect(splitServerUrl('nats://u:p%40ss%zz@h:1').credentials).toEqual({ user: 'u', pass: 'p%40ss%zz' });
    expect(splitServerUrl('nats://u:p%40ss@h:1').credentials).toEqual({ user: 'u', pass: 'p@ss' });
    expect(splitServerUrl('tls://s3cr3t-token@h:1')).toEqual({
      url: 'tls://h:1',
      credentials: { token: 's3cr3t-token' },
    });
    expect(splitServerUrl('127.0.0.1:4222')).toEqual({ url: '127.0.0.1:4222', credentials: undefined });
    expect(withUrlCredentials(['nats://a:b@h:1', 'nats://h:2'], { name: 'x' })).toEqual({
      servers: ['nats://h:1', 'nats://h:2'],
      options: { name: 'x', user: 'a', pass: 'b' },
    });
    // Explicit options win over the URL.
    expect(withUrlCredentials('nats://a:b@h:1', { user: 'c', pass: 'd' }).options).toEqual({
      user: 'c',
      pass: 'd',
    });

    expect(await natsAuthOptions(['nats://h:1'], undefined, { NATS_USER: 'u', NATS_PASSWORD: 'pw' })).toEqual(
      { user: 'u', pass: 'pw' },
    );
    expect(
      await natsAuthOptions(['nats://x:y@h:1'], undefined, { NATS_USER: 'u', NATS_PASSWORD: 'pw' }),
    ).toEqual({});
    await expect(natsAuthOptions(['nats://h:1'], undefined, { NATS_PASSWORD: 'pw' })).rejects.toThrow(
      /NATS_PASSWORD is set but NATS_USER is not/,
    );
    await expect(natsAuthOptions(['nats://h:1'], join(dir, 'none.creds'), {})).rejects.toThrow(
      /--nats-creds: cannot read .*ENOENT/,
    );
    await expect(natsAuthOptions(['nats://a:b@h:1'], join(dir, 'none.creds'), {})).rejects.toThrow(
      /give them once/,
    );
    const creds = join(dir, 'user.creds');
    await writeFile(creds, 'not a creds file');
    const withCreds = await natsAuthOptions(['nats://h:1'], creds, {});
    expect(typeof withCreds.authenticator).toBe('function');
    expect(natsSecrets({ NATS_PASSWORD: 'pw' }, ['nats://u:p@ss@h', 'nats://tok@h'])).toEqual([
      'pw',
      'p@ss',
      'tok',
    ]);
  });
});
