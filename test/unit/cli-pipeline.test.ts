/** The stream pipeline's cleanup: one disposer stack, run in reverse, every disposer tried, within a deadline. */
import { describe, expect, it } from 'vitest';
import { DisposerStack } from '../../src/cli/stream/disposers.js';

const never = new Promise<void>(() => undefined);

describe('cli pipeline disposers', () => {
  it('cli pipeline - disposers run last pushed first, each awaited before the next, once', async () => {
    const stack = new DisposerStack();
    const order: string[] = [];
    stack.push('signals', () => order.push('signals'));
    stack.push('manager', async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('manager');
    });
    stack.push('view', () => order.push('view'));
    await stack.dispose();
    expect(order).toEqual(['view', 'manager', 'signals']);
    expect(stack.size).toBe(0);
    await stack.dispose();
    expect(order).toEqual(['view', 'manager', 'signals']);
  });

  it('cli pipeline - a disposer that throws or rejects is reported by name and the others still run', async () => {
    const stack = new DisposerStack();
    const ran: string[] = [];
    const errors: string[] = [];
    stack.push('first', () => ran.push('first'));
    stack.push('rejects', () => Promise.reject(new Error('disk full')));
    stack.push('throws', () => {
      throw new Error('boom');
    });
    stack.push('last', () => ran.push('last'));
    await stack.dispose(never, (name, error) => errors.push(`${name}: ${(error as Error).message}`));
    expect(ran).toEqual(['last', 'first']);
    expect(errors).toEqual(['throws: boom', 'rejects: disk full']);
  });

  it('cli pipeline - after the deadline the rest are still called but not awaited, and late failures are not reported', async () => {
    const stack = new DisposerStack();
    const called: string[] = [];
    const errors: string[] = [];
    let rejectLate!: (error: Error) => void;
    stack.push('signals', () => called.push('signals'));
    stack.push('stdout', () => {
      called.push('stdout');
      // A wait that ignores the deadline and fails long after it.
      return new Promise<void>((_resolve, reject) => {
        rejectLate = reject;
      });
    });
    stack.push('manager', () => {
      called.push('manager');
      return never;
    });
    let expire!: () => void;
    const deadline = new Promise<void>((r) => {
      expire = r;
    });
    const started = Date.now();
    setTimeout(expire, 50);
    await stack.dispose(deadline, (name) => errors.push(name));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(called).toEqual(['manager', 'stdout', 'signals']);
    rejectLate(new Error('too late'));
    await new Promise((r) => setTimeout(r, 10));
    expect(errors).toEqual([]);
  });

  it('cli pipeline - each disposer is handed the deadline, so its own waits can be cut short', async () => {
    const stack = new DisposerStack();
    let seen: Promise<void> | undefined;
    stack.push('stdout', (deadline) => {
      seen = deadline;
    });
    await stack.dispose(Promise.resolve());
    expect(seen).toBeInstanceOf(Promise);
    await expect(seen).resolves.toBeUndefined();
  });

  it('cli pipeline - a disposer pushed with finish is awaited even after the deadline (a recording closes complete)', async () => {
    const stack = new DisposerStack();
    const done: string[] = [];
    stack.push(
      'recorder',
      () => new Promise<void>((r) => setTimeout(() => r(void done.push('recorder')), 60)),
      {
        finish: true,
      },
    );
    stack.push('manager', () => never);
    await stack.dispose(Promise.resolve());
    expect(done).toEqual(['recorder']);
  });
});
