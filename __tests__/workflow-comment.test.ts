import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { COMMENT_MARKER, renderSummary, summarizePlan } from "../tools/plan-summary";
import { jobDir, type JobDir } from "./support/job-dir";
import { evaluate, parsedWorkflow, pullRequestEvent, runGithubScript, stepEnv } from "./support/workflows";

/**
 * The pull-request comment always names the commit its plans belong to, and
 * when the tests or the synth of a push fail it says so for that commit
 * instead of leaving the plans of an older push in place.
 */

const HEAD = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const comment = () => parsedWorkflow("plan.yml").jobs.comment;
const step = (name: string) => comment().steps.find((s: any) => s.name === name);

describe("the comment job runs also when the tests or the synth failed", () => {
  const contexts = (result: string, cloud = "", fork = false) => ({ ...pullRequestEvent("synchronize", { fork }), needs: { prepare: { result, outputs: { cloud } } } });

  it("for a pull request of this repository, not for a fork's nor after an ignored label", () => {
    expect(evaluate(comment().if, contexts("failure"))).toBe(true);
    expect(evaluate(comment().if, contexts("failure", "", true))).toBe(false);
    expect(evaluate(comment().if, contexts("skipped"))).toBe(false);
    expect(evaluate(comment().if, contexts("success", "true"))).toBe(true);
    expect(evaluate(comment().if, contexts("success", "false", true))).toBe(false);
  });

  it("the failure path uses nothing of the repository's code: no checkout, no install", () => {
    for (const s of comment().steps) {
      const runsOnFailure = evaluate(String(s.if ?? "success()").replace(/^\$\{\{([\s\S]*)\}\}$/, "$1"), contexts("failure"));
      const usesCode = String(s.uses ?? "").startsWith("actions/checkout@") || /npm|npx/.test(String(s.run ?? ""));
      expect({ step: s.name ?? s.uses ?? s.run, usesCodeOnFailure: Boolean(runsOnFailure && usesCode) }).toEqual({ step: s.name ?? s.uses ?? s.run, usesCodeOnFailure: false });
    }
  });
});

describe("the failure comment, written as the job writes it", () => {
  let job: JobDir;
  beforeEach(() => {
    job = jobDir();
  });
  afterEach(() => job.cleanup());

  async function failureComment(jobs: unknown[]): Promise<{ body: string; updated: unknown[] }> {
    writeFileSync(path.join(job.dir, "jobs.json"), JSON.stringify(jobs));
    const failure = step("No plans for this commit");
    const env = stepEnv(failure, { github: { event: { pull_request: { head: { sha: HEAD } } }, server_url: "https://github.com", repository: "acme/platform", run_id: 7001 } });
    Object.assign(process.env, env);
    try {
      await runGithubScript(failure.with.script, { cwd: job.dir, core: { summary: { addRaw: () => ({ write: async () => undefined }) } } });
    } finally {
      for (const key of Object.keys(env)) delete process.env[key];
    }
    const body = readFileSync(path.join(job.dir, "plan-summary.md"), "utf8");
    const updated: unknown[] = [];
    const github = {
      paginate: async () => [{ id: 5, user: { type: "Bot" }, body: `${COMMENT_MARKER}\n## Terraform plan\n\nPlans of commit \`0000000\`...` }],
      rest: {
        issues: {
          listComments: async () => ({ data: [] }),
          updateComment: async (params: unknown) => updated.push(params),
          createComment: async () => {
            throw new Error("the existing comment must be updated");
          },
        },
      },
    };
    await runGithubScript(step("Create or update the pull-request comment").with.script, { github, context: { repo: { owner: "acme", repo: "platform" }, issue: { number: 42 } }, cwd: job.dir });
    return { body, updated };
  }

  it("replaces the old plans with the failure, the commit and the step that failed", async () => {
    const { body, updated } = await failureComment([{ name: "Test and synthesize", status: "completed", conclusion: "failure", steps: [{ name: "Run npm ci", conclusion: "success" }, { name: "Run npm test", conclusion: "failure" }] }]);
    expect(body.split("\n")[0]).toBe(COMMENT_MARKER);
    expect(body).toContain(`**No plans for commit \`${HEAD}\`**: *Test and synthesize* failed at *Run npm test* ([run](https://github.com/acme/platform/actions/runs/7001)).`);
    expect(updated).toEqual([{ owner: "acme", repo: "platform", comment_id: 5, body }]);
  });

  it("still says which commit failed when the run's jobs could not be read", async () => {
    const { body } = await failureComment([]);
    expect(body).toContain(`**No plans for commit \`${HEAD}\`**: *Test and synthesize* failed ([run](`);
  });
});

describe("the plans comment names its commit", () => {
  it("the summary is rendered for the pull request's head commit", () => {
    const summarize = step("Summarize the plans");
    expect(summarize.env.COMMIT).toBe("${{ github.event.pull_request.head.sha }}");
    expect(summarize.run).toContain('--commit "$COMMIT"');
  });

  it("the commit heads the comment, with the run that made the plans", () => {
    const markdown = renderSummary([summarizePlan("aws-platform", { resource_changes: [] })], { commit: HEAD, runUrl: "https://github.com/acme/platform/actions/runs/7001" });
    expect(markdown.split("\n").slice(0, 4)).toEqual([COMMENT_MARKER, "## Terraform plan", "", `Plans of commit \`${HEAD}\` ([run](https://github.com/acme/platform/actions/runs/7001)).`]);
  });
});
