import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { expect } from "vitest";
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
import { data as expressionData, Evaluator, Lexer, Parser } from "@actions/expressions";

/**
 * The workflows and local actions as GitHub reads them (its own parser and
 * expression library), and their scripts run as the runner runs them, for
 * the workflow test files.
 */

export const ROOT = path.resolve(__dirname, "..", "..");
export const WORKFLOWS = path.join(ROOT, ".github/workflows");
export const ACTIONS = path.join(ROOT, ".github/actions");
export const ACTION = path.join(ACTIONS, "terraform-stack/action.yml");

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
export async function workflowErrors(name: string, content: string): Promise<string[]> {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  if (result.value) await convertWorkflowTemplate(result.context, result.value, localWorkflows, { fetchReusableWorkflowDepth: 1 });
  return result.context.errors.getErrors().map((error) => error.message);
}

/** The parsed token tree as plain data; expressions become their `${{ }}` text. */
export function plain(token: TemplateToken): any {
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

export const WORKFLOW_FILES = (): string[] => readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml")).sort();

export function parsedWorkflow(file: string): any {
  const content = readFileSync(path.join(WORKFLOWS, file), "utf8");
  const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  expect(result.context.errors.getErrors()).toEqual([]);
  return plain(result.value!);
}

/** A local composite action (`.github/actions/<name>/action.yml`), by default terraform-stack. */
export function parsedAction(name = "terraform-stack"): any {
  const file = path.join(ACTIONS, name, "action.yml");
  const result = parseAction({ name: "action.yml", content: readFileSync(file, "utf8") }, new NoOperationTraceWriter());
  expect(result.context.errors.getErrors()).toEqual([]);
  return plain(result.value!);
}

export const LOCAL_ACTIONS = (): string[] => readdirSync(ACTIONS).sort();

/** Every string anywhere in a parsed document. */
export function strings(node: unknown): string[] {
  if (typeof node === "string") return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node && typeof node === "object") return Object.entries(node).flatMap(([key, value]) => [key, ...strings(value)]);
  return [];
}

const CONTEXTS = ["github", "inputs", "vars", "needs", "steps", "matrix", "env", "job", "runner", "strategy", "secrets"];

function statusFunctions(status: { failure?: boolean; cancelled?: boolean } = {}) {
  const values = { always: true, success: !status.failure && !status.cancelled, cancelled: status.cancelled ?? false, failure: status.failure ?? false };
  return new Map(
    Object.entries(values).map(([name, value]) => [name, { name, minArgs: 0, maxArgs: 0, call: () => new expressionData.BooleanData(value) }]),
  );
}

/**
 * Evaluates a `${{ }}` expression as GitHub does, with GitHub's own expression
 * library, against the given contexts; the job status functions answer as
 * for a run that went well unless `status` says otherwise.
 */
export function evaluate(expression: string, contexts: Record<string, unknown>, status?: { failure?: boolean; cancelled?: boolean }): unknown {
  const functions = statusFunctions(status);
  const inner = /^\$\{\{([\s\S]*)\}\}$/.exec(expression.trim())?.[1] ?? expression;
  const lexed = new Lexer(inner).lex();
  const parsed = new Parser(lexed.tokens, CONTEXTS, [...functions.values()]).parse();
  const context = JSON.parse(JSON.stringify(contexts), expressionData.reviver);
  const result = new Evaluator(parsed, context, functions).evaluate();
  return JSON.parse(JSON.stringify(result, expressionData.replacer));
}

/** The contexts of a pull-request event of this repository (or of a fork). */
export function pullRequestEvent(action: string, options: { label?: string; fork?: boolean } = {}): Record<string, unknown> {
  const head = options.fork ? "someone/platform" : "acme/platform";
  return {
    github: {
      event_name: "pull_request",
      repository: "acme/platform",
      run_id: 7001,
      event: {
        action,
        ...(options.label ? { label: { name: options.label } } : {}),
        pull_request: { number: 42, labels: [], head: { sha: "4b825dc642cb6eb9a060e54bf8d69288fbee4904", repo: { full_name: head, fork: options.fork ?? false } } },
      },
    },
  };
}

/** Runs a `run:` script with bash, as the runner does, with the given environment. */
export function runScript(
  script: string,
  env: Record<string, string>,
  options: { cwd?: string; path?: string } = {},
): { status: number | null; stdout: string; outputs: Record<string, string>; summary: string; githubEnv: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "workflow-step-"));
  const outputFile = path.join(dir, "output");
  const summaryFile = path.join(dir, "summary");
  const envFile = path.join(dir, "env");
  for (const file of [outputFile, summaryFile, envFile]) writeFileSync(file, "");
  // The runner's own shell command line for `shell: bash`.
  const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
    cwd: options.cwd,
    encoding: "utf8",
    env: {
      PATH: options.path ?? process.env.PATH,
      HOME: tmpdir(),
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_ENV: envFile,
      RUNNER_TEMP: dir,
      ...env,
    },
  });
  const read = (file: string) => readFileSync(file, "utf8");
  const outputs = Object.fromEntries(read(outputFile).trim().split("\n").filter(Boolean).map((line) => line.split(/=(.*)/s).slice(0, 2)));
  const outcome = { status: result.status, stdout: result.stdout + result.stderr, outputs, summary: read(summaryFile), githubEnv: read(envFile) };
  rmSync(dir, { recursive: true, force: true });
  return outcome;
}

/** A step's `env:` with its expressions evaluated against the given contexts. */
export function stepEnv(step: any, contexts: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries<unknown>(step.env ?? {}).map(([key, value]) => {
      const text = String(value);
      const evaluated = text.startsWith("${{") ? evaluate(text, contexts) : text;
      return [key, evaluated === null || evaluated === undefined ? "" : String(evaluated)];
    }),
  );
}

/**
 * Runs an actions/github-script `script:` as the action does (an async
 * function of `github`, `context`, `core`, `require`), with stand-ins for
 * GitHub's client. `cwd` is the job's working directory: relative paths the
 * script reads or writes with `fs`, and `require("./...")`, resolve there.
 */
export async function runGithubScript(script: string, globals: { github?: unknown; context?: unknown; core?: unknown; cwd: string }): Promise<unknown> {
  const at = (file: unknown) => (typeof file === "string" && !path.isAbsolute(file) ? path.join(globals.cwd, file) : file);
  const fs = require("node:fs");
  const jobFs = {
    ...fs,
    readFileSync: (file: string, ...rest: unknown[]) => fs.readFileSync(at(file), ...rest),
    writeFileSync: (file: string, ...rest: unknown[]) => fs.writeFileSync(at(file), ...rest),
    existsSync: (file: string) => fs.existsSync(at(file)),
  };
  const jobRequire = (id: string) => (id === "fs" || id === "node:fs" ? jobFs : require(id.startsWith("./") ? path.join(ROOT, id) : id));
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
  const run = new AsyncFunction("github", "context", "core", "require", script);
  const core = globals.core ?? { setOutput: () => undefined, summary: { addRaw: () => ({ write: async () => undefined }) } };
  return run(globals.github, globals.context, core, jobRequire);
}

export const stepUsing = (steps: any[], action: string): any => steps.find((step) => String(step.uses ?? "").startsWith(`${action}@`));

/** The steps of a job, with each local composite action's steps in place of its call. */
export function expandedSteps(steps: any[]): any[] {
  return steps.flatMap((step) => {
    const local = /^\.\/\.github\/actions\/([\w-]+)$/.exec(String(step.uses ?? ""));
    return local ? [step, ...expandedSteps(parsedAction(local[1]).runs.steps)] : [step];
  });
}

/** Every job that runs on a runner, in every workflow: jobs calling a reusable workflow are that workflow's jobs. */
export function runnerJobs(): { where: string; job: any; steps: any[] }[] {
  return WORKFLOW_FILES().flatMap((file) =>
    Object.entries<any>(parsedWorkflow(file).jobs)
      .filter(([, job]) => job["runs-on"] !== undefined)
      .map(([id, job]) => ({ where: `${file} ${id}`, job, steps: expandedSteps(job.steps ?? []) })),
  );
}
