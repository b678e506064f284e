import { readFileSync } from "node:fs";
import * as path from "node:path";
import { satisfies } from "semver";
import { describe, expect, it } from "vitest";
import { requiredProviders } from "../tools/provider-lock";
import { synthesize } from "./support/synth";
import { evaluate, expandedSteps, parsedAction, parsedWorkflow, ROOT, runnerJobs } from "./support/workflows";

/**
 * What every job of every workflow must have, checked by walking them all
 * (a reusable workflow's jobs and the steps of the local composite actions
 * included), so that a new job cannot forget it.
 */

/** A step that runs Terraform, directly or through the program (synth validates `terraform_data` with `terraform version`). */
function needsTerraform(step: any): boolean {
  const run = String(step.run ?? "");
  return /\bnpm (test|run synth)\b|\bcdktf (synth|deploy|diff|plan|get)\b|(^|[\s;&|(])terraform\s/m.test(run);
}

const isSetupTerraform = (step: any): boolean => String(step.uses ?? "").startsWith("hashicorp/setup-terraform@");

/** The jobs whose steps need Terraform before a setup-terraform step installed it. */
function jobsWithoutTerraform(jobs: { where: string; steps: any[] }[]): string[] {
  return jobs.flatMap(({ where, steps }) => {
    const first = steps.findIndex(needsTerraform);
    if (first < 0) return [];
    return steps.slice(0, first).some(isSetupTerraform) ? [] : [`${where}: step ${first + 1} (${steps[first].name ?? steps[first].run ?? steps[first].uses})`];
  });
}

describe("Terraform in every job that synthesizes, tests, plans or applies", () => {
  it("finds such steps in the jobs that need them, through the composite actions", () => {
    const needing = runnerJobs().filter(({ steps }) => steps.some(needsTerraform)).map(({ where }) => where);
    expect(needing.sort()).toEqual(["deploy-layer.yml deploy", "deploy-layer.yml review", "deploy.yml prepare", "plan.yml plan", "plan.yml prepare"]);
  });

  it("installs Terraform before the first such step, in every job", () => {
    expect(jobsWithoutTerraform(runnerJobs())).toEqual([]);
  });

  it("would name a job that synthesizes without it", () => {
    const prepare = parsedWorkflow("deploy.yml").jobs.prepare;
    const without = expandedSteps(prepare.steps.filter((step: any) => !isSetupTerraform(step)));
    expect(jobsWithoutTerraform([{ where: "deploy.yml prepare", steps: without }])).toEqual(["deploy.yml prepare: step 4 (npm run synth)"]);
  });

  it("installs one pinned version, without the wrapper, that the synthesized stacks accept", () => {
    const setups = runnerJobs().flatMap(({ steps }) => steps.filter(isSetupTerraform));
    const versions = new Set(setups.map((step) => step.with.terraform_version));
    expect([...versions]).toEqual(["1.11.4"]);
    for (const step of setups) expect(String(step.with.terraform_wrapper)).toBe("false");
    const synth = synthesize();
    const required = new Set(
      Object.values(synth.manifest.stacks)
        .map((entry) => JSON.parse(readFileSync(path.join(synth.outdir, entry.synthesizedStackPath), "utf8")).terraform?.required_version)
        .filter(Boolean),
    );
    expect(required.size).toBeGreaterThan(0);
    for (const range of required) expect({ range, satisfied: satisfies("1.11.4", range) }).toEqual({ range, satisfied: true });
  });
});

describe("timeouts", () => {
  it("every job that runs on a runner has timeout-minutes, a deploy one shorter than its 3-hour AWS session", () => {
    for (const { where, job } of runnerJobs()) {
      expect({ where, timeout: typeof job["timeout-minutes"] }).toEqual({ where, timeout: "number" });
      expect(job["timeout-minutes"]).toBeGreaterThan(0);
    }
    const deploy = parsedWorkflow("deploy-layer.yml").jobs.deploy;
    const session = Number(deploy.steps.find((step: any) => step.uses === "./.github/actions/terraform-stack").with["aws-session-seconds"]);
    expect(deploy["timeout-minutes"] * 60).toBeLessThan(session);
  });
});

describe("tokens stay out of reach of what the jobs install and run", () => {
  it("no checkout leaves the GITHUB_TOKEN in the git config", () => {
    const checkouts = runnerJobs().flatMap(({ where, steps }) => steps.filter((step) => String(step.uses).startsWith("actions/checkout@")).map((step) => ({ where, step })));
    expect(checkouts.length).toBeGreaterThanOrEqual(6);
    for (const { where, step } of checkouts) expect({ where, persist: String(step.with?.["persist-credentials"]) }).toEqual({ where, persist: "false" });
  });

  it("every job that can mint an OIDC token or write with its token installs without install scripts", () => {
    const privileged = runnerJobs().filter(({ job }) => Object.values<string>(job.permissions ?? {}).includes("write"));
    expect(privileged.map(({ where }) => where).sort()).toEqual(["deploy-layer.yml deploy", "deploy-layer.yml review", "doctor.yml doctor", "plan.yml comment", "plan.yml plan"]);
    for (const { where, steps } of privileged) {
      const installs = steps.map((step) => String(step.run ?? "")).filter((run) => /\bnpm (ci|install|i)\b/.test(run));
      expect(installs.length).toBeGreaterThan(0);
      for (const run of installs) expect({ where, run }).toEqual({ where, run: "npm ci --ignore-scripts" });
    }
  });

  it("the packages that have install scripts are known, and the jobs need none of the scripts", () => {
    const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
    const withScripts = Object.entries<any>(lock.packages).filter(([, entry]) => entry.hasInstallScript).map(([name]) => name.replace(/^node_modules\//, ""));
    // A new package with an install script fails here until someone checked the jobs work without it.
    expect(withScripts.sort()).toEqual(["@cdktf/node-pty-prebuilt-multiarch", "esbuild"]);
    // esbuild's script only checks and hard-links the binary; its JavaScript API finds the binary in the
    // platform package, an optional dependency npm installs without running anything.
    const esbuild = lock.packages["node_modules/esbuild"];
    expect(esbuild.optionalDependencies["@esbuild/linux-x64"]).toBe(esbuild.version);
    expect(lock.packages["node_modules/@esbuild/linux-x64"]).toMatchObject({ version: esbuild.version, cpu: ["x64"], os: ["linux"] });
    const main = readFileSync(path.join(ROOT, "node_modules/esbuild/lib/main.js"), "utf8");
    expect(main).toContain('"linux x64 LE": "@esbuild/linux-x64"');
    // node-pty is the cdktf CLI's terminal; no script the jobs run loads the CLI.
    const dependents = Object.entries<any>(lock.packages).filter(([, entry]) => entry.dependencies?.["@cdktf/node-pty-prebuilt-multiarch"]).map(([name]) => name);
    expect(dependents).toEqual(["node_modules/@cdktf/cli-core"]);
    const jobScripts = runnerJobs().flatMap(({ steps }) => steps.map((step) => String(step.run ?? "")));
    expect(jobScripts.filter((run) => /\bcdktf (synth|deploy|diff|plan|get)\b/.test(run))).toEqual([]);
  });
});

describe("provider plugin cache", () => {
  const cacheStep = (steps: any[], action: string) => steps.find((step) => step.uses === action);

  it("the stack jobs restore the very cache the prepare jobs save: same paths, same key", () => {
    const providers = parsedAction("terraform-providers").runs.steps;
    const stack = parsedAction("terraform-stack").runs.steps;
    const restoreInPrepare = cacheStep(providers, "actions/cache/restore@v5");
    const save = cacheStep(providers, "actions/cache/save@v5");
    const restoreInStack = cacheStep(stack, "actions/cache/restore@v5");
    expect(restoreInStack.with.path).toBe(save.with.path);
    expect(restoreInPrepare.with.path).toBe(save.with.path);
    expect(restoreInStack.with.key).toBe(restoreInPrepare.with.key);
    expect(save.with.key).toBe("${{ steps.restore.outputs.cache-primary-key }}");
    expect(evaluate(save.if, { steps: { restore: { outputs: { "cache-hit": "true" } } } })).toBe(false);
    expect(evaluate(save.if, { steps: { restore: { outputs: { "cache-hit": "" } } } })).toBe(true);
    // Keyed on the providers the stacks require, not on every change to the code.
    expect(restoreInStack.with.key).toContain("hashFiles('cdktf.out/providers/main.tf.json')");
  });

  it("every prepare job locks the providers after the synth and before uploading the stacks", () => {
    for (const file of ["plan.yml", "deploy.yml"]) {
      const steps: any[] = parsedWorkflow(file).jobs.prepare.steps;
      const synth = steps.findIndex((step) => step.run === "npm run synth");
      const lock = steps.findIndex((step) => step.uses === "./.github/actions/terraform-providers");
      const upload = steps.findIndex((step) => String(step.uses).startsWith("actions/upload-artifact@"));
      expect({ file, order: synth < lock && lock < upload }).toEqual({ file, order: true });
    }
  });

  it("Terraform is told where the cache is before any init, and each stack gets the run's lock file", () => {
    for (const name of ["terraform-providers", "terraform-stack"]) {
      const steps: any[] = parsedAction(name).runs.steps;
      const setsDir = steps.findIndex((step) => String(step.run ?? "").includes('echo "TF_PLUGIN_CACHE_DIR=$HOME/.terraform.d/plugin-cache" >> "$GITHUB_ENV"'));
      const init = steps.findIndex((step) => /terraform -chdir=\S+ init/.test(String(step.run ?? "")));
      expect({ name, order: setsDir >= 0 && setsDir < init }).toEqual({ name, order: true });
    }
    const lock = parsedAction("terraform-providers").runs.steps.find((step: any) => step.id === "lock").run;
    expect(lock).toContain('for dir in cdktf.out/stacks/*/; do cp cdktf.out/providers/.terraform.lock.hcl "$dir"; done');
  });

  it("one lock file serves every stack of the default program: each provider is pinned alike everywhere", () => {
    const synth = synthesize();
    const read = (file: string) => JSON.parse(readFileSync(path.join(synth.outdir, file), "utf8"));
    const providers = requiredProviders(synth.manifest, read);
    expect(Object.keys(providers).sort()).toEqual(expect.arrayContaining(["aws", "azurerm", "helm", "kubernetes"]));
    for (const provider of Object.values(providers)) expect(provider.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("two stacks pinning one provider differently fail, naming both", () => {
    const manifest = { stacks: { a: { dependencies: [], workingDirectory: "stacks/a", synthesizedStackPath: "a" }, b: { dependencies: [], workingDirectory: "stacks/b", synthesizedStackPath: "b" } } };
    const stacks: Record<string, any> = {
      a: { terraform: { required_providers: { aws: { source: "aws", version: "5.100.0" } } } },
      b: { terraform: { required_providers: { aws: { source: "aws", version: "5.99.0" } } } },
    };
    expect(() => requiredProviders(manifest, (file) => stacks[file])).toThrow("b requires aws aws 5.99.0 but a requires aws 5.100.0: the stacks of one program must pin each provider alike");
  });
});
