/** Markdown tables, printed as-is so that they paste straight into BENCHMARKS.md. */

export type Align = 'left' | 'right';

/** A markdown table; columns are right-aligned except the first (unless `align` says otherwise). */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
): string {
  const alignOf = (i: number): Align => align?.[i] ?? (i === 0 ? 'left' : 'right');
  const lines = [
    `| ${headers.join(' | ')} |`,
    `|${headers.map((_, i) => (alignOf(i) === 'right' ? '---:' : '---')).join('|')}|`,
  ];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}
