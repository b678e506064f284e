import { existsSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { presenceCommand, stackStates, statePresence, statePresent, type StateLocation } from "../tools/state-presence";
import { installCloudStandIns } from "./support/cloud-stand-ins";
import { jobDir, remoteStateProgram, stackJson, stateKey, type JobDir } from "./support/job-dir";
import type { Synthesized } from "./support/synth";
import { parsedAction, runScript, stepEnv } from "./support/workflows";

/**
 * A stack without state reads "new stack", and a stack whose dependencies
 * have none reads "waits for <stack>", on both clouds, with read-only rights.
 * On Azure Terraform cannot be asked: `terraform init` (and any
 * `terraform_remote_state` read) writes an empty state blob when none exists
 * (Terraform 1.11.4, internal/backend/remote-state/azure/backend_state.go,
 * `StateMgr`), which the plan and review identities are refused.
 */

const json = (program: Synthesized, stack: string) => stackJson(program, program.manifest.stacks[stack].synthesizedStackPath);

describe("the states a synthesized stack uses", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = remoteStateProgram();
  });

  it("are its own backend's and those of the stacks whose outputs it reads, all among its dependencies, on both clouds", () => {
    const reading: string[] = [];
    for (const [stack, entry] of Object.entries(synth.manifest.stacks)) {
      const states = stackStates(stack, json(synth, stack));
      // The bootstrap stacks, deployed from a workstation, may keep local state.
      if (states.own.backend === "local") continue;
      expect(states.own).toMatchObject({ key: stateKey(synth, stack) });
      for (const read of states.reads) {
        expect({ stack, read: read.stack, dependency: entry.dependencies.includes(read.stack) }).toEqual({ stack, read: read.stack, dependency: true });
        expect(read.location).toMatchObject({ backend: states.own.backend, key: stateKey(synth, read.stack) });
      }
      if (states.reads.length > 0) reading.push(stack);
    }
    expect(reading).toEqual(expect.arrayContaining(["aws-develop", "aws-develop-data", "azure-develop", "azure-develop-data", "azure-addons"]));
  });

  it("are asked of the storage with read-only calls: S3 HeadObject, Azure Get Blob Properties", () => {
    const azure = json(synth, "azure-develop").terraform.backend.azurerm;
    expect(presenceCommand(stackStates("azure-develop", json(synth, "azure-develop")).own)).toEqual([
      "az", "storage", "blob", "exists", "--auth-mode", "login", "--account-name", azure.storage_account_name, "--container-name", azure.container_name, "--name", azure.key, "--output", "json",
    ]);
    const aws = json(synth, "aws-develop").terraform.backend.s3;
    expect(presenceCommand(stackStates("aws-develop", json(synth, "aws-develop")).own)).toEqual(["aws", "s3api", "head-object", "--bucket", aws.bucket, "--key", aws.key, "--region", aws.region, "--output", "json"]);
  });
});

describe("reading the storage's answer", () => {
  const s3: StateLocation = { backend: "s3", bucket: "b", key: "platform/aws-develop.tfstate", region: "eu-west-1" };
  const azure: StateLocation = { backend: "azurerm", storageAccount: "a", container: "c", key: "platform/azure-develop.tfstate" };

  it("S3: found, not found (404), and no rights to tell (403, without s3:ListBucket) is an error, never 'missing'", () => {
    expect(statePresent(s3, { status: 0, stdout: "{}", stderr: "" })).toBe(true);
    expect(statePresent(s3, { status: 254, stdout: "", stderr: "\nAn error occurred (404) when calling the HeadObject operation: Not Found\n" })).toBe(false);
    expect(() => statePresent(s3, { status: 254, stdout: "", stderr: "An error occurred (403) when calling the HeadObject operation: Forbidden" })).toThrow(
      "cannot tell whether s3://b/platform/aws-develop.tfstate exists (403: the role needs s3:ListBucket on the bucket to be told that a key does not exist",
    );
  });

  it("Azure: the CLI's JSON answer, and any failure is an error", () => {
    expect(statePresent(azure, { status: 0, stdout: '{\n  "exists": true\n}\n', stderr: "" })).toBe(true);
    expect(statePresent(azure, { status: 0, stdout: '{"exists": false}', stderr: "" })).toBe(false);
    expect(() => statePresent(azure, { status: 1, stdout: "", stderr: "ERROR: (AuthorizationPermissionMismatch)" })).toThrow("needs Storage Blob Data Reader on the container");
  });

  it("a stack without state is new; the stacks it reads without state are what it waits for", () => {
    const states = { own: azure, reads: [{ stack: "azure-platform", location: { ...azure, key: "p" } }, { stack: "azure-develop-data", location: { ...azure, key: "d" } }] };
    const answers: Record<string, boolean> = { "platform/azure-develop.tfstate": false, p: true, d: false };
    const presence = statePresence(states, (argv) => ({ status: 0, stdout: JSON.stringify({ exists: answers[argv[argv.indexOf("--name") + 1]] }), stderr: "" }));
    expect(presence).toEqual({ newStack: true, waitsFor: ["azure-develop-data"], backend: "azurerm" });
  });
});

describe("the action's state and plan steps, run as the runner runs them, with a read-only identity", () => {
  let synth: Synthesized;
  let job: JobDir;
  const steps = () => parsedAction().runs.steps;
  const step = (id: string) => steps().find((s: any) => s.id === id);

  beforeAll(() => {
    synth = remoteStateProgram();
    job = jobDir(synth.outdir);
    installCloudStandIns(job);
  });
  afterAll(() => job?.cleanup());

  /** The state step, then the plan step, of one stack; `withState` names the stacks whose state exists. */
  function planStack(stack: string, withState: string[], inputs: Record<string, string> = {}) {
    const states = withState.map((id) => stateKey(synth, id));
    const contexts = { inputs: { stack, apply: "false", "allow-waits": "true", "reviewed-plan": "false", ...inputs }, steps: {} as Record<string, unknown> };
    const run = (id: string) => {
      const result = runScript(step(id).run, { ...stepEnv(step(id), contexts), FAKE_STATES: states.join(" "), RUNNER_TEMP: job.temp }, { cwd: job.dir, path: job.path });
      contexts.steps[id] = { outputs: result.outputs, outcome: result.status === 0 ? "success" : "failure" };
      return result;
    };
    const state = run("state");
    const plan = state.status === 0 ? run("plan") : undefined;
    return { state, plan };
  }

  it("Azure, first rollout: the platform plans as a new stack against a stand-in, without writing state", () => {
    const { state, plan } = planStack("azure-platform", []);
    expect(state.outputs).toEqual({ "new-stack": "true", "waits-for": "", backend: "azurerm" });
    expect(plan!.status).toBe(0);
    expect(plan!.outputs["stand-in"]).toBe("true");
    expect(plan!.outputs["plan-json"]).toBe(path.join(job.temp, "plans/azure-platform.plan.json"));
    const override = JSON.parse(readFileSync(path.join(job.dir, "cdktf.out/stacks/azure-platform/stand_in_backend_override.tf.json"), "utf8"));
    expect(override).toEqual({ terraform: { backend: { local: { path: path.join(job.temp, "stand-in/azure-platform.tfstate") } } } });
    expect(JSON.parse(readFileSync(path.join(job.temp, "plans/azure-platform.state.json"), "utf8"))).toEqual({ stack: "azure-platform", newStack: true, waitsFor: [], backend: "azurerm" });
  });

  it("Azure, first rollout: a stack whose dependencies have no state waits for them, green, without running Terraform", () => {
    const { plan } = planStack("azure-develop", []);
    expect(plan!.status).toBe(0);
    expect(plan!.outputs).toEqual({ "waits-for": "azure-develop-data azure-platform" });
    expect(plan!.stdout).toContain("::notice title=azure-develop::waits for azure-develop-data azure-platform, which has no state yet");
  });

  it("Azure: a stack with state plans against its real backend", () => {
    const { state, plan } = planStack("azure-develop-data", ["azure-platform", "azure-develop-data"]);
    expect(state.outputs["new-stack"]).toBe("false");
    expect(plan!.status).toBe(0);
    expect(plan!.outputs["stand-in"]).toBeUndefined();
    expect(existsSync(path.join(job.dir, "cdktf.out/stacks/azure-develop-data/stand_in_backend_override.tf.json"))).toBe(false);
  });

  it("AWS, first rollout: the same words; S3 writes nothing for a new stack, so it plans against its real backend", () => {
    const platform = planStack("aws-platform", []);
    expect(platform.state.outputs).toEqual({ "new-stack": "true", "waits-for": "", backend: "s3" });
    expect(platform.plan!.status).toBe(0);
    expect(platform.plan!.outputs["stand-in"]).toBeUndefined();
    const develop = planStack("aws-develop", ["aws-platform"]);
    expect(develop.plan!.outputs).toEqual({ "waits-for": "aws-develop-data" });
  });

  it("a deploy does not wait: a dependency without state fails the job, naming it", () => {
    const { plan } = planStack("aws-develop", ["aws-platform"], { "allow-waits": "false", apply: "true" });
    expect(plan!.status).toBe(1);
    expect(plan!.stdout).toContain("aws-develop reads aws-develop-data, which has no state: it is applied first");
  });

  it("the comment shows the new stacks with their plans and the waiting ones as waits, none as failed", () => {
    rmSync(path.join(job.temp, "plans"), { recursive: true, force: true });
    planStack("azure-platform", []);
    planStack("azure-develop", []);
    const summary = runScript(
      `npx tsx scripts/plan-summary.ts --manifest cdktf.out --stacks '["azure-platform","azure-develop"]' --commit 0123456789abcdef "$RUNNER_TEMP/plans"`,
      { RUNNER_TEMP: job.temp },
      { cwd: job.dir, path: job.path },
    );
    expect(summary.status).toBe(0);
    const rows = summary.stdout.split("\n").filter((line) => line.startsWith("| `"));
    expect(rows).toEqual([
      "| `azure-platform` (new stack) | 1 | 0 | 0 | — | ok | — |",
      "| `azure-develop` (new stack) | — | — | — | — | waits for `azure-develop-data`, `azure-platform` | — |",
    ]);
    expect(summary.stdout).not.toContain("plan failed");
  });
});
