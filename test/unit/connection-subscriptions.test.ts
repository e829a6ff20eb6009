import { describe, expect, it } from 'vitest';
import { deltaCommands, replayCommands, SubscriptionState } from '../../src/connection/subscriptions.js';

describe('subscription state', () => {
  it('subscriptions - new quote tokens need only a subscribe', () => {
    const s = new SubscriptionState();
    const d = s.subscribe([1, 2, 3], 'quote');
    expect(d.subscribe).toEqual([1, 2, 3]);
    expect([...d.modes]).toEqual([]);
    expect(deltaCommands(d, 1000)).toEqual(['{"a":"subscribe","v":[1,2,3]}']);
    expect(s.size).toBe(3);
  });

  it('subscriptions - a non-quote mode sends subscribe then mode', () => {
    const s = new SubscriptionState();
    expect(deltaCommands(s.subscribe([5, 6], 'full'), 1000)).toEqual([
      '{"a":"subscribe","v":[5,6]}',
      '{"a":"mode","v":["full",[5,6]]}',
    ]);
  });

  it('subscriptions - tokens already held in the same mode are not resent', () => {
    const s = new SubscriptionState();
    s.subscribe([1, 2], 'full');
    expect(deltaCommands(s.subscribe([1, 2], 'full'), 1000)).toEqual([]);
    // Token 2 changes mode (mode message only), token 3 is new.
    expect(deltaCommands(s.subscribe([2, 3], 'ltp'), 1000)).toEqual([
      '{"a":"subscribe","v":[3]}',
      '{"a":"mode","v":["ltp",[2,3]]}',
    ]);
    expect([...s.view()]).toEqual([
      [1, 'full'],
      [2, 'ltp'],
      [3, 'ltp'],
    ]);
  });

  it('subscriptions - unsubscribe sends only tokens that were held', () => {
    const s = new SubscriptionState();
    s.subscribe([1, 2], 'quote');
    expect(deltaCommands(s.unsubscribe([2, 9]), 1000)).toEqual(['{"a":"unsubscribe","v":[2]}']);
    expect(deltaCommands(s.unsubscribe([2]), 1000)).toEqual([]);
    expect([...s.view().keys()]).toEqual([1]);
  });

  it('subscriptions - setMode changes held tokens only and reports the rest', () => {
    const s = new SubscriptionState();
    s.subscribe([1, 2], 'quote');
    const d = s.setMode('full', [1, 2, 7]);
    expect(d.ignored).toEqual([7]);
    expect(deltaCommands(d, 1000)).toEqual(['{"a":"mode","v":["full",[1,2]]}']);
    expect(deltaCommands(s.setMode('full', [1]), 1000)).toEqual([]);
    expect(s.has(7)).toBe(false);
  });

  it('subscriptions - replay subscribes everything chunked, then one mode group per mode, chunked', () => {
    const s = new SubscriptionState();
    s.subscribe([1, 2, 3], 'full');
    s.subscribe([4, 5], 'ltp');
    s.subscribe([6], 'quote');
    expect(replayCommands(s.view(), 2)).toEqual([
      '{"a":"subscribe","v":[1,2]}',
      '{"a":"subscribe","v":[3,4]}',
      '{"a":"subscribe","v":[5,6]}',
      '{"a":"mode","v":["ltp",[4,5]]}',
      '{"a":"mode","v":["quote",[6]]}',
      '{"a":"mode","v":["full",[1,2]]}',
      '{"a":"mode","v":["full",[3]]}',
    ]);
    expect(replayCommands(new SubscriptionState().view(), 10)).toEqual([]);
  });

  it('subscriptions - snapshot is a copy that later changes do not touch', () => {
    const s = new SubscriptionState();
    s.subscribe([1], 'ltp');
    const snap = s.snapshot();
    s.subscribe([2], 'ltp');
    s.clear();
    expect([...snap]).toEqual([[1, 'ltp']]);
    expect(s.size).toBe(0);
  });
});
