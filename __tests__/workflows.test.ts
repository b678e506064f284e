import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import {
  convertWorkflowTemplate,
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
  NoOperationTraceWriter,
  parseWorkflow,
} from "@actions/workflow-parser";
import { parseAction } from "@actions/workflow-parser/actions/index";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import { OVERRIDE_LABEL } from "../tools/destroy-guard";
import { EXAMPLE_CONFIG_PATH, loadConfig } from "../config";
import { checkMatrixSize, deployLayers, deployOrder, productionEnvironmentNames, productionStacks, stackLayers, withoutStacks, type Manifest } from "../tools/stack-order";
import { synthesize, type Synthesized } from "./support/synth";

const ROOT = path.resolve(__dirname, "..");
const WORKFLOWS = path.join(ROOT, ".github/workflows");
const ACTION = path.join(ROOT, ".github/actions/terraform-stack/action.yml");

/** Reusable workflows of this repository (`uses: ./.github/workflows/<file>`), read from the working tree. */
const localWorkflows = {
  async getFileContent(ref: { path: string }) {
    if (!/^\.github\/workflows\/[\w.-]+\.yml$/.test(ref.path)) throw new Error(`not a workflow of this repository: ${ref.path}`);
    return { name: ref.path, content: readFileSync(path.join(ROOT, ref.path), "utf8") };
  },
};

/**
 * Errors GitHub's parser reports for a workflow, including those found while
 * converting it (needs, matrix) and, for a job calling a reusable workflow of
 * this repository, those of the called workflow and of the inputs passed to it.
 */
async function workflowErrors(name: string, content: string): Promise<string[]> {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  if (result.value) await convertWorkflowTemplate(result.context, result.value, localWorkflows, { fetchReusableWorkflowDepth: 1 });
  return result.context.errors.getErrors().map((error) => error.message);
}

/** The parsed token tree as plain data; expressions become their `${{ }}` text. */
function plain(token: TemplateToken): any {
  if (isMapping(token)) {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < token.count; i++) {
      const pair = token.get(i);
      out[String(plain(pair.key))] = plain(pair.value);
    }
    return out;
  }
  if (isSequence(token)) return Array.from({ length: token.count }, (_, i) => plain(token.get(i)));
  if (isBasicExpression(token)) return `\${{ ${token.expression} }}`;
  if (isString(token)) return token.value;
  if (isBoolean(token)) return token.value;
  if (isNumber(token)) return token.value;
  return null;
}

function parsedWorkflow(file: string): any {
  const content = readFileSync(path.join(WORKFLOWS, file), "utf8");
  const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  expect(result.context.errors.getErrors()).toEqual([]);
  return plain(result.value!);
}

function parsedAction(): any {
  const result = parseAction({ name: "action.yml", content: readFileSync(ACTION, "utf8") }, new NoOperationTraceWriter());
  expect(result.context.errors.getErrors()).toEqual([]);
  return plain(result.value!);
}

/** Every string anywhere in a parsed document. */
function strings(node: unknown): string[] {
  if (typeof node === "string") return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node && typeof node === "object") return Object.entries(node).flatMap(([key, value]) => [key, ...strings(value)]);
  return [];
}

const stepUsing = (steps: any[], action: string): any => steps.find((step) => String(step.uses ?? "").startsWith(`${action}@`));

describe("the workflow files are valid for GitHub's workflow parser", () => {
  const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));

  it("finds the plan and deploy workflows and the reusable deploy layer", () => {
    expect(files.sort()).toEqual(["deploy-layer.yml", "deploy.yml", "plan.yml"]);
  });

  it.each(["deploy.yml", "deploy-layer.yml", "plan.yml"])("%s parses and converts with no errors", async (file) => {
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
    "action.yml": parsedAction(),
  });

  it("no workflow or action reads a repository secret", () => {
    for (const [file, document] of Object.entries(documents())) {
      expect({ file, secrets: strings(document).filter((s) => /\bsecrets\./.test(s)) }).toEqual({ file, secrets: [] });
    }
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
    expect(step).toMatchObject({ uses: "aws-actions/configure-aws-credentials@v4", if: "startsWith(inputs.stack, 'aws-')" });
    expect(step.with["role-to-assume"]).toBe("${{ inputs.aws-role-arn }}");
  });

  it("Azure stacks log in with a federated credential (client, tenant and subscription ids only)", () => {
    const step = stepUsing(parsedAction().runs.steps, "azure/login");
    expect(step.uses).toBe("azure/login@v2");
    expect(Object.keys(step.with).sort()).toEqual(["client-id", "subscription-id", "tenant-id"]);
  });

  it("the plan job may request an OIDC token and the workflow as a whole may not", () => {
    const plan = parsedWorkflow("plan.yml");
    expect(plan.permissions).toEqual({ contents: "read" });
    expect(plan.jobs.plan.permissions).toEqual({ contents: "read", "id-token": "write" });
    expect(plan.jobs.plan.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack").with["aws-role-arn"]).toBe("${{ vars.AWS_PLAN_ROLE_ARN }}");
  });

  it("pull requests sign in to Azure as the plan application and deploys as the deploy application", () => {
    const clientIds = (file: string) =>
      Object.values<any>(parsedWorkflow(file).jobs)
        .flatMap((job) => job.steps ?? [])
        .filter((s: any) => s.uses === "./.github/actions/terraform-stack")
        .map((s: any) => s.with["azure-client-id"]);
    expect(clientIds("plan.yml")).toEqual(["${{ vars.AZURE_PLAN_CLIENT_ID }}"]);
    expect(clientIds("deploy-layer.yml")).toEqual(["${{ vars.AZURE_DEPLOY_CLIENT_ID }}", "${{ vars.AZURE_DEPLOY_CLIENT_ID }}"]);
  });

  it("deploy jobs assume the deploy role, not the plan role", () => {
    const layer = parsedWorkflow("deploy-layer.yml");
    const roles = Object.values<any>(layer.jobs).map((job) => job.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack").with["aws-role-arn"]);
    expect(roles).toEqual(["${{ vars.AWS_DEPLOY_ROLE_ARN }}", "${{ vars.AWS_DEPLOY_ROLE_ARN }}"]);
  });
});

describe("the terraform-stack action", () => {
  it("runs the destroy guard on the saved plan before it applies that plan", () => {
    const steps: any[] = parsedAction().runs.steps;
    const names = steps.map((s) => s.name);
    const guard = names.indexOf("Destroy guard");
    const apply = names.indexOf("Apply the saved plan");
    expect(guard).toBeGreaterThan(names.indexOf("Plan ${{ inputs.stack }}"));
    expect(apply).toBeGreaterThan(guard);
    expect(steps[guard].run).toContain("scripts/destroy-guard.ts");
    expect(steps[guard].env.PLAN_JSON).toBe("${{ steps.plan.outputs.plan-json }}");
    expect(steps[apply].if).toBe("inputs.apply == 'true'");
  });

  it("writes the plan to the job's summary page before the guard, also when the guard will fail", () => {
    const steps: any[] = parsedAction().runs.steps;
    const names = steps.map((s) => s.name);
    const summary = names.indexOf("Plan summary");
    expect(summary).toBeGreaterThan(names.indexOf("Plan ${{ inputs.stack }}"));
    expect(summary).toBeLessThan(names.indexOf("Destroy guard"));
    expect(steps[summary].if).toBe("always() && steps.plan.outcome != 'skipped'");
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
    expect(runs).toEqual(["npm ci", "npm test", "npm run synth", 'npx tsx scripts/stack-matrix.ts --require-remote-state --skip "$SKIP" --github-output']);
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

  it(`passes the override only when the pull request carries the '${OVERRIDE_LABEL}' label`, () => {
    const step = plan().jobs.plan.steps.find((s: any) => s.uses === "./.github/actions/terraform-stack");
    expect(step.with).toMatchObject({ apply: "false", "allow-destroy": `\${{ contains(github.event.pull_request.labels.*.name, '${OVERRIDE_LABEL}') }}` });
  });

  it("keeps one comment: summarized from every plan, found again by its marker, after failed plans too", () => {
    const job = plan().jobs.comment;
    expect(job.needs).toEqual(["prepare", "plan"]);
    expect(job.if).toBe("${{ !cancelled() && needs.prepare.result == 'success' }}");
    expect(job.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    const summarize = job.steps.find((s: any) => s.name === "Summarize the plans");
    expect(summarize.run).toContain("scripts/plan-summary.ts --manifest cdktf.out");
    const script = stepUsing(job.steps, "actions/github-script").with.script;
    expect(script).toContain("updateComment");
    expect(script).toContain("createComment");
  });

  it("cancels the plans of an older push of the same pull request", () => {
    expect(plan().concurrency).toEqual({ group: "${{ format('plan-{0}', github.event.pull_request.number) }}", "cancel-in-progress": true });
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
    expect(Object.keys(jobs).sort()).toEqual(["prepare", ...allLayerJobs()].sort());
    const matrixStep = jobs.prepare.steps.find((s: any) => s.id === "matrix");
    expect(matrixStep.run).toContain(`--layers ${layers.length}`);
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

  it("one concurrency group per stack keeps two deploys off the same stack, and never cancels an apply", () => {
    const job = layer().jobs.deploy;
    expect(job.strategy).toEqual({ "fail-fast": false, matrix: { stack: "${{ fromJSON(inputs.stacks) }}" } });
    expect(job.concurrency).toEqual({ group: "${{ format('deploy-{0}', matrix.stack) }}", "cancel-in-progress": false });
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
  beforeAll(() => {
    synth = synthesize();
  });
  afterAll(() => synth?.cleanup());

  it("every stack's dependencies deploy in a job its own job waits for", () => {
    const jobs = parsedWorkflow("deploy.yml").jobs;
    const layerCount = Object.keys(jobs).filter((id) => /^layer\d+$/.test(id)).length;
    const layers = deployLayers(synth.manifest, productionEnvironmentNames(loadConfig(EXAMPLE_CONFIG_PATH)), layerCount);
    const jobOf = new Map<string, string>();
    layers.forEach((layer, i) => {
      for (const id of layer.stacks) jobOf.set(id, `layer${i}`);
      for (const id of layer.production) jobOf.set(id, `layer${i}-production`);
    });
    expect([...jobOf.keys()].sort()).toEqual(Object.keys(synth.manifest.stacks).sort());
    const waitsFor = (job: string): Set<string> => {
      const needs: string[] = [jobs[job].needs ?? []].flat();
      return new Set(needs.flatMap((n) => [n, ...waitsFor(n)]));
    };
    for (const [id, entry] of Object.entries(synth.manifest.stacks)) {
      for (const dependency of entry.dependencies) {
        expect({ id, dependency, waits: waitsFor(jobOf.get(id)!).has(jobOf.get(dependency)!) }).toEqual({ id, dependency, waits: true });
      }
    }
  });

  it("production stacks of the default config are the production environment's and the platform and add-ons it runs on", () => {
    const production = [...productionStacks(synth.manifest, productionEnvironmentNames(loadConfig(EXAMPLE_CONFIG_PATH)))].sort();
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
    const production = productionStacks(synth.manifest, productionEnvironmentNames(loadConfig(EXAMPLE_CONFIG_PATH)));
    const ungated = [...production].flatMap((id) => synth.manifest.stacks[id].dependencies.filter((dependency) => !production.has(dependency)));
    expect(ungated).toEqual([]);
    const jobs = parsedWorkflow("deploy.yml").jobs;
    const layers = deployLayers(synth.manifest, productionEnvironmentNames(loadConfig(EXAMPLE_CONFIG_PATH)), Object.keys(jobs).filter((id) => /^layer\d+$/.test(id)).length);
    expect(layers.flatMap((l) => l.production).sort()).toEqual([...production].sort());
    expect(layers[0]).toEqual({ stacks: [], production: ["aws-platform", "azure-platform"] });
  });

  const stackMatrix = (...flags: string[]) => {
    const dir = mkdtempSync(path.join(tmpdir(), "stack-matrix-"));
    const output = path.join(dir, "github-output");
    const result = spawnSync(
      process.execPath,
      [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), path.join(ROOT, "scripts/stack-matrix.ts"), "--outdir", synth.outdir, "--github-output", ...flags],
      { encoding: "utf8", env: { ...process.env, GITHUB_OUTPUT: output, PLATFORM_CONFIG: EXAMPLE_CONFIG_PATH } },
    );
    const written = result.status === 0 ? readFileSync(output, "utf8") : "";
    rmSync(dir, { recursive: true, force: true });
    return { status: result.status, stderr: result.stderr, outputs: Object.fromEntries(written.trim().split("\n").filter(Boolean).map((line) => line.split(/=(.*)/s).slice(0, 2))) };
  };

  it("the matrix script writes every output the workflows read, each a JSON list of stacks", () => {
    const { status, outputs } = stackMatrix("--layers", "4");
    expect(status).toBe(0);
    for (const file of ["plan.yml", "deploy.yml"]) {
      const read = Object.values<string>(parsedWorkflow(file).jobs.prepare.outputs).flatMap((value) => [...value.matchAll(/steps\.matrix\.outputs\.(\w+)/g)].map((m) => m[1]));
      expect(read.length).toBeGreaterThan(0);
      for (const name of read) {
        expect({ file, name, present: name in outputs }).toEqual({ file, name, present: true });
        expect(JSON.parse(outputs[name])).toEqual(expect.any(Array));
      }
    }
    expect(JSON.parse(outputs.stacks)).toEqual(deployOrder(synth.manifest));
  });

  it("the matrix script leaves skipped stacks out of the plans but not out of the deploy layers", () => {
    const { status, outputs } = stackMatrix("--layers", "4", "--skip", "azure-*-data, aws-addons");
    expect(status).toBe(0);
    const skipped = ["aws-addons", "azure-develop-data", "azure-production-data", "azure-staging-data"];
    expect(JSON.parse(outputs.stacks)).toEqual(deployOrder(synth.manifest).filter((id) => !skipped.includes(id)));
    const deployed: string[] = Object.entries(outputs).filter(([name]) => name.startsWith("layer")).flatMap(([, value]) => JSON.parse(String(value)));
    expect(deployed.sort()).toEqual(Object.keys(synth.manifest.stacks).sort());
  });

  it("with an empty skip list the matrix script plans every stack", () => {
    const { status, outputs } = stackMatrix("--skip", "");
    expect(status).toBe(0);
    expect(JSON.parse(outputs.stacks)).toEqual(deployOrder(synth.manifest));
  });

  it("the matrix script refuses stacks with local state when the workflows ask for remote state", () => {
    const { status, stderr } = stackMatrix("--require-remote-state");
    expect(status).toBe(1);
    expect(stderr).toContain("aws-platform");
    expect(stderr).toContain("keep their state in a local file, which is lost when a CI job ends: set clouds.<cloud>.stateBackend in the config");
  });

  it("the plan matrix lists every stack after its dependencies", () => {
    const order = deployOrder(synth.manifest);
    expect([...order].sort()).toEqual(Object.keys(synth.manifest.stacks).sort());
    for (const [id, entry] of Object.entries(synth.manifest.stacks)) {
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
