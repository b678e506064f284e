import { OVERRIDE_LABEL } from "./destroy-guard";

/**
 * Whether the destroy guard's override holds: the `allow-destroy` label
 * counts only when someone with write, maintain or admin rights added it,
 * while the pull request was open, after the commit that is deployed was
 * pushed (so the person saw that commit's plan), and, for a deploy, only in
 * the first attempt of the run the merge started. Triage rights let a user
 * label pull requests; they do not let the label delete data.
 */

/** A labeled/unlabeled event of the pull request, as GitHub's issue events API lists it. */
export interface LabelEvent {
  readonly event: string;
  readonly label?: { readonly name: string } | null;
  readonly actor?: { readonly login: string } | null;
  readonly created_at: string;
}

/** What the workflows read from GitHub's API (scripts/override-evidence.cjs). */
export interface OverrideEvidence {
  /** The run: its event and attempt (`github.event_name`, `github.run_attempt`). */
  readonly run: { readonly event: string; readonly attempt: number };
  /** The pull request, or null when the commit belongs to none. */
  readonly pull: { readonly number: number; readonly state: string; readonly merged_at: string | null; readonly head_sha: string } | null;
  /** Its labeled and unlabeled events. */
  readonly events: readonly LabelEvent[];
  /** Repository permission (`admin`, `write`, `read`, `none`) of each user who labeled it; maintain reads `write`. */
  readonly permissions: Readonly<Record<string, string>>;
  /** When the first plan run of the pull request's head commit was created (its push), or null. */
  readonly headPlannedAt: string | null;
}

export interface OverrideDecision {
  readonly allowed: boolean;
  /** One line for the run's log and summary. */
  readonly reason: string;
}

/** `permission` of GitHub's "Get repository permissions for a user": maintain maps to write, triage to read. */
const WRITERS = new Set(["admin", "write"]);

const time = (iso: string): number => Date.parse(iso);

const no = (reason: string): OverrideDecision => ({ allowed: false, reason: `'${OVERRIDE_LABEL}' does not apply: ${reason}` });

/**
 * The override's verdict for a pull-request plan (`pull-request`: the pull
 * request must be open) or for the deploy of its merge (`deploy`: events up
 * to the merge only, the push's first run attempt only).
 */
export function overrideDecision(evidence: OverrideEvidence, at: "pull-request" | "deploy"): OverrideDecision {
  if (at === "deploy") {
    if (evidence.run.event !== "push") return no(`a ${evidence.run.event} run never carries it; only the deploy a merge starts does`);
    if (evidence.run.attempt !== 1) return no(`attempt ${evidence.run.attempt} of the run: a re-run does not reuse it`);
  }
  const pull = evidence.pull;
  if (!pull) return no("the commit belongs to no merged pull request");
  const cutoff = at === "deploy" ? pull.merged_at : null;
  if (at === "deploy" && !cutoff) return no(`pull request #${pull.number} is not merged`);
  if (at === "pull-request" && pull.state !== "open") return no(`pull request #${pull.number} is ${pull.state}`);
  const events = evidence.events
    .filter((event) => (event.event === "labeled" || event.event === "unlabeled") && event.label?.name === OVERRIDE_LABEL)
    .filter((event) => cutoff === null || time(event.created_at) <= time(cutoff))
    .sort((a, b) => time(a.created_at) - time(b.created_at));
  const last = events.at(-1);
  if (!last || last.event !== "labeled") return no(`pull request #${pull.number} did not carry the label${cutoff ? " when it was merged" : ""}`);
  const login = last.actor?.login;
  if (!login) return no("the label's author is unknown");
  const permission = evidence.permissions[login] ?? "none";
  if (!WRITERS.has(permission)) return no(`@${login} added it with ${permission} rights; only write, maintain or admin rights count`);
  if (!evidence.headPlannedAt || time(last.created_at) < time(evidence.headPlannedAt)) {
    return no(`@${login} added it before commit ${pull.head_sha.slice(0, 7)} was pushed and planned; remove the label and add it again for this commit`);
  }
  return { allowed: true, reason: `'${OVERRIDE_LABEL}' added by @${login} (${permission}) to #${pull.number} for commit ${pull.head_sha.slice(0, 7)}` };
}
