/**
 * The live terminal view: a pure function from a stats snapshot, rates and the latest quotes of a
 * selection to the text of one screen. The driver (live-view.ts) adds the ANSI cursor control and
 * decides when to redraw, so this can be tested as plain strings.
 */
import type { Tick } from '../protocol/types.js';
import { type CliStatsSnapshot, type RateTracker, totalsOf } from './snapshot.js';
import { escapeControls } from './terminal-text.js';

export interface QuoteRow {
  /** EXCHANGE:TRADINGSYMBOL when known, else the token. */
  symbol: string;
  token: number;
  /** Latest tick; undefined until the first arrives. */
  tick: Tick | undefined;
  /** Epoch ms the latest tick was received. */
  receivedAt: number | undefined;
}

export interface ViewProgress {
  /** E.g. "connecting", "subscribing". */
  phase: string;
  done: number;
  total: number;
}

export interface ViewState {
  /** First line, e.g. "kiteticker stream · simulator ws://127.0.0.1:40123 · mode quote". */
  title: string;
  snapshot: CliStatsSnapshot;
  rates: Pick<RateTracker, 'rate' | 'totalRate'>;
  quotes: readonly QuoteRow[];
  progress?: ViewProgress;
  /** Extra line under the totals (warnings, sink status). */
  notice?: string;
}

export interface ViewSize {
  columns: number;
  rows: number;
}

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatInt(n: number): string {
  return intFormat.format(n);
}

/** "1 instrument", "27,000 instruments": one number format and the right plural everywhere. */
export function plural(n: number, word: string): string {
  return `${intFormat.format(n)} ${word}${n === 1 ? '' : 's'}`;
}

export function formatRate(n: number): string {
  return n >= 100 ? intFormat.format(n) : n.toFixed(1);
}

/** "12ms", "1.5s", "3m04s", "-" for never. */
export function formatAge(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** "01:02:03" */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}`;
}

function formatPrice(n: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });
}

function row(cells: readonly string[], widths: readonly number[], alignRight: readonly boolean[]): string {
  return cells
    .map((c, i) => {
      const w = widths[i] ?? c.length;
      return alignRight[i] ? c.padStart(w) : c.padEnd(w);
    })
    .join('  ')
    .trimEnd();
}

/** Joins parts with ' · ' into as few lines of at most `columns` as the parts allow. */
export function packParts(parts: readonly string[], columns: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const part of parts) {
    if (line === '') line = part;
    else if (line.length + 3 + part.length <= columns) line += ` · ${part}`;
    else {
      out.push(line);
      line = part;
    }
  }
  if (line !== '') out.push(line);
  return out;
}

/** Word-wraps `text` to `columns`, at most `maxLines` lines (the last one cut). */
export function wrapWords(text: string, columns: number, maxLines: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= columns) line += ` ${word}`;
    else {
      out.push(line);
      line = word;
    }
  }
  if (line !== '') out.push(line);
  return out.length > maxLines ? out.slice(0, maxLines) : out;
}

function progressBar(p: ViewProgress, width: number): string {
  const total = Math.max(1, p.total);
  const ratio = Math.min(1, Math.max(0, p.done / total));
  const filled = Math.round(ratio * width);
  return `${p.phase} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatInt(p.done)}/${formatInt(p.total)} (${Math.round(ratio * 100)}%)`;
}

/**
 * The screen's lines (no ANSI codes), cut to `size`. Every text in it may come from outside (a
 * recording's metadata, an instruments list, key ids, server text in a notice): control and format
 * characters are shown escaped (terminal-text.ts), in the cells before the columns are measured, and
 * again over each finished line so that nothing reaches the terminal raw whatever the caller passed.
 */
export function renderView(state: ViewState, size: ViewSize): string[] {
  const { snapshot, rates } = state;
  const totals = totalsOf(snapshot);
  const lines: string[] = [];
  lines.push(`${escapeControls(state.title)} · up ${formatDuration(snapshot.uptimeMs)}`);
  // The totals wrap at ' · ' rather than lose their last fields on a narrow (80-column) terminal.
  lines.push(
    ...packParts(
      [
        `keys ${totals.apiKeys}`,
        `connections ${totals.connected}/${totals.connections}`,
        `instruments ${formatInt(totals.symbols)}`,
        `ticks ${formatInt(totals.ticks)} (${formatRate(rates.totalRate())}/s)`,
        `reconnects ${totals.reconnects}`,
        `drops ${totals.drops}`,
      ],
      size.columns,
    ),
  );
  // Notices (a refused token and what to do about it) are wrapped, not cut, up to 3 lines.
  if (state.notice) lines.push(...wrapWords(escapeControls(state.notice), size.columns, 3));
  if (state.progress) lines.push(progressBar(state.progress, 30));
  lines.push('');

  const connHeader = [
    'API KEY',
    'CONN',
    'STATUS',
    'INSTRUMENTS',
    'TICKS/S',
    'TICKS',
    'RECONNECTS',
    'LAST FRAME',
  ];
  const connRight = [false, true, false, true, true, true, true, true];
  const connRows: string[][] = [];
  for (const key of snapshot.apiKeys) {
    if (key.connections.length === 0)
      connRows.push([key.apiKeyId, '-', `${key.state}, no connections`, '0', '0.0', '0', '0', '-']);
    for (const c of key.connections) {
      connRows.push([
        key.apiKeyId,
        `#${c.index}`,
        c.status,
        formatInt(c.symbols),
        formatRate(rates.rate(key.apiKeyId, c.index)),
        formatInt(c.ticks),
        String(c.reconnects),
        formatAge(c.lastFrameAgeMs),
      ]);
    }
  }
  for (const r of connRows) escapeCells(r);
  const connWidths = connHeader.map((h, i) => Math.max(h.length, ...connRows.map((r) => r[i]!.length)));
  lines.push(row(connHeader, connWidths, connRight));
  for (const r of connRows) lines.push(row(r, connWidths, connRight));

  // The footer is always shown; the quote table gets what is left of the screen (blank line,
  // header, rows, and a "more" line when cut), and disappears when not even one row fits.
  const footer = ['', 'Ctrl-C to stop'];
  const room = size.rows - lines.length - footer.length - 2;
  if (state.quotes.length > 0 && room >= 1) {
    lines.push('');
    const qHeader = ['SYMBOL', 'LTP', 'CHG%', 'VOLUME', 'BID', 'ASK', 'AGE'];
    const qRight = [false, true, true, true, true, true, true];
    const budget = state.quotes.length <= room ? room : Math.max(0, room - 1);
    const shown = state.quotes.slice(0, budget);
    let qRows = shown.map((q) => escapeCells(quoteCells(q, snapshot.at)));
    // Bid/ask exist only in full mode; without depth anywhere the columns would be all dashes.
    if (!shown.some((q) => q.tick !== undefined && 'depth' in q.tick)) {
      qHeader.splice(4, 2);
      qRight.splice(4, 2);
      qRows = qRows.map((r) => [...r.slice(0, 4), ...r.slice(6)]);
    }
    const qWidths = qHeader.map((h, i) => Math.max(h.length, ...qRows.map((r) => r[i]!.length)));
    lines.push(row(qHeader, qWidths, qRight));
    for (const r of qRows) lines.push(row(r, qWidths, qRight));
    if (shown.length < state.quotes.length)
      lines.push(`... ${state.quotes.length - shown.length} more (enlarge the terminal)`);
  }
  // On a screen too small for everything, the title and totals stay and the footer goes last.
  const fitted = lines.slice(0, Math.max(1, size.rows - footer.length));
  if (size.rows >= fitted.length + footer.length) fitted.push(...footer);
  return fitted.map((line) => {
    const l = escapeControls(line);
    return l.length > size.columns ? l.slice(0, size.columns) : l;
  });
}

function escapeCells(cells: string[]): string[] {
  for (let i = 0; i < cells.length; i++) cells[i] = escapeControls(cells[i]!);
  return cells;
}

function quoteCells(q: QuoteRow, now: number): string[] {
  const t = q.tick;
  if (t === undefined) return [q.symbol, '-', '-', '-', '-', '-', '-'];
  const change = 'change' in t ? t.change : undefined;
  const volume = 'volume_traded' in t ? formatInt(t.volume_traded) : '-';
  let bid = '-';
  let ask = '-';
  if ('depth' in t) {
    const b = t.depth.buy[0];
    const a = t.depth.sell[0];
    if (b && b.price > 0) bid = formatPrice(b.price);
    if (a && a.price > 0) ask = formatPrice(a.price);
  }
  const chg = change === undefined ? '-' : `${change >= 0 ? '+' : ''}${change.toFixed(2)}%`;
  return [
    q.symbol,
    formatPrice(t.last_price),
    chg,
    volume,
    bid,
    ask,
    formatAge(q.receivedAt === undefined ? undefined : now - q.receivedAt),
  ];
}

/**
 * ANSI: cursor home, each line cleared to its end, then everything below cleared. No newline after
 * the last line: on a screen exactly as tall as the frame it would scroll the title away.
 */
export function toAnsiFrame(lines: readonly string[]): string {
  return `\x1b[H${lines.join('\x1b[K\n')}\x1b[K\x1b[J`;
}
