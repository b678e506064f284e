/**
 * What `npm run doctor` finds, and how it shows it: a table per cluster for
 * people (text on a terminal, markdown for a job summary) and JSON for machines.
 */

/** `fail` is critical (exit code 1); `warn` asks for a look; `skip` could not or need not be checked. */
export type Status = "ok" | "warn" | "fail" | "skip";

export const COMPONENTS = ["cluster", "gitops", "ingress", "monitoring", "data", "secrets"] as const;
export type Component = (typeof COMPONENTS)[number];

export interface Finding {
  readonly component: Component;
  /** What was checked, e.g. `nodes Ready` or `develop: source`. */
  readonly check: string;
  readonly status: Status;
  /** What was seen, never a secret value. */
  readonly evidence: string;
  /** What to do next; empty when nothing is to be done. */
  readonly next?: string;
}

export interface ClusterReport {
  readonly cloud: string;
  /** The cluster's name, from its platform stack's outputs (or the stack id when they could not be read). */
  readonly cluster: string;
  readonly findings: readonly Finding[];
}

const finding = (component: Component, check: string, status: Status, evidence: string, next?: string): Finding => ({
  component,
  check,
  status,
  evidence,
  ...(next ? { next } : {}),
});
export const ok = (component: Component, check: string, evidence: string): Finding => finding(component, check, "ok", evidence);
export const warn = (component: Component, check: string, evidence: string, next: string): Finding => finding(component, check, "warn", evidence, next);
export const fail = (component: Component, check: string, evidence: string, next: string): Finding => finding(component, check, "fail", evidence, next);
export const skip = (component: Component, check: string, evidence: string, next?: string): Finding => finding(component, check, "skip", evidence, next);

/** 1 when any check failed: a deploy job running the doctor then fails. */
export function exitCode(reports: readonly ClusterReport[]): number {
  return reports.some((report) => report.findings.some((f) => f.status === "fail")) ? 1 : 0;
}

export function counts(findings: readonly Finding[]): Record<Status, number> {
  const result: Record<Status, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const f of findings) result[f.status]++;
  return result;
}

/** Findings in component order, failures first within a component. */
function ordered(findings: readonly Finding[]): Finding[] {
  const rank: Record<Status, number> = { fail: 0, warn: 1, ok: 2, skip: 3 };
  return [...findings].sort((a, b) => COMPONENTS.indexOf(a.component) - COMPONENTS.indexOf(b.component) || rank[a.status] - rank[b.status]);
}

const summaryLine = (findings: readonly Finding[]): string => {
  const c = counts(findings);
  return `${c.fail} failed, ${c.warn} warnings, ${c.ok} ok, ${c.skip} skipped`;
};

const heading = (report: ClusterReport): string => `${report.cloud}: ${report.cluster}`;

const STATUS_TEXT: Record<Status, string> = { ok: "ok", warn: "WARN", fail: "FAIL", skip: "skip" };
const COLOURS: Record<Status, string> = { ok: "\x1b[32m", warn: "\x1b[33m", fail: "\x1b[31m", skip: "\x1b[2m" };

/** Cuts a cell to `width`, so that a long message cannot break the table on a terminal. */
function cell(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat.padEnd(width);
}

export interface TextOptions {
  /** ANSI colours for the status column. @default false */
  readonly colour?: boolean;
  /** Widest cell of the evidence and next-step columns. @default 70 */
  readonly width?: number;
}

/** One plain-text table per cluster, for a terminal or a log. */
export function renderText(reports: readonly ClusterReport[], options: TextOptions = {}): string {
  const width = options.width ?? 70;
  const out: string[] = [];
  for (const report of reports) {
    const rows = ordered(report.findings);
    const componentWidth = Math.max(9, ...rows.map((r) => r.component.length));
    const checkWidth = Math.min(40, Math.max(5, ...rows.map((r) => r.check.length)));
    const evidenceWidth = Math.min(width, Math.max(8, ...rows.map((r) => r.evidence.length)));
    out.push(`${heading(report)}  (${summaryLine(report.findings)})`);
    out.push(`${cell("component", componentWidth)}  ${cell("check", checkWidth)}  status  ${cell("evidence", evidenceWidth)}  next`);
    for (const row of rows) {
      const status = STATUS_TEXT[row.status].padEnd(6);
      const shown = options.colour ? `${COLOURS[row.status]}${status}\x1b[0m` : status;
      out.push(`${cell(row.component, componentWidth)}  ${cell(row.check, checkWidth)}  ${shown}  ${cell(row.evidence, evidenceWidth)}  ${(row.next ?? "").replace(/\s+/g, " ").slice(0, width * 2)}`.trimEnd());
    }
    out.push("");
  }
  return out.join("\n");
}

const MARK: Record<Status, string> = { ok: "✅ ok", warn: "⚠️ warn", fail: "❌ **fail**", skip: "➖ skip" };
const escapeCell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\s+/g, " ");

/** A markdown table per cluster, for a GitHub job summary. */
export function renderMarkdown(reports: readonly ClusterReport[]): string {
  const out: string[] = ["## Platform doctor", ""];
  for (const report of reports) {
    out.push(`### ${heading(report)}`, "", summaryLine(report.findings), "");
    out.push("| component | check | status | evidence | next |", "| --- | --- | --- | --- | --- |");
    for (const row of ordered(report.findings)) {
      out.push(`| ${row.component} | ${escapeCell(row.check)} | ${MARK[row.status]} | ${escapeCell(row.evidence)} | ${escapeCell(row.next ?? "")} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

export function renderJson(reports: readonly ClusterReport[], at: Date): string {
  return JSON.stringify({ checkedAt: at.toISOString(), exitCode: exitCode(reports), clusters: reports }, null, 2);
}
