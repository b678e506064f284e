/**
 * The rows of the first markdown table after `marker` in `text`, header and
 * separator left out, each row as its trimmed cells.
 */
export function tableAfter(text: string, marker: string): string[][] {
  const start = text.indexOf(marker);
  if (start < 0) throw new Error(`no "${marker}" in the document`);
  const lines = text.slice(text.lastIndexOf("\n", start) + 1).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  if (first < 0) throw new Error(`no table after "${marker}"`);
  const table: string[] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith("|")) break;
    table.push(line);
  }
  return table.slice(2).map((line) => line.slice(1, line.endsWith("|") ? -1 : undefined).split("|").map((cell) => cell.trim()));
}

/** The code spans of a markdown cell: `a`, `b` → ["a", "b"]. */
export const codeSpans = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]);

/** A release table's rows by release name. */
export function releaseRows(rows: string[][]): Map<string, { chart: string; namespace: string }> {
  return new Map(rows.map(([release, chart, namespace]) => [codeSpans(release)[0] ?? release, { chart, namespace: codeSpans(namespace)[0] ?? namespace }]));
}

/** How a release table names a synthesized release's chart: "`loki` 7.3.0", or "local chart". */
export function chartCell(release: { chart: string; version?: string }): string {
  return String(release.chart).startsWith("./") ? "local chart" : `\`${release.chart}\` ${release.version}`;
}
