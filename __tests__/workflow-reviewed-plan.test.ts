import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeDifferences, openPlan, sealPlan } from "../tools/reviewed-plan";
import { installCloudStandIns } from "./support/cloud-stand-ins";
import { skipNote, type Availability } from "./support/environment";
import { jobDir, remoteStateProgram, stateKey, type JobDir } from "./support/job-dir";
import type { Synthesized } from "./support/synth";
import { evaluate, parsedAction, parsedWorkflow, ROOT, runScript, stepEnv } from "./support/workflows";

/**
 * A production deploy applies exactly the plan the reviewer read: the review
 * job seals its saved plan (a saved plan holds sensitive values in clear
 * text, and a run's artifacts are readable by anyone who can read the
 * repository), the deploy job opens it after the approval, checks stack,
 * commit, run and checksum, and applies it; Terraform refuses it when the
 * state changed in between. Deploy runs never overlap.
 */

const keys = generateKeyPairSync("rsa", { modulusLength: 3072, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
const changes = { resource_changes: [{ address: "aws_db_instance.db", mode: "managed", type: "aws_db_instance", change: { actions: ["update"] } }] };
const manifest = { stack: "aws-production-data", commit: "c0ffee", runId: "42", runAttempt: "1", standIn: false };
const expected = { stack: "aws-production-data", commit: "c0ffee", runId: "42" };

describe("sealing the reviewed plan", () => {
  const plan = Buffer.from("a saved plan with a password in clear text");

  it("opens with the private key to the same bytes, with the checksum the reviewer saw", () => {
    const sealed = sealPlan(plan, changes, manifest, keys.publicKey);
    expect(JSON.stringify(sealed)).not.toContain("password");
    const opened = openPlan(JSON.parse(JSON.stringify(sealed)), keys.privateKey, expected);
    expect(opened.plan).toEqual(plan);
    expect(opened.changes).toEqual(changes);
    expect(opened.manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses the plan of another stack, commit or run, naming what differs", () => {
    const sealed = sealPlan(plan, changes, manifest, keys.publicKey);
    expect(() => openPlan(sealed, keys.privateKey, { ...expected, commit: "decade" })).toThrow(
      "the reviewed plan is not this deploy's: commit c0ffee (expected decade); re-run the workflow so that the plan is reviewed again",
    );
    expect(() => openPlan(sealed, keys.privateKey, { ...expected, stack: "aws-production" })).toThrow("stack aws-production-data (expected aws-production)");
    expect(() => openPlan(sealed, keys.privateKey, { ...expected, runId: "43" })).toThrow("runId 42 (expected 43)");
  });

  it("refuses a manifest or plan changed after sealing, and a key that is not the pair's", () => {
    const sealed = sealPlan(plan, changes, manifest, keys.publicKey);
    const otherCommit = { ...sealed, manifest: { ...sealed.manifest, runAttempt: "2" } };
    expect(() => openPlan(otherCommit, keys.privateKey, expected)).toThrow("cannot be opened");
    const data = Buffer.from(sealed.data, "base64");
    data[0] ^= 1;
    expect(() => openPlan({ ...sealed, data: data.toString("base64") }, keys.privateKey, expected)).toThrow("cannot be opened");
    const other = generateKeyPairSync("rsa", { modulusLength: 3072, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    expect(() => openPlan(sealed, other.privateKey, expected)).toThrow("PLAN_PRIVATE_KEY is not the key PLAN_PUBLIC_KEY belongs to");
  });

  it("says which setting is missing, and refuses a key too small to keep the plan", () => {
    expect(() => sealPlan(plan, changes, manifest, "")).toThrow("PLAN_PUBLIC_KEY is empty");
    expect(() => openPlan(sealPlan(plan, changes, manifest, keys.publicKey), "", expected)).toThrow("PLAN_PRIVATE_KEY is empty");
    const small = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
    expect(() => sealPlan(plan, changes, manifest, small.publicKey)).toThrow("the plan public key must be an RSA key of at least 3072 bits, got rsa (2048 bits)");
  });

  it("a stand-in plan (no state at review time) carries only its changes; a new plan must make the same ones", () => {
    const sealed = sealPlan(null, changes, { ...manifest, standIn: true }, keys.publicKey);
    const opened = openPlan(sealed, keys.privateKey, expected);
    expect(opened).toMatchObject({ plan: null, manifest: { standIn: true, sha256: "" } });
    expect(changeDifferences(opened.changes, changes)).toEqual([]);
    const more = { resource_changes: [...changes.resource_changes, { address: "aws_s3_bucket.b", mode: "managed", type: "aws_s3_bucket", change: { actions: ["delete"] } }] };
    expect(changeDifferences(changes, more)).toEqual(["in the new plan, not reviewed: aws_s3_bucket.b: delete"]);
  });

  it("the key pair the docs tell to make works", () => {
    const docs = readFileSync(path.join(ROOT, "docs/workflows.md"), "utf8");
    const section = docs.slice(docs.indexOf("### The reviewed plan"));
    const commands = [...section.matchAll(/^openssl .*$/gm)].map((m) => m[0]);
    expect(commands.length).toBe(2);
    const dir = mkdtempSync(path.join(tmpdir(), "plan-key-"));
    try {
      for (const command of commands) expect(spawnSync("bash", ["-c", command], { cwd: dir }).status).toBe(0);
      const pem = (file: string) => readFileSync(path.join(dir, file), "utf8");
      const sealed = sealPlan(Buffer.from("plan"), changes, manifest, pem("plan-key.pub.pem"));
      expect(openPlan(sealed, pem("plan-key.pem"), expected).plan).toEqual(Buffer.from("plan"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(section).toContain("gh variable set PLAN_PUBLIC_KEY < plan-key.pub.pem");
    expect(section).toContain("gh secret set PLAN_PRIVATE_KEY --env production < plan-key.pem");
  }, 60_000);
});

describe("the workflows carry the reviewed plan from the review job to the deploy job", () => {
  const layer = () => parsedWorkflow("deploy-layer.yml");
  const stackStep = (job: string) => layer().jobs[job].steps.find((s: any) => s.uses === "./.github/actions/terraform-stack");

  it("the review job seals its plan with the repository's public key; only a production deploy applies a reviewed plan", () => {
    expect(stackStep("review").with).toMatchObject({ "save-plan": "true", "plan-public-key": "${{ vars.PLAN_PUBLIC_KEY }}" });
    const reviewed = stackStep("deploy").with["reviewed-plan"];
    expect(evaluate(reviewed, { inputs: { environment: "production" } })).toBe(true);
    expect(evaluate(reviewed, { inputs: { environment: "" } })).toBe(false);
  });

  it("the action opens the plan before the plan step, which then plans nothing, and applies it after the guard", () => {
    const steps: any[] = parsedAction().runs.steps;
    const at = (id: string) => steps.findIndex((s) => s.id === id);
    expect(at("download-reviewed")).toBeLessThan(at("open-reviewed"));
    expect(at("open-reviewed")).toBeLessThan(at("plan"));
    expect(at("guard")).toBeLessThan(at("seal"));
    expect(at("seal")).toBeLessThan(at("upload-reviewed"));
    expect(at("compare")).toBeLessThan(at("apply"));
    const download = steps[at("download-reviewed")];
    const upload = steps[at("upload-reviewed")];
    expect(download.with.name).toBe(upload.with.name);
    expect(Number(upload.with["retention-days"])).toBeGreaterThanOrEqual(30);
    // Only the sealed file is uploaded, never the plan the plan step saved.
    expect(upload.with.path).toBe("${{ format('{0}/sealed/{1}.sealed.json', runner.temp, inputs.stack) }}");
  });
});

describe("a production stack, its review job and its deploy job, run as the runner runs them", () => {
  let job: JobDir;
  let artifacts: string;
  let log: string;
  const steps = () => parsedAction().runs.steps as any[];
  const github = { GITHUB_SHA: "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", GITHUB_RUN_ID: "9001", GITHUB_RUN_ATTEMPT: "1" };

  let program: Synthesized;
  beforeAll(() => {
    program = remoteStateProgram();
    job = jobDir(program.outdir);
    installCloudStandIns(job);
    artifacts = path.join(job.temp, "..", "artifacts");
    mkdirSync(artifacts);
    log = path.join(job.temp, "..", "commands.log");
  });
  afterAll(() => job?.cleanup());

  /**
   * Runs the action's steps in order from `from` on, each only when its `if`
   * holds, as the runner would: run steps in bash, the artifact steps as copies.
   */
  function runJob(inputs: Record<string, string>, env: Record<string, string>): { outcomes: Record<string, string>; output: string } {
    const contexts: any = { inputs: { "allow-destroy": "false", "allow-waits": "false", checkov: "false", "save-plan": "false", "reviewed-plan": "false", ...inputs }, steps: {}, runner: { temp: job.temp } };
    rmSync(job.temp, { recursive: true, force: true });
    mkdirSync(job.temp);
    let failed = false;
    let output = "";
    const outcomes: Record<string, string> = {};
    for (const step of steps()) {
      if (["identity", "setup-terraform", "download", "plugin-cache-dir", "plugin-cache", "aws-credentials", "azure-login", "kubelogin", "azure-env", "setup-python"].includes(step.id)) continue;
      if (!step.id) continue;
      const condition = String(step.if ?? "success()").replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
      const runs = evaluate(/\b(success|failure|always|cancelled)\(\)/.test(condition) ? condition : `success() && (${condition})`, contexts, { failure: failed });
      if (!runs) continue;
      let status = 0;
      let outputs: Record<string, string> = {};
      if (step.id === "download-reviewed") {
        mkdirSync(path.join(job.temp, "reviewed"), { recursive: true });
        copyFileSync(path.join(artifacts, `${inputs.stack}.sealed.json`), path.join(job.temp, "reviewed", `${inputs.stack}.sealed.json`));
      } else if (step.id === "upload-reviewed") {
        copyFileSync(String(evaluate(step.with.path, contexts)), path.join(artifacts, `${inputs.stack}.sealed.json`));
      } else if (step.run) {
        const result = runScript(step.run, { ...stepEnv(step, contexts), ...github, ...env, RUNNER_TEMP: job.temp, FAKE_LOG: log }, { cwd: job.dir, path: job.path });
        status = result.status ?? 1;
        outputs = result.outputs;
        output += result.stdout;
      } else {
        continue;
      }
      outcomes[step.id] = status === 0 ? "success" : "failure";
      contexts.steps[step.id] = { outputs, outcome: outcomes[step.id] };
      failed ||= status !== 0;
    }
    return { outcomes, output };
  }

  const review = (stack: string, states: string) =>
    runJob({ stack, apply: "false", "save-plan": "true", "plan-public-key": keys.publicKey }, { FAKE_STATES: states, PLAN_PUBLIC_KEY: keys.publicKey });
  const deploy = (stack: string, states: string, privateKey = keys.privateKey, extra: Record<string, string> = {}) =>
    runJob({ stack, apply: "true", "reviewed-plan": "true", "plan-private-key": privateKey }, { FAKE_STATES: states, FAKE_CAN_WRITE: "true", PLAN_PRIVATE_KEY: privateKey, ...extra });
  const commands = () => readFileSync(log, "utf8").split("\n").filter(Boolean);

  it("refuses the reviewed plan in the deploy of another commit; in its own deploy, applies that very plan and plans nothing", () => {
    const states = [stateKey(program, "aws-platform"), stateKey(program, "aws-production-data")].join(" ");
    const reviewed = review("aws-production-data", states);
    expect(reviewed.outcomes).toMatchObject({ state: "success", plan: "success", guard: "success", seal: "success", "upload-reviewed": "success" });
    expect(readFileSync(path.join(artifacts, "aws-production-data.sealed.json"), "utf8")).not.toContain("saved plan");

    writeFileSync(log, "");
    const other = deploy("aws-production-data", states, keys.privateKey, { GITHUB_SHA: "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b" });
    expect(other.outcomes["open-reviewed"]).toBe("failure");
    expect(other.output).toContain("the reviewed plan is not this deploy's: commit 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a (expected 6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b)");
    expect(other.outcomes.apply).toBeUndefined();
    expect(commands().filter((line) => line.startsWith("applied"))).toEqual([]);

    writeFileSync(log, "");
    const deployed = deploy("aws-production-data", states);
    expect(deployed.outcomes).toMatchObject({ "open-reviewed": "success", plan: "success", guard: "success", apply: "success" });
    expect(deployed.output).toContain("aws-production-data: applying the plan reviewed in run 9001, attempt 1, commit 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a, sha256 ");
    const terraform = commands().filter((line) => line.startsWith("terraform") || line.startsWith("applied"));
    expect(terraform.filter((line) => /^terraform -chdir=\S+ plan /.test(line))).toEqual([]);
    expect(terraform.at(-1)).toBe("applied saved plan 1 of aws-production-data");
  });

  it("a new Azure stack, reviewed against a stand-in, is planned again by the deploy and applied only with the reviewed changes", () => {
    const reviewed = review("azure-platform", "");
    expect(reviewed.outcomes).toMatchObject({ plan: "success", seal: "success" });
    expect(reviewed.output).toContain("azure-platform: stand-in plan sealed (no state yet)");
    writeFileSync(log, "");
    const deployed = deploy("azure-platform", "");
    expect(deployed.outcomes).toMatchObject({ "open-reviewed": "success", plan: "success", compare: "success", apply: "success" });
    expect(deployed.output).toContain("the new plan makes exactly the reviewed changes");
    expect(commands().filter((line) => line.startsWith("applied"))).toEqual(["applied saved plan 2 of azure-platform"]);
  });
});

const terraformProbe = spawnSync("terraform", ["version"], { encoding: "utf8" });
const terraform: Availability = terraformProbe.status === 0 ? { available: true, reason: "" } : { available: false, reason: "terraform is not installed" };

describe.skipIf(!terraform.available)(`Terraform 1.11 itself refuses a reviewed plan whose state changed since${skipNote(terraform)}`, () => {
  /** A stack of Terraform's built-in provider only, with a local state: no download, no credentials. */
  function stack(): { dir: string; run: (...args: string[]) => { status: number | null; output: string }; cleanup: () => void } {
    const dir = mkdtempSync(path.join(tmpdir(), "stale-plan-"));
    writeFileSync(
      path.join(dir, "main.tf.json"),
      JSON.stringify({ terraform: { backend: { local: { path: path.join(dir, "state.tfstate") } } }, variable: { input: { type: "string" } }, resource: { terraform_data: { marker: { input: "${var.input}" } } } }),
    );
    const env = { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null", TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };
    const run = (...args: string[]) => {
      const result = spawnSync("terraform", [`-chdir=${dir}`, ...args, "-no-color"], { encoding: "utf8", env });
      return { status: result.status, output: result.stdout + result.stderr };
    };
    expect(run("init", "-input=false").status).toBe(0);
    return { dir, run, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }

  it("applies the saved plan while the state is the one it was made against", () => {
    const { run, cleanup } = stack();
    try {
      expect(run("apply", "-auto-approve", "-input=false", "-var=input=one").status).toBe(0);
      expect(run("plan", "-lock=false", "-input=false", "-var=input=two", "-out=reviewed").status).toBe(0);
      expect(run("apply", "-input=false", "reviewed").status).toBe(0);
    } finally {
      cleanup();
    }
  }, 60_000);

  it("refuses it once another apply changed the state", () => {
    const { run, cleanup } = stack();
    try {
      expect(run("apply", "-auto-approve", "-input=false", "-var=input=one").status).toBe(0);
      expect(run("plan", "-lock=false", "-input=false", "-var=input=two", "-out=reviewed").status).toBe(0);
      expect(run("apply", "-auto-approve", "-input=false", "-var=input=three").status).toBe(0);
      const stale = run("apply", "-input=false", "reviewed");
      expect(stale.status).toBe(1);
      expect(stale.output).toContain("Saved plan is stale");
    } finally {
      cleanup();
    }
  }, 60_000);
});

describe("deploy runs never overlap, and a running apply is never cancelled", () => {
  it("one workflow-level group for every deploy run, push or manual, that does not cancel a run in progress", () => {
    const deploy = parsedWorkflow("deploy.yml");
    expect(String(deploy.concurrency["cancel-in-progress"])).toBe("false");
    // A constant: the same group whatever the event, ref or commit of the run.
    expect(deploy.concurrency.group).toBe("deploy");
  });

  it("no job inside a deploy run has a group of its own, which would let a newer pending job cancel an older one", () => {
    for (const file of ["deploy.yml", "deploy-layer.yml"]) {
      for (const [id, job] of Object.entries<any>(parsedWorkflow(file).jobs)) expect({ file, id, concurrency: job.concurrency }).toEqual({ file, id, concurrency: undefined });
    }
  });
});
