/**
 * Drives the live view on a terminal: redraws in place at most `fps` times a second (default 4),
 * hides the cursor while running and restores it on stop. The screen's content comes from `render`.
 */
import type { Writable } from 'node:stream';
import { toAnsiFrame, type ViewSize } from './view.js';

export interface TerminalLike extends Writable {
  columns?: number;
  rows?: number;
}

export class LiveView {
  private readonly out: TerminalLike;
  private readonly render: (size: ViewSize) => string[];
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(out: TerminalLike, render: (size: ViewSize) => string[], fps = 4) {
    this.out = out;
    this.render = render;
    this.intervalMs = Math.max(50, Math.round(1000 / fps));
  }

  start(): void {
    if (this.timer) return;
    this.out.write('\x1b[?25l\x1b[2J');
    this.draw();
    this.timer = setInterval(() => this.draw(), this.intervalMs);
  }

  /** Draws the last screen and gives the cursor back. */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    this.out.write('\x1b[?25h');
  }

  draw(): void {
    if (this.out.writableEnded || this.out.destroyed) return;
    const size = { columns: this.out.columns ?? 100, rows: this.out.rows ?? 40 };
    this.out.write(toAnsiFrame(this.render(size)));
  }
}
