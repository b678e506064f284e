import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { overrideDecision, type OverrideEvidence } from "../tools/destroy-override";
import { jobDir, type JobDir } from "./support/job-dir";
import { evaluate, parsedWorkflow, runGithubScript, runScript, strings, WORKFLOW_FILES } from "./support/workflows";

/**
 * The destroy guard's override, the `allow-destroy` label, holds only when
 * someone with write, maintain or admin rights added it (triage rights let a
 * user label), while the pull request was open, after the commit that is
 * planned or deployed was pushed; a re-run or a manual run of the deploy
 * never carries it.
 */

const HEAD = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const MERGE = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const labeled = (login: string, at: string, event = "labeled") => ({ event, label: { name: "allow-destroy" }, actor: { login }, created_at: at });

function evidence(change: Partial<OverrideEvidence> = {}): OverrideEvidence {
  return {
    run: { event: "push", attempt: 1 },
    pull: { number: 42, state: "closed", merged_at: "2026-07-01T12:00:00Z", head_sha: HEAD },
    events: [labeled("maria", "2026-07-01T11:00:00Z")],
    permissions: { maria: "write" },
    headPlannedAt: "2026-07-01T10:00:00Z",
    ...change,
  };
}

describe("when the override holds", () => {
  it("a label by someone with write rights (maintain reads as write), after the deployed commit was pushed, before the merge", () => {
    expect(overrideDecision(evidence(), "deploy")).toEqual({ allowed: true, reason: "'allow-destroy' added by @maria (write) to #42 for commit 4b825dc" });
    expect(overrideDecision(evidence({ permissions: { maria: "admin" } }), "deploy").allowed).toBe(true);
  });

  it("not by someone with triage or read rights, nor by someone who is no longer a collaborator", () => {
    expect(overrideDecision(evidence({ permissions: { maria: "read" } }), "deploy")).toEqual({
      allowed: false,
      reason: "'allow-destroy' does not apply: @maria added it with read rights; only write, maintain or admin rights count",
    });
    expect(overrideDecision(evidence({ permissions: {} }), "deploy").reason).toContain("with none rights");
  });

  it("not when the label came after the merge (the re-run of an old deploy), or was removed before it", () => {
    expect(overrideDecision(evidence({ events: [labeled("maria", "2026-07-01T12:05:00Z")] }), "deploy").reason).toBe(
      "'allow-destroy' does not apply: pull request #42 did not carry the label when it was merged",
    );
    const removed = [labeled("maria", "2026-07-01T11:00:00Z"), labeled("maria", "2026-07-01T11:30:00Z", "unlabeled")];
    expect(overrideDecision(evidence({ events: removed }), "deploy").allowed).toBe(false);
    const removedAfter = [labeled("maria", "2026-07-01T11:00:00Z"), labeled("maria", "2026-07-01T12:30:00Z", "unlabeled")];
    expect(overrideDecision(evidence({ events: removedAfter }), "deploy").allowed).toBe(true);
  });

  it("only for the commit that was planned: a push after the label needs the label again", () => {
    expect(overrideDecision(evidence({ headPlannedAt: "2026-07-01T11:10:00Z" }), "deploy").reason).toBe(
      "'allow-destroy' does not apply: @maria added it before commit 4b825dc was pushed and planned; remove the label and add it again for this commit",
    );
  });

  it("never for a re-run or a manual run of the deploy", () => {
    expect(overrideDecision(evidence({ run: { event: "push", attempt: 2 } }), "deploy").reason).toBe("'allow-destroy' does not apply: attempt 2 of the run: a re-run does not reuse it");
    expect(overrideDecision(evidence({ run: { event: "workflow_dispatch", attempt: 1 } }), "deploy").allowed).toBe(false);
  });

  it("on a pull request: only while it is open, with the same rules", () => {
    const open = { number: 42, state: "open", merged_at: null, head_sha: HEAD };
    expect(overrideDecision(evidence({ run: { event: "pull_request", attempt: 3 }, pull: open }), "pull-request").allowed).toBe(true);
    expect(overrideDecision(evidence({ run: { event: "pull_request", attempt: 1 }, pull: { ...open, state: "closed" } }), "pull-request").reason).toBe(
      "'allow-destroy' does not apply: pull request #42 is closed",
    );
    expect(overrideDecision(evidence({ pull: open, permissions: { maria: "read" } }), "pull-request").allowed).toBe(false);
  });
});

/** GitHub's REST client as actions/github-script hands it to a script, answering from fixed data. */
function fakeGithub(data: { pulls: any[]; events: any[]; permissions: Record<string, string>; runs: any[] }) {
  const calls: string[] = [];
  const route = (name: string, answer: (params: any) => any) => async (params: any) => {
    calls.push(`${name} ${JSON.stringify(params)}`);
    return { data: answer(params) };
  };
  const rest = {
    pulls: { get: route("pulls.get", ({ pull_number }) => data.pulls.find((pull) => pull.number === pull_number)) },
    repos: {
      listPullRequestsAssociatedWithCommit: route("repos.listPullRequestsAssociatedWithCommit", ({ commit_sha }) =>
        data.pulls.filter((pull) => pull.merge_commit_sha === commit_sha || pull.head.sha === commit_sha),
      ),
      getCollaboratorPermissionLevel: async ({ username }: any) => {
        calls.push(`repos.getCollaboratorPermissionLevel ${username}`);
        if (!(username in data.permissions)) throw Object.assign(new Error("Not Found"), { status: 404 });
        return { data: { permission: data.permissions[username] } };
      },
    },
    issues: { listEvents: route("issues.listEvents", () => data.events) },
    actions: { listWorkflowRuns: route("actions.listWorkflowRuns", () => data.runs) },
  };
  const paginate = async (method: (params: any) => Promise<{ data: any }>, params: any) => (await method(params)).data;
  return { github: { rest, paginate }, calls };
}

describe("the workflows read the evidence from GitHub's API and judge it", () => {
  let job: JobDir;
  beforeEach(() => {
    job = jobDir();
  });
  afterEach(() => job.cleanup());

  const merged = { number: 42, state: "closed", merged_at: "2026-07-01T12:00:00Z", merge_commit_sha: MERGE, head: { sha: HEAD }, labels: [{ name: "allow-destroy" }] };
  const events = [
    { event: "labeled", label: { name: "documentation" }, actor: { login: "maria" }, created_at: "2026-07-01T09:00:00Z" },
    { event: "labeled", label: { name: "allow-destroy" }, actor: { login: "tom" }, created_at: "2026-07-01T11:00:00Z" },
  ];
  const runs = [{ created_at: "2026-07-01T10:30:00Z" }, { created_at: "2026-07-01T10:00:00Z" }];

  /** The deploy's two steps: the github-script that gathers, and the decision script, as the runner runs them. */
  async function deployOverride(permissions: Record<string, string>, run: { event: string; attempt: number } = { event: "push", attempt: 1 }) {
    const steps: any[] = parsedWorkflow("deploy.yml").jobs.prepare.steps;
    const gather = steps.find((step) => step.name === "Who added allow-destroy to the merged pull request, and when");
    const decide = steps.find((step) => step.id === "override");
    const { github, calls } = fakeGithub({ pulls: [merged], events, permissions, runs });
    const context = { repo: { owner: "acme", repo: "platform" }, sha: MERGE, eventName: run.event, runAttempt: run.attempt, payload: {} };
    process.env.GITHUB_RUN_ATTEMPT = String(run.attempt);
    try {
      await runGithubScript(gather.with.script, { github, context, cwd: job.dir });
    } finally {
      delete process.env.GITHUB_RUN_ATTEMPT;
    }
    const result = runScript(decide.run, {}, { cwd: job.dir, path: job.path });
    return { result, calls, gathered: JSON.parse(readFileSync(path.join(job.dir, "override.json"), "utf8")) };
  }

  it("the deploy asks who added the label and with which rights, and when the head commit was planned", async () => {
    const { result, calls, gathered } = await deployOverride({ tom: "write" });
    expect(result.outputs).toEqual({ "allow-destroy": "true" });
    expect(gathered).toEqual({
      run: { event: "push", attempt: 1 },
      pull: { number: 42, state: "closed", merged_at: "2026-07-01T12:00:00Z", head_sha: HEAD },
      events: [{ event: "labeled", label: { name: "allow-destroy" }, actor: { login: "tom" }, created_at: "2026-07-01T11:00:00Z" }],
      permissions: { tom: "write" },
      headPlannedAt: "2026-07-01T10:00:00Z",
    });
    expect(calls).toContain(`actions.listWorkflowRuns {"owner":"acme","repo":"platform","workflow_id":"plan.yml","head_sha":"${HEAD}","per_page":100}`);
  });

  it("a label from a user with triage rights does not let the deploy delete, though the pull request carries it", async () => {
    const { result } = await deployOverride({ tom: "read" });
    expect(result.outputs).toEqual({ "allow-destroy": "false" });
    expect(result.stdout).toContain("::notice title=allow-destroy::'allow-destroy' does not apply: @tom added it with read rights");
  });

  it("a re-run of the deploy does not reuse it", async () => {
    const { result } = await deployOverride({ tom: "write" }, { event: "push", attempt: 2 });
    expect(result.outputs).toEqual({ "allow-destroy": "false" });
  });

  it("when GitHub's API cannot be read, the deploy goes on without the override", () => {
    const steps: any[] = parsedWorkflow("deploy.yml").jobs.prepare.steps;
    const gather = steps.find((step) => step.name === "Who added allow-destroy to the merged pull request, and when");
    expect(String(gather["continue-on-error"])).toBe("true");
    const result = runScript(steps.find((step) => step.id === "override").run, {}, { cwd: job.dir, path: job.path });
    expect(result.status).toBe(0);
    expect(result.outputs).toEqual({ "allow-destroy": "false" });
    expect(result.stdout).toContain("its evidence could not be read from GitHub's API");
  });

  it("no workflow reads the label from the pull request's current labels", () => {
    for (const file of WORKFLOW_FILES()) {
      expect({ file, reads: strings(parsedWorkflow(file)).filter((text) => /labels\.\*\.name|\.labels\b/.test(text)) }).toEqual({ file, reads: [] });
    }
  });

  it("the jobs that read the evidence may read pull requests and runs, nothing more", () => {
    for (const file of ["plan.yml", "deploy.yml"]) {
      expect(parsedWorkflow(file).jobs.prepare.permissions).toEqual({ contents: "read", "pull-requests": "read", actions: "read" });
    }
  });

  it("the pull request's plans use the same judgement, for the open pull request of the event", async () => {
    const steps: any[] = parsedWorkflow("plan.yml").jobs.prepare.steps;
    const gather = steps.find((step) => step.name === "Who added allow-destroy, and when");
    expect(evaluate(gather.if, { steps: { fork: { outputs: { cloud: "false" } } } })).toBe(false);
    const open = { ...merged, state: "open", merged_at: null, merge_commit_sha: null };
    // Maintain rights read as write in GitHub's permission field.
    const { github } = fakeGithub({ pulls: [open], events, permissions: { tom: "write" }, runs });
    await runGithubScript(gather.with.script, { github, context: { repo: { owner: "acme", repo: "platform" }, eventName: "pull_request", payload: { pull_request: { number: 42 } } }, cwd: job.dir });
    const decide = steps.find((step) => step.id === "override");
    const result = runScript(decide.run, {}, { cwd: job.dir, path: job.path });
    expect(result.outputs).toEqual({ "allow-destroy": "true" });
  });
});
