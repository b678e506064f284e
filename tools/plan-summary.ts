import { guardPlan, OVERRIDE_LABEL, type PlanJson, type ProtectedChange } from "./destroy-guard";

/** Marks the one pull-request comment the plan workflow keeps updating. */
export const COMMENT_MARKER = "<!-- platform-kit:plan-summary -->";

/** GitHub rejects comment bodies over 65,536 characters. */
const COMMENT_LIMIT = 65_000;

export interface StackSummary {
  readonly stack: string;
  /** Counted as Terraform's "Plan: N to add, N to change, N to destroy": a replacement adds one and destroys one. */
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  readonly created: string[];
  readonly updated: string[];
  readonly deleted: string[];
  readonly replaced: string[];
  /** Deletions and replacements the destroy guard refuses without the override. */
  readonly protectedChanges: ProtectedChange[];
  /** The human-readable plan (`terraform show -no-color`), when it was saved. */
  readonly text?: string;
  /** Why the plan could not be made; the counts are then zero. */
  readonly failure?: string;
}

/** Counts and addresses of one stack's `terraform show -json` output. */
export function summarizePlan(stack: string, plan: PlanJson, text?: string): StackSummary {
  const created: string[] = [];
  const updated: string[] = [];
  const deleted: string[] = [];
  const replaced: string[] = [];
  for (const change of plan.resource_changes ?? []) {
    if (change.mode !== "managed") continue;
    const actions = change.change.actions;
    if (actions.includes("delete") && actions.includes("create")) replaced.push(change.address);
    else if (actions.includes("create")) created.push(change.address);
    else if (actions.includes("delete")) deleted.push(change.address);
    else if (actions.includes("update")) updated.push(change.address);
  }
  return {
    stack,
    add: created.length + replaced.length,
    change: updated.length,
    destroy: deleted.length + replaced.length,
    created,
    updated,
    deleted,
    replaced,
    protectedChanges: guardPlan(stack, plan).changes,
    text,
  };
}

/** A stack whose plan failed, shown as a row of its own. */
export function failedPlan(stack: string, log: string): StackSummary {
  return { stack, add: 0, change: 0, destroy: 0, created: [], updated: [], deleted: [], replaced: [], protectedChanges: [], failure: log };
}

export interface RenderOptions {
  /** The pull request carries the override label. */
  readonly allowDestroy?: boolean;
  /** Links the workflow run that holds the full plans. */
  readonly runUrl?: string;
  /** @default 65,000 characters, under GitHub's comment limit */
  readonly maxLength?: number;
}

const code = (address: string): string => `\`${address}\``;

function guardCell(summary: StackSummary, allowDestroy: boolean): string {
  if (summary.failure) return "plan failed";
  if (summary.protectedChanges.length === 0) return "ok";
  const count = `${summary.protectedChanges.length} protected`;
  return allowDestroy ? `allowed (${count}, '${OVERRIDE_LABEL}')` : `**blocked** (${count})`;
}

function row(summary: StackSummary, allowDestroy: boolean): string {
  const replaced = summary.replaced.length > 0 ? summary.replaced.map(code).join("<br>") : "—";
  const counts = summary.failure ? ["—", "—", "—"] : [summary.add, summary.change, summary.destroy];
  return `| ${code(summary.stack)} | ${counts.join(" | ")} | ${replaced} | ${guardCell(summary, allowDestroy)} |`;
}

function headline(summary: StackSummary): string {
  if (summary.failure) return `${summary.stack}: plan failed`;
  if (summary.add + summary.change + summary.destroy === 0) return `${summary.stack}: no changes`;
  return `${summary.stack}: ${summary.add} to add, ${summary.change} to change, ${summary.destroy} to destroy`;
}

function listing(title: string, addresses: readonly string[]): string[] {
  return addresses.length === 0 ? [] : [`**${title}** (${addresses.length}): ${addresses.map(code).join(", ")}`, ""];
}

/** Fences text so that no backtick run inside it can close the block. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}\n${text.trimEnd()}\n${fence}`;
}

function details(summary: StackSummary, textBudget: number): string {
  const body: string[] = [];
  for (const change of summary.protectedChanges) {
    body.push(`> **Protected:** ${code(change.address)} would be ${change.action === "replace" ? "replaced" : "deleted"}: ${change.reason}`, "");
  }
  body.push(
    ...listing("Replace", summary.replaced),
    ...listing("Destroy", summary.deleted),
    ...listing("Change", summary.updated),
    ...listing("Add", summary.created),
  );
  const full = summary.failure ?? summary.text;
  if (full !== undefined) {
    const cut = full.length > textBudget;
    body.push(fenced(cut ? full.slice(0, Math.max(0, textBudget)) : full));
    if (cut) body.push("", `_Cut at ${textBudget} of ${full.length} characters to fit the comment; the full plan is in the workflow run's artifacts._`);
  }
  return [`<details><summary>${headline(summary)}</summary>`, "", ...body, "", "</details>"].join("\n");
}

/**
 * The pull-request comment: a table of every stack's counts, then each plan
 * folded under its own <details>. The plans' text shares what is left of the
 * comment limit once the table and the resource lists are written.
 */
export function renderSummary(summaries: readonly StackSummary[], options: RenderOptions = {}): string {
  const allowDestroy = options.allowDestroy ?? false;
  const maxLength = options.maxLength ?? COMMENT_LIMIT;
  const blocked = summaries.filter((s) => s.protectedChanges.length > 0);
  const head = [
    COMMENT_MARKER,
    "## Terraform plan",
    "",
    "| Stack | Add | Change | Destroy | Replaced | Guard |",
    "| --- | ---: | ---: | ---: | --- | --- |",
    ...summaries.map((s) => row(s, allowDestroy)),
    "",
  ];
  if (blocked.length > 0 && !allowDestroy) {
    head.push(`Protected resources would be deleted or replaced in ${blocked.map((s) => code(s.stack)).join(", ")}. Add the label \`${OVERRIDE_LABEL}\` to the pull request if this is intended.`, "");
  }
  if (options.runUrl) head.push(`Plans of this commit: ${options.runUrl}`, "");
  const withoutText = [...head, ...summaries.map((s) => details(s, 0))].join("\n");
  const budgets = shareBudget(summaries, maxLength - withoutText.length);
  return [...head, ...summaries.map((s) => details(s, budgets.get(s) ?? 0))].join("\n") + "\n";
}

/**
 * Shares the characters left for plan text so that short plans stay whole and
 * the long ones split the rest evenly. 200 characters per plan are kept back
 * for the fence and the note of a cut plan.
 */
function shareBudget(summaries: readonly StackSummary[], available: number): Map<StackSummary, number> {
  const withText = summaries.filter((s) => (s.failure ?? s.text) !== undefined);
  const byLength = [...withText].sort((a, b) => (a.failure ?? a.text)!.length - (b.failure ?? b.text)!.length);
  let remaining = Math.max(0, available - 200 * withText.length);
  const budgets = new Map<StackSummary, number>();
  byLength.forEach((summary, i) => {
    const share = Math.floor(remaining / (byLength.length - i));
    const budget = Math.min((summary.failure ?? summary.text)!.length, share);
    budgets.set(summary, budget);
    remaining -= budget;
  });
  return budgets;
}
