import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { attachListeners } from '../../src/delivery/listeners.js';

interface Events {
  ticks: [ticks: number[], index: number];
  status: [status: string];
}

describe('listeners', () => {
  it('listeners - attaches each listener and the returned function removes exactly those', () => {
    const emitter = new EventEmitter<Events>();
    const other = (): void => {};
    emitter.on('status', other);
    const seen: string[] = [];
    const detach = attachListeners<Events>(emitter, {
      ticks: (ticks, index) => seen.push(`${ticks.length}@${index}`),
      status: (status) => seen.push(status),
    });
    emitter.emit('ticks', [1, 2], 1);
    emitter.emit('status', 'connected');
    expect(seen).toEqual(['2@1', 'connected']);
    detach();
    emitter.emit('ticks', [1], 0);
    expect(seen).toHaveLength(2);
    expect(emitter.listenerCount('ticks')).toBe(0);
    expect(emitter.listeners('status')).toEqual([other]);
  });
});
