/**
 * Drives the live view on a terminal: redraws in place at most `fps` times a second (default 4),
 * hides the cursor while running and restores it on stop, and redraws at once for the new size when
 * the terminal is resized (SIGWINCH, seen as the stream's 'resize' event). The screen's content
 * comes from `render`, which is given the terminal's size so the frame never scrolls.
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
  private readonly onResize = (): void => {
    // What was drawn for the old size may be left where the new frame does not reach.
    if (this.timer) this.out.write('\x1b[2J');
    this.draw();
  };

  constructor(out: TerminalLike, render: (size: ViewSize) => string[], fps = 4) {
    this.out = out;
    this.render = render;
    this.intervalMs = Math.max(50, Math.round(1000 / fps));
  }

  start(): void {
    if (this.timer) return;
    this.out.write('\x1b[?25l\x1b[2J');
    this.out.on('resize', this.onResize);
    this.draw();
    this.timer = setInterval(() => this.draw(), this.intervalMs);
  }

  /** Draws the last screen and gives the cursor back. */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.out.off('resize', this.onResize);
    this.draw();
    // The last frame ends on its last line (see toAnsiFrame): move below it for the shell.
    this.out.write('\n\x1b[?25h');
  }

  draw(): void {
    if (this.out.writableEnded || this.out.destroyed) return;
    const size = { columns: this.out.columns || 80, rows: this.out.rows || 24 };
    this.out.write(toAnsiFrame(this.render(size)));
  }
}
