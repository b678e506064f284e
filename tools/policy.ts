import { parse as parseYaml } from "yaml";
import { z } from "zod";

/**
 * The policy gate around Checkov: which failures are accepted (one committed
 * list, each entry with its reason), how a Checkov JSON report is split into
 * passed / failed / accepted, and which accepted entries no longer match
 * anything. Checkov's own `--skip-check` cannot say "this check, on these
 * stacks, for this reason", and skipped checks vanish from its report; here an
 * accepted failure stays visible and counted.
 */

export const FRAMEWORKS = ["terraform_json", "terraform_plan"] as const;
export type Framework = (typeof FRAMEWORKS)[number];

const pattern = z.string().regex(/^[A-Za-z0-9_.*\[\]-]+$/, { message: "letters, digits, '_', '-', '.', '[', ']' and '*' as a wildcard" });

const acceptedEntrySchema = z
  .object({
    /** Checkov check id, such as CKV_AWS_157 or CKV2_AZURE_57. */
    check: z.string().regex(/^CKV2?_[A-Z0-9]+_[0-9]+$/, { message: "a Checkov check id such as CKV_AWS_157" }),
    /** Stack ids or patterns (`*` matches any run of characters): `aws-*-data`. */
    stacks: z.array(pattern).min(1, { message: "at least one stack or pattern" }),
    /** Terraform logical id or pattern of the resource; every resource of the check when absent. */
    resource: pattern.optional(),
    /** Scans the entry applies to; both when absent. */
    frameworks: z.array(z.enum(FRAMEWORKS)).min(1).optional(),
    /** The failure appears with some configurations only (the reason says which): matching nothing is not stale. */
    optional: z.boolean().optional(),
    /** Why the failure is accepted: the trade-off, or why the check is wrong here. */
    reason: z.string().trim().min(20, { message: "a reason of at least 20 characters: why the failure is accepted" }),
  })
  .strict();

const acceptedFileSchema = z.object({ accepted: z.array(acceptedEntrySchema) }).strict();

export type AcceptedEntry = z.infer<typeof acceptedEntrySchema>;

export class AcceptedListError extends Error {}

/** Parses the accepted list; a bad entry fails with its index, field and what is allowed. */
export function parseAcceptedList(text: string, source = "accepted list"): AcceptedEntry[] {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new AcceptedListError(`${source}: not YAML: ${(error as Error).message}`);
  }
  const result = acceptedFileSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const at = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
      return `  ${at}: ${issue.message}`;
    });
    throw new AcceptedListError(`${source} is invalid:\n${problems.join("\n")}`);
  }
  return result.data.accepted;
}

function globMatches(glob: string, value: string): boolean {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`).test(value);
}

/**
 * The Terraform logical id of a Checkov resource: Checkov names it
 * `aws_kms_key.backup-key_3D56A38B`, `resource.postgres_instance_919E2690`
 * (synthesized JSON) or `module.x.aws_db_instance.name[0]` (plans).
 */
export function logicalId(resource: string): string {
  const parts = resource.split(".");
  return parts[parts.length - 1].replace(/\[[^\]]*\]$/, "");
}

export interface Finding {
  readonly check: string;
  readonly name: string;
  readonly resource: string;
}

export interface StackVerdict {
  readonly stack: string;
  readonly passed: number;
  /** Failures no entry accepts. */
  readonly failed: Finding[];
  readonly accepted: { finding: Finding; entry: AcceptedEntry }[];
}

function applies(entry: AcceptedEntry, stack: string, framework: Framework): boolean {
  return (entry.frameworks ?? FRAMEWORKS).includes(framework) && entry.stacks.some((glob) => globMatches(glob, stack));
}

function accepts(entry: AcceptedEntry, stack: string, framework: Framework, finding: Finding): boolean {
  return (
    entry.check === finding.check &&
    applies(entry, stack, framework) &&
    (entry.resource === undefined || globMatches(entry.resource, logicalId(finding.resource)))
  );
}

/** Splits one stack's failures into accepted and not accepted. */
export function judgeStack(stack: string, framework: Framework, passed: number, failures: Finding[], accepted: AcceptedEntry[]): StackVerdict {
  const verdict: StackVerdict = { stack, passed, failed: [], accepted: [] };
  for (const finding of failures) {
    const entry = accepted.find((candidate) => accepts(candidate, stack, framework, finding));
    if (entry) verdict.accepted.push({ finding, entry });
    else verdict.failed.push(finding);
  }
  return verdict;
}

/**
 * Entries that apply to one of the scanned stacks but accepted nothing there:
 * a fixed finding, a renamed resource or a typo. Only meaningful when every
 * stack an entry names was scanned with that framework.
 */
export function staleEntries(verdicts: StackVerdict[], framework: Framework, accepted: AcceptedEntry[]): AcceptedEntry[] {
  const used = new Set(verdicts.flatMap((verdict) => verdict.accepted.map(({ entry }) => entry)));
  return accepted.filter((entry) => !entry.optional && !used.has(entry) && verdicts.some((verdict) => applies(entry, verdict.stack, framework)));
}

/** The part of Checkov's `-o json` report read here. */
interface CheckovReport {
  readonly check_type?: string;
  readonly results?: { readonly failed_checks?: { check_id: string; check_name: string; resource: string }[] };
  readonly summary?: { readonly passed?: number; readonly failed?: number };
  /** A scan with no resources reports only its summary, at the top level. */
  readonly passed?: number;
}

/** Passed count and failures of a Checkov JSON report (one framework per run). */
export function readCheckovReport(text: string): { passed: number; failures: Finding[] } {
  let report: CheckovReport | CheckovReport[];
  try {
    report = JSON.parse(text);
  } catch {
    throw new Error(`Checkov did not print a JSON report; its output starts with: ${text.slice(0, 300)}`);
  }
  const reports = Array.isArray(report) ? report : [report];
  let passed = 0;
  const failures: Finding[] = [];
  for (const one of reports) {
    passed += one.summary?.passed ?? one.passed ?? 0;
    for (const check of one.results?.failed_checks ?? []) {
      failures.push({ check: check.check_id, name: check.check_name, resource: check.resource });
    }
  }
  return { passed, failures };
}

/** `<stack>: passed N, failed N, accepted N` */
export function verdictLine(verdict: StackVerdict): string {
  return `${verdict.stack}: passed ${verdict.passed}, failed ${verdict.failed.length}, accepted ${verdict.accepted.length}`;
}

/** A plain-text table of every stack, then the failures that are not accepted. */
export function verdictTable(verdicts: StackVerdict[]): string {
  const width = Math.max(5, ...verdicts.map((verdict) => verdict.stack.length));
  const row = (cells: (string | number)[]) =>
    `${String(cells[0]).padEnd(width)}  ${cells.slice(1).map((cell) => String(cell).padStart(8)).join("  ")}`;
  const lines = [row(["stack", "passed", "failed", "accepted"])];
  for (const verdict of verdicts) lines.push(row([verdict.stack, verdict.passed, verdict.failed.length, verdict.accepted.length]));
  const total = (pick: (verdict: StackVerdict) => number) => verdicts.reduce((sum, verdict) => sum + pick(verdict), 0);
  lines.push(row(["total", total((v) => v.passed), total((v) => v.failed.length), total((v) => v.accepted.length)]));
  return [...lines, ...failureLines(verdicts)].join("\n");
}

function failureLines(verdicts: StackVerdict[]): string[] {
  const failures = verdicts.flatMap((verdict) => verdict.failed.map((finding) => ({ stack: verdict.stack, finding })));
  if (failures.length === 0) return [];
  return ["", "Failures not accepted:", ...failures.map(({ stack, finding }) => `  ${stack}  ${finding.check}  ${finding.resource}  ${finding.name}`)];
}

/** A markdown section for a job summary or a pull-request comment. */
export function verdictMarkdown(verdict: StackVerdict): string {
  const status = verdict.failed.length === 0 ? "passed" : "FAILED";
  const lines = [
    `### Policy scan: ${verdict.stack} (${status})`,
    "",
    "| passed | failed | accepted |",
    "| ---: | ---: | ---: |",
    `| ${verdict.passed} | ${verdict.failed.length} | ${verdict.accepted.length} |`,
  ];
  if (verdict.failed.length > 0) {
    lines.push("", "| check | resource | title |", "| --- | --- | --- |");
    for (const finding of verdict.failed) lines.push(`| ${finding.check} | \`${finding.resource}\` | ${finding.name.replace(/\|/g, "\\|")} |`);
  }
  return `${lines.join("\n")}\n`;
}

export const ACCEPTED_TABLE_BEGIN = "<!-- accepted-failures:begin (generated from policy/checkov-accepted.yaml) -->";
export const ACCEPTED_TABLE_END = "<!-- accepted-failures:end -->";

/** The accepted list as the markdown table docs/security.md shows between its markers. */
export function acceptedTable(entries: AcceptedEntry[]): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();
  const lines = ["| check | stacks | resource | reason |", "| --- | --- | --- | --- |"];
  for (const entry of entries) {
    const frameworks = entry.frameworks ? ` (${entry.frameworks.join(", ")} only)` : "";
    lines.push(`| ${entry.check} | ${entry.stacks.map((s) => `\`${s}\``).join(", ")}${frameworks} | ${entry.resource ? `\`${entry.resource}\`` : "all"} | ${cell(entry.reason)} |`);
  }
  return [ACCEPTED_TABLE_BEGIN, ...lines, ACCEPTED_TABLE_END].join("\n");
}
