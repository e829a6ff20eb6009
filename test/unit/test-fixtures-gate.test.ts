import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDecision, isCi, mocksDir, sharedDir } from '../helpers/fixtures.js';

describe('fixture gate', () => {
  it('fixtures - the shared folder is ../shared beside the repository unless KITETICKER_SHARED_DIR says otherwise', () => {
    expect(sharedDir({}, '/src/kiteticker-manager')).toBe(resolve('/src/shared'));
    expect(mocksDir({}, '/src/kiteticker-manager')).toBe(resolve('/src/shared/fixtures/kiteconnect-mocks'));
    expect(sharedDir({ KITETICKER_SHARED_DIR: '/data/shared' }, '/src/x')).toBe(resolve('/data/shared'));
    expect(sharedDir({ KITETICKER_SHARED_DIR: '  ' }, '/src/x')).toBe(resolve('/src/shared'));
  });

  it('fixtures - present runs; missing skips on a laptop and fails in CI', () => {
    expect(fixtureDecision(true, {})).toBe('run');
    expect(fixtureDecision(true, { CI: 'true' })).toBe('run');
    expect(fixtureDecision(false, {})).toBe('skip');
    expect(fixtureDecision(false, { CI: 'true' })).toBe('fail');
    expect(fixtureDecision(false, { CI: '1' })).toBe('fail');
    expect(fixtureDecision(false, { CI: 'false' })).toBe('skip');
    expect(fixtureDecision(false, { CI: '' })).toBe('skip');
    expect(isCi({ CI: 'TRUE' })).toBe(true);
    expect(isCi({ CI: '0' })).toBe(false);
  });
});
