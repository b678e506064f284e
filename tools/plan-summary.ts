import { ACTION_VERBS, guardPlan, OVERRIDE_LABEL, type PlanJson, type ProtectedChange } from "./destroy-guard";

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
  /**
   * Stacks whose state or outputs the plan read before they exist: the plan
   * waits for them to be applied (set together with `failure`, the log).
   */
  readonly waitsFor?: string[];
  /** The job failed before `terraform plan`: the step it failed at, as far as known. */
  readonly beforePlan?: string;
  /** Checkov's counts on the plan, when it was scanned. */
  readonly checkov?: CheckovResult;
  /** The stack has no state yet: its first apply creates it. */
  readonly newStack?: boolean;
}

/** What `npm run policy` prints for one stack; `failed` counts failures not accepted. */
export interface CheckovResult {
  readonly passed: number;
  readonly failed: number;
  readonly accepted: number;
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

const EMPTY = { add: 0, change: 0, destroy: 0, created: [], updated: [], deleted: [], replaced: [], protectedChanges: [] };

/**
 * A stack whose plan failed, shown as a row of its own; a plan that failed
 * only for want of a dependency's state or output shows as waiting for it.
 */
export function failedPlan(stack: string, log: string): StackSummary {
  const waitsFor = planWaits(log);
  return { stack, ...EMPTY, failure: log, ...(waitsFor ? { waitsFor } : {}) };
}

/**
 * A stack whose plan was not made because stacks it reads have no state yet
 * (scripts/state-presence.ts asked the storage before Terraform ran).
 */
export function waitingPlan(stack: string, waitsFor: readonly string[]): StackSummary {
  const failure = `Not planned: ${waitsFor.join(", ")} ${waitsFor.length === 1 ? "has" : "have"} no state yet. The plan is made once ${waitsFor.length === 1 ? "it is" : "they are"} applied.`;
  return { stack, ...EMPTY, failure, waitsFor: [...waitsFor].sort() };
}

/** A stack of the matrix that has no plan: its job failed (or never ran) before `terraform plan`. */
export function failedBeforePlan(stack: string, step: string): StackSummary {
  return { stack, ...EMPTY, beforePlan: step };
}

/** cdktf reads another stack's outputs through `data.terraform_remote_state.cross-stack-reference-input-<stack>`. */
const REMOTE_STATE = /data\.terraform_remote_state\.cross-stack-reference-input-([A-Za-z0-9_-]+)/;

/**
 * The stacks a failed plan waits for, or undefined when anything else went
 * wrong. Two errors mean a dependency is not applied yet: "Unable to find
 * remote state" (its state does not exist: first rollout) and "Unsupported
 * attribute" on its remote state's outputs (the branch adds an output the
 * applied stack does not have yet). Any other error is a real failure.
 */
export function planWaits(log: string): string[] | undefined {
  const blocks = log.split(/^[│╷\s]*Error: /m).slice(1);
  if (blocks.length === 0) return undefined;
  const stacks = new Set<string>();
  for (const block of blocks) {
    // The "with <address>," line names the data source; the quoted source line may name others.
    const missingState = block.startsWith("Unable to find remote state") ? new RegExp(`^\\s*with ${REMOTE_STATE.source},`, "m").exec(block) : null;
    const missingOutput = block.startsWith("Unsupported attribute")
      ? new RegExp(`${REMOTE_STATE.source}\\.outputs is object with`).exec(block)
      : null;
    const match = missingState ?? missingOutput;
    if (!match) return undefined;
    stacks.add(match[1]);
  }
  return [...stacks].sort();
}

/** The counts in `<stack>: passed N, failed N, accepted N`, the line `npm run policy` prints. */
export function parseCheckov(stack: string, output: string): CheckovResult | undefined {
  const escaped = stack.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`^${escaped}: passed (\\d+), failed (\\d+), accepted (\\d+)`, "m").exec(output);
  return match ? { passed: Number(match[1]), failed: Number(match[2]), accepted: Number(match[3]) } : undefined;
}

/** A step of the terraform-stack action: its id and its display name. */
export interface ActionStep {
  readonly id?: string;
  readonly name?: string;
}

/**
 * The first step, in the action's order, whose recorded outcome is a failure
 * (`outcomes` is the action's `steps` context: id to outcome), by its name.
 */
export function firstFailedStep(stack: string, steps: readonly ActionStep[], outcomes: Record<string, string>): string | undefined {
  const failed = steps.find((step) => step.id !== undefined && outcomes[step.id] === "failure");
  if (!failed) return undefined;
  return (failed.name ?? failed.id!).replace(/\$\{\{\s*inputs\.stack\s*\}\}/g, stack);
}

/** A job of the workflow run, as GitHub's API lists it. */
export interface RunJob {
  readonly name: string;
  readonly status?: string;
  readonly conclusion: string | null;
  readonly steps?: readonly { readonly name: string; readonly conclusion: string | null }[];
}

/**
 * Why a stack's job left no result, from the run's jobs: the step it failed
 * at (checkout, npm ci...), or that it was cancelled, skipped or never started.
 */
export function jobFailure(stack: string, jobs: readonly RunJob[]): string {
  const job = jobs.find((candidate) => candidate.name === `Plan ${stack}`);
  if (!job) return "no job ran";
  const step = job.steps?.find((candidate) => candidate.conclusion === "failure");
  if (step) return step.name;
  if (job.conclusion === "cancelled" || job.conclusion === "skipped") return `job ${job.conclusion}`;
  return "no result; see the run";
}

export interface RenderOptions {
  /** The pull request carries the override label. */
  readonly allowDestroy?: boolean;
  /** Links the workflow run that holds the full plans. */
  readonly runUrl?: string;
  /** @default 65,000 characters, under GitHub's comment limit */
  readonly maxLength?: number;
  /** The commit the plans were made from: a comment never reads as the plans of another push. */
  readonly commit?: string;
}

const code = (address: string): string => `\`${address}\``;

function guardCell(summary: StackSummary, allowDestroy: boolean): string {
  if (summary.beforePlan !== undefined) return `failed before plan: ${summary.beforePlan}`;
  if (summary.waitsFor) return `waits for ${summary.waitsFor.map(code).join(", ")}`;
  if (summary.failure) return "plan failed";
  if (summary.protectedChanges.length === 0) return "ok";
  const count = `${summary.protectedChanges.length} protected`;
  return allowDestroy ? `allowed (${count}, '${OVERRIDE_LABEL}')` : `**blocked** (${count})`;
}

function checkovCell(summary: StackSummary): string {
  const result = summary.checkov;
  if (!result) return "—";
  const counts = `passed ${result.passed}, accepted ${result.accepted}`;
  return result.failed > 0 ? `**failed ${result.failed}** (${counts})` : counts;
}

const planned = (summary: StackSummary): boolean => summary.failure === undefined && summary.beforePlan === undefined;

function row(summary: StackSummary, allowDestroy: boolean): string {
  const replaced = summary.replaced.length > 0 ? summary.replaced.map(code).join("<br>") : "—";
  const counts = planned(summary) ? [summary.add, summary.change, summary.destroy] : ["—", "—", "—"];
  const stack = summary.newStack ? `${code(summary.stack)} (new stack)` : code(summary.stack);
  return `| ${stack} | ${counts.join(" | ")} | ${replaced} | ${guardCell(summary, allowDestroy)} | ${checkovCell(summary)} |`;
}

function headline(summary: StackSummary): string {
  const text = headlineText(summary);
  return summary.newStack ? text.replace(`${summary.stack}: `, `${summary.stack} (new stack): `) : text;
}

function headlineText(summary: StackSummary): string {
  if (summary.beforePlan !== undefined) return `${summary.stack}: failed before plan, at ${summary.beforePlan}`;
  if (summary.waitsFor) return `${summary.stack}: waits for ${summary.waitsFor.join(", ")}`;
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
    body.push(`> **Protected:** ${code(change.address)} would be ${ACTION_VERBS[change.action]}: ${change.reason}`, "");
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
    ...(options.commit ? [`Plans of commit \`${options.commit}\`${options.runUrl ? ` ([run](${options.runUrl}))` : ""}.`, ""] : []),
    "| Stack | Add | Change | Destroy | Replaced | Guard | Checkov |",
    "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ...summaries.map((s) => row(s, allowDestroy)),
    "",
  ];
  if (blocked.length > 0 && !allowDestroy) {
    head.push(`Protected resources would be deleted or replaced in ${blocked.map((s) => code(s.stack)).join(", ")}. If this is intended, someone with write, maintain or admin rights adds the label \`${OVERRIDE_LABEL}\` after the last push (it holds for that commit only).`, "");
  }
  const waiting = summaries.filter((s) => s.waitsFor);
  if (waiting.length > 0) {
    head.push(
      `Not planned yet: ${waiting.map((s) => code(s.stack)).join(", ")} read stacks that are not applied yet (or not with this branch's outputs); they are planned and applied in order after the merge.`,
      "",
    );
  }
  if (options.runUrl && !options.commit) head.push(`Plans of this commit: ${options.runUrl}`, "");
  const fresh = summaries.filter((s) => s.newStack);
  if (fresh.length > 0) {
    head.push(`New stacks (no state yet; their first apply creates everything): ${fresh.map((s) => code(s.stack)).join(", ")}.`, "");
  }
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
