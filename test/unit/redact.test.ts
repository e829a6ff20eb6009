import { describe, expect, it } from 'vitest';
import { redact as redactFromErrors } from '../../src/errors.js';
import { redact as redactFromIndex } from '../../src/index.js';
import { MIN_SUBSTRING_SECRET, redact, redactUrl } from '../../src/redact.js';
import { redactNatsText } from '../../src/sinks/secrets.js';

const TOKEN = 'tok3n-SECRET-value';

describe('redact', () => {
  it('redact - one implementation behind every import path', () => {
    expect(redactFromErrors).toBe(redact);
    expect(redactFromIndex).toBe(redact);
  });

  it('redact - a listed secret is removed wherever it occurs, URL-encoded too', () => {
    expect(redact(`server said: bad token ${TOKEN}.`, [TOKEN])).toBe('server said: bad token ***.');
    expect(redact(`${TOKEN}${TOKEN} and ${TOKEN}`, [TOKEN])).toBe('****** and ***');
    const odd = 'abc/def+ghi=jkl';
    expect(redact(`path /x/${encodeURIComponent(odd)}/y`, [odd])).toBe('path /x/***/y');
  });

  it('redact - the longest of overlapping secrets is removed whole', () => {
    expect(redact('aaaa-bbbb-cccc', ['aaaa-bbbb', 'aaaa-bbbb-cccc'])).toBe('***');
  });

  it('redact - the access_token URL parameter is masked whatever its value', () => {
    expect(redact('GET wss://ws.kite.trade/?api_key=k&access_token=abc123&x=1 failed', [])).toBe(
      'GET wss://ws.kite.trade/?api_key=k&access_token=***&x=1 failed',
    );
    expect(redact('request_token=r1 api_secret=s2 password=p3', [])).toBe(
      'request_token=*** api_secret=*** password=***',
    );
  });

  it('redact - a secret parameter ends at a comma before a space, #, & or a quote; other text stays', () => {
    expect(redact('ws://127.0.0.1:46000/?access_token=abc, 1 key, mode quote', [])).toBe(
      'ws://127.0.0.1:46000/?access_token=***, 1 key, mode quote',
    );
    expect(redact('at ws://h/?access_token=abc,', [])).toBe('at ws://h/?access_token=***,');
    expect(redact('ws://h/?token=abc#frag', [])).toBe('ws://h/?token=***#frag');
    expect(redact(`"ws://h/?password=abc" 'pass=x' \`token=y\``, [])).toBe(
      `"ws://h/?password=***" 'pass=***' \`token=***\``,
    );
    // A comma inside the value (unencoded in a query) is masked with it, never left half shown.
    expect(redact('ws://h/?password=ab,cd&x=1', [])).toBe('ws://h/?password=***&x=1');
  });

  it('redact - known secret fields are masked in JSON, util.inspect and logfmt forms', () => {
    expect(redact('{"accessToken":"t","apiKey":"k"}', [])).toBe('{"accessToken":"***","apiKey":"k"}');
    expect(redact("{ access_token: 'abc', api_key: 'k' }", [])).toBe("{ access_token: '***', api_key: 'k' }");
    expect(redact('{"pass":"a\\"b","user":"u"}', [])).toBe('{"pass":"***","user":"u"}');
    // An instrument token is a number, and "instrument_token" is not a secret name.
    expect(redact('{"instrument_token":"256265","token":256265}', [])).toBe(
      '{"instrument_token":"256265","token":256265}',
    );
  });

  it('redact - URL userinfo is masked, up to the last @ (an unencoded @ in a password)', () => {
    expect(redact('connecting to ws://user:pa55word@127.0.0.1:9000/x', [])).toBe(
      'connecting to ws://***@127.0.0.1:9000/x',
    );
    expect(redact('nats://u:p@ss@word@nats.local:4222 down', [])).toBe('nats://***@nats.local:4222 down');
    expect(redact('"nats://tok@h:1", nats://a:b@h:2', [])).toBe('"nats://***@h:1", nats://***@h:2');
    expect(redactUrl('nats://alice:s3cret@10.0.0.5:4222')).toBe('nats://***@10.0.0.5:4222');
    expect(redactUrl('nats://10.0.0.5:4222')).toBe('nats://10.0.0.5:4222');
  });

  it('redact - a short secret is not removed as a substring, only as a whole field or parameter value', () => {
    expect(MIN_SUBSTRING_SECRET).toBeGreaterThanOrEqual(8);
    const line = 'kiteticker: streaming; the token t was refused at wss://h/?access_token=t';
    expect(redact(line, ['t'])).toBe(
      'kiteticker: streaming; the token t was refused at wss://h/?access_token=***',
    );
    expect(redact('{"accessToken":"t"}', ['t'])).toBe('{"accessToken":"***"}');
  });

  it('redact - NATS helper masks the password and token options', () => {
    expect(redactNatsText('auth failed for hunter2-long', { pass: 'hunter2-long' })).toBe(
      'auth failed for ***',
    );
    expect(redactNatsText('nats://u:p@h:1 refused', {})).toBe('nats://***@h:1 refused');
  });

  it('redact - non-string input is turned into text, not thrown on', () => {
    expect(redact(42 as unknown as string, [])).toBe('42');
  });
});
