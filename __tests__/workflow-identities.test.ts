import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readSubject, subjectReport } from "../tools/oidc-subject";
import { tsxScript } from "./support/environment";
import { synthesize } from "./support/synth";
import { evaluate, parsedAction, parsedWorkflow, ROOT, runnerJobs, runScript, stepEnv, strings, WORKFLOW_FILES } from "./support/workflows";

/**
 * Which identity each job signs in with, which OIDC subject it presents,
 * and how the Azure cluster credential stays fresh through a long apply.
 */

const docs = () => readFileSync(path.join(ROOT, "docs/workflows.md"), "utf8");
const rowOf = (variable: string) => docs().split("\n").find((line) => line.startsWith(`| \`${variable}\``)) ?? "";

/** The jobs (file and job id) whose steps read a repository or environment variable. */
function readersOf(variable: string): string[] {
  return WORKFLOW_FILES().flatMap((file) =>
    Object.entries<any>(parsedWorkflow(file).jobs)
      .filter(([, job]) => strings(job).some((text) => text.includes(`vars.${variable}`)))
      .map(([id]) => `${file} ${id}`),
  );
}

describe("the review of main has its own identity; the plan identity serves pull requests only", () => {
  it("the plan identity is read by the pull requests' plan job alone", () => {
    expect(readersOf("AWS_PLAN_ROLE_ARN")).toEqual(["plan.yml plan"]);
    expect(readersOf("AZURE_PLAN_CLIENT_ID")).toEqual(["plan.yml plan"]);
    expect(parsedWorkflow("plan.yml").on).toEqual({ pull_request: expect.anything() });
  });

  it("the review identity is read by the review job and the doctor alone, which run only for pushes to main and manual runs", () => {
    expect(readersOf("AWS_REVIEW_ROLE_ARN")).toEqual(["deploy-layer.yml review", "doctor.yml doctor"]);
    expect(readersOf("AZURE_REVIEW_CLIENT_ID")).toEqual(["deploy-layer.yml review", "doctor.yml doctor"]);
    const deploy = parsedWorkflow("deploy.yml");
    expect(Object.keys(deploy.on).sort()).toEqual(["push", "workflow_dispatch"]);
    expect(deploy.on.push).toEqual({ branches: ["main"] });
    // Outside an environment: its token's subject is the branch's, which only main's trust matches.
    expect(parsedWorkflow("deploy-layer.yml").jobs.review.environment).toBeUndefined();
  });

  /** The subjects a row of the docs' identity table trusts, in either of GitHub's forms. */
  const subjects = (row: string) => [...row.matchAll(/`repo:<owner>(?:@<owner-id>)?\/<repo>(?:@<repo-id>)?:([^`]+)`/g)].map((m) => m[1]);

  it("the docs' table gives each identity the one kind of job that uses it", () => {
    expect(subjects(rowOf("AWS_PLAN_ROLE_ARN"))).toEqual(["pull_request"]);
    expect(subjects(rowOf("AWS_REVIEW_ROLE_ARN"))).toEqual(["ref:refs/heads/main"]);
    expect(rowOf("AZURE_PLAN_CLIENT_ID")).toMatch(/pull.request/i);
    expect(rowOf("AZURE_PLAN_CLIENT_ID")).not.toMatch(/refs\/heads\/main|Branch/);
    expect(rowOf("AZURE_REVIEW_CLIENT_ID")).toMatch(/refs\/heads\/main|Branch\* `main`/);
    expect(rowOf("AZURE_REVIEW_CLIENT_ID")).not.toMatch(/pull_request|Pull request|environment:production/);
  });

  it("every identity variable a workflow reads has its row in the docs' table", () => {
    const variables = new Set(WORKFLOW_FILES().flatMap((file) => strings(parsedWorkflow(file)).flatMap((text) => [...text.matchAll(/vars\.((?:AWS|AZURE)_\w+_(?:ROLE_ARN|CLIENT_ID))/g)].map((m) => m[1]))));
    expect([...variables].sort()).toEqual([
      "AWS_DEPLOY_ROLE_ARN", "AWS_PLAN_ROLE_ARN", "AWS_PRODUCTION_ROLE_ARN", "AWS_REVIEW_ROLE_ARN",
      "AZURE_DEPLOY_CLIENT_ID", "AZURE_PLAN_CLIENT_ID", "AZURE_PRODUCTION_CLIENT_ID", "AZURE_REVIEW_CLIENT_ID",
    ]);
    for (const variable of variables) expect({ variable, row: rowOf(variable) !== "" }).toEqual({ variable, row: true });
  });
});

describe("OIDC subjects: the name form and the immutable form", () => {
  const claims = { repository: "acme/platform-infra", repository_id: "456789", repository_owner_id: "123456" };

  it("reads the name form, and the immutable form whichever separator GitHub prints", () => {
    expect(readSubject({ ...claims, sub: "repo:acme/platform-infra:pull_request" })).toEqual({
      sub: "repo:acme/platform-infra:pull_request", format: "name", prefix: "repo:acme/platform-infra", context: "pull_request",
    });
    // The form of GitHub's OIDC reference, and the one of its changelog (2026-04-23).
    for (const prefix of ["repo:acme@123456/platform-infra@456789", "repo:acme-123456/platform-infra-456789"]) {
      expect(readSubject({ ...claims, sub: `${prefix}:environment:production` })).toEqual({ sub: `${prefix}:environment:production`, format: "immutable", prefix, context: "environment:production" });
    }
    expect(readSubject({ ...claims, sub: "repo:acme/platform-infra:workflow:deploy" }).format).toBe("name");
    expect(readSubject({ ...claims, sub: "job_workflow_ref:acme/x/.github/workflows/d.yml@refs/heads/main" }).format).toBe("custom");
  });

  it("tells what to trust, verbatim", () => {
    const report = subjectReport(readSubject({ ...claims, sub: "repo:acme@123456/platform-infra@456789:ref:refs/heads/main" }), "aws");
    expect(report).toEqual([
      "This job's OIDC subject is repo:acme@123456/platform-infra@456789:ref:refs/heads/main (immutable form, with the owner and repository ids).",
      "Trust exactly this subject in the role's trust policy condition token.actions.githubusercontent.com:sub; the other jobs' subjects begin with the same repo:acme@123456/platform-infra@456789.",
    ]);
  });

  it("a job whose sign-in failed prints its token's subject, never the token", async () => {
    const payload = { sub: "repo:acme@123456/platform-infra@456789:pull_request", repository: "acme/platform-infra", repository_id: "456789", repository_owner_id: "123456" };
    const token = ["eyJhbGciOiJSUzI1NiJ9", Buffer.from(JSON.stringify(payload)).toString("base64url"), "c2lnbmF0dXJl"].join(".");
    const requests: string[] = [];
    const server = createServer((request, response) => {
      requests.push(`${request.url} ${request.headers.authorization}`);
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ value: token }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/idtoken?api-version=2.0`;
    try {
      const child = spawn(process.execPath, tsxScript("scripts/oidc-subject.ts", "--cloud", "aws"), {
        env: { ...process.env, ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token", GITHUB_STEP_SUMMARY: "" },
      });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expect(status).toBe(0);
      expect(output).toContain("::notice title=OIDC subject::This job's OIDC subject is repo:acme@123456/platform-infra@456789:pull_request (immutable form");
      expect(output).not.toContain(token.split(".")[1]);
      expect(requests).toEqual(["/idtoken?api-version=2.0&audience=sts.amazonaws.com bearer request-token"]);
    } finally {
      server.close();
    }
  }, 30_000);

  it("the action prints it only after a failed cloud sign-in, and it never fails the job by itself", () => {
    const step = parsedAction().runs.steps.find((s: any) => s.id === "oidc-subject");
    expect(String(step["continue-on-error"])).toBe("true");
    const when = (outcome: string, failure: boolean) => evaluate(step.if, { steps: { "aws-credentials": { outcome }, "azure-login": { outcome: "skipped" } } }, { failure });
    expect(when("failure", true)).toBe(true);
    expect(when("success", true)).toBe(false);
    expect(when("success", false)).toBe(false);
    expect(stepEnv(step, { inputs: { stack: "azure-develop" } })).toEqual({ CLOUD: "azure" });
    expect(stepEnv(step, { inputs: { stack: "aws-develop" } })).toEqual({ CLOUD: "aws" });
  });

  it("the docs show both forms and how to read the repository's own", () => {
    const text = docs();
    const section = text.slice(text.indexOf("### Which subject your repository has"), text.indexOf("\n## ", text.indexOf("### Which subject your repository has")));
    expect(section).toContain("repo:<owner>/<repo>:pull_request");
    expect(section).toMatch(/repo:<owner>@<owner-id>\/<repo>@<repo-id>:pull_request/);
    expect(section).toContain("gh api repos/<owner>/<repo> --jq '.owner.id, .id'");
    expect(section).toContain("OIDC subject of this job");
  });
});

describe("the Azure cluster credential renews itself through a long apply", () => {
  const kubelogin = JSON.parse(readFileSync(path.join(__dirname, "fixtures/kubelogin-v0.2.10.json"), "utf8"));

  it("the action installs the kubelogin version whose behaviour the fixture records", () => {
    const step = parsedAction().runs.steps.find((s: any) => s.id === "kubelogin");
    expect(step.with["kubelogin-version"]).toBe(kubelogin.version);
  });

  it("sets kubelogin's login method to workload identity for the job, with the job's client and tenant", () => {
    const step = parsedAction().runs.steps.find((s: any) => s.id === "azure-env");
    const env = stepEnv(step, { inputs: { "azure-client-id": "11111111-2222-3333-4444-555555555555", "azure-tenant-id": "tenant", "azure-subscription-id": "sub" } });
    const written = runScript(step.run, env).githubEnv.split("\n").filter(Boolean);
    expect(written).toEqual(
      expect.arrayContaining([
        `${kubelogin.loginMethodVariable.name}=${kubelogin.workloadIdentity.loginMethod}`,
        `${kubelogin.workloadIdentity.clientIdVariable}=11111111-2222-3333-4444-555555555555`,
        `${kubelogin.workloadIdentity.tenantIdVariable}=tenant`,
      ]),
    );
  });

  it("the stacks' exec credential lets the variable override its --login (no --disable-environment-override)", () => {
    const synth = synthesize();
    const azureStacks = Object.keys(synth.manifest.stacks).filter((id) => id === "azure-addons" || /^azure-(develop|staging|production)$/.test(id));
    expect(azureStacks.length).toBeGreaterThan(0);
    for (const id of azureStacks) {
      const providers = JSON.parse(readFileSync(path.join(synth.outdir, synth.manifest.stacks[id].synthesizedStackPath), "utf8")).provider;
      const execs = [...(providers.kubernetes ?? []).flatMap((p: any) => p.exec ?? []), ...(providers.helm ?? []).map((p: any) => p.kubernetes?.exec).filter(Boolean)];
      expect(execs.length).toBeGreaterThan(0);
      for (const exec of execs) {
        expect({ id, command: exec.command, subcommand: exec.args[0] }).toEqual({ id, command: "kubelogin", subcommand: "get-token" });
        expect(exec.args).not.toContain("--disable-environment-override");
      }
    }
  });

  it("every job that plans or applies an Azure stack may mint GitHub ID tokens, which kubelogin then requests itself", () => {
    const stackJobs = runnerJobs().filter(({ steps }) => steps.some((s) => s.uses === "./.github/actions/terraform-stack"));
    expect(stackJobs.length).toBe(3);
    for (const { where, job } of stackJobs) expect({ where, idToken: job.permissions?.["id-token"] }).toEqual({ where, idToken: "write" });
    expect(kubelogin.workloadIdentity.githubTokenVariables).toEqual(["ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL"]);
  });
});
