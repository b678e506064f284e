import { execFile, spawnSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import {
  AcceptedListError,
  acceptedTable,
  judgeStack,
  parseAcceptedList,
  readCheckovReport,
  staleEntries,
  verdictLine,
  verdictMarkdown,
  verdictTable,
  type AcceptedEntry,
  type Framework,
  type StackVerdict,
} from "../tools/policy";

/**
 * Checkov on every stack, with the project's accepted failures.
 *
 *   tsx scripts/policy.ts [--dir <cdktf.out>]
 *       Synthesizes config/platform.yaml into a temporary directory (or reads an
 *       existing synth output) and scans each stack as `terraform_json`, one
 *       Checkov run per stack, two at a time. Exits 1 on a failure that is not
 *       accepted or an accepted entry that matches nothing.
 *   tsx scripts/policy.ts --plan <plan.json> --stack <id> [--markdown <file>]
 *       Scans one `terraform show -json` output as `terraform_plan`; prints one
 *       line, appends a markdown section to <file>. Exits 1 on a failure that
 *       is not accepted.
 *
 *   tsx scripts/policy.ts --accepted-table
 *       Prints the accepted list as the table docs/security.md shows.
 *
 * Checkov is `CHECKOV_BIN`, else `checkov` on PATH; without either the scan is
 * skipped with the reason, unless PLATFORM_REQUIRE_ALL_CHECKS=1.
 */

const root = path.resolve(__dirname, "..");
const ACCEPTED_FILE = path.join(root, "policy", "checkov-accepted.yaml");
/** Stacks scanned side by side: each Checkov run keeps one core busy. */
const PARALLEL = 2;

const execFileAsync = promisify(execFile);

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith("--")) fail(`${name} needs a value`, 2);
  return value;
}

function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

/** The Checkov command, or why there is none. */
function findCheckov(): { bin?: string; reason: string } {
  const configured = process.env.CHECKOV_BIN;
  if (configured) {
    return existsSync(configured) ? { bin: configured, reason: "" } : { reason: `CHECKOV_BIN=${configured} does not exist` };
  }
  const probe = spawnSync("checkov", ["--version"], { encoding: "utf8" });
  if (probe.status === 0) return { bin: "checkov", reason: "" };
  return { reason: "CHECKOV_BIN is not set and `checkov` is not on PATH (pip install checkov==3.3.13)" };
}

/**
 * Checkov is about 2,300 Python modules, compiled again by every run where
 * the environment forbids writing bytecode (`PYTHONDONTWRITEBYTECODE`, set on
 * many CI images) or the source is read-only: half of each run's CPU. Its
 * runs here keep their bytecode under `node_modules/.cache` instead, so only
 * the first run of a fresh clone compiles.
 */
function checkovEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPYCACHEPREFIX: process.env.PYTHONPYCACHEPREFIX ?? path.join(root, "node_modules", ".cache", "platform-kit", "python-bytecode") };
  delete env.PYTHONDONTWRITEBYTECODE;
  return env;
}

async function scan(bin: string, framework: Framework, target: string[]): Promise<{ passed: number; failures: ReturnType<typeof readCheckovReport>["failures"] }> {
  const args = [...target, "--framework", framework, "--output", "json", "--quiet", "--compact", "--skip-download"];
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(bin, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: checkovEnvironment() }));
  } catch (error) {
    // Checkov exits 1 when a check fails; the report is still on stdout.
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    if (failure.code !== 1 || !failure.stdout) {
      throw new Error(`checkov ${args.join(" ")} failed (exit ${failure.code}):\n${failure.stderr ?? ""}`);
    }
    stdout = failure.stdout;
  }
  return readCheckovReport(stdout);
}

async function inPool<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}

function synthesize(): { outdir: string; cleanup: () => void } {
  const outdir = mkdtempSync(path.join(tmpdir(), "platform-policy-"));
  const result = spawnSync(process.execPath, [path.join(root, "scripts", "synth.cjs")], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, CDKTF_OUTDIR: outdir, PLATFORM_CONFIG: path.join(root, "config", "platform.yaml") },
  });
  if (result.status !== 0) fail(`synth of config/platform.yaml failed (exit ${result.status})`);
  return { outdir, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

/**
 * A stack directory Checkov's terraform_json parser can read: it expects every
 * top-level block to be an object and fails on the list a `moved` or `import`
 * block is, so a stack with one is scanned from a copy without them (they move
 * or adopt resources and configure nothing a check reads).
 */
function scannable(stackDir: string): { dir: string; cleanup: () => void } {
  const file = path.join(stackDir, "cdk.tf.json");
  const stack = JSON.parse(readFileSync(file, "utf8"));
  const lists = Object.keys(stack).filter((key) => Array.isArray(stack[key]));
  if (lists.length === 0) return { dir: stackDir, cleanup: () => {} };
  const copy = mkdtempSync(path.join(tmpdir(), `policy-${path.basename(stackDir)}-`));
  const dir = path.join(copy, path.basename(stackDir));
  cpSync(stackDir, dir, { recursive: true });
  for (const key of lists) delete stack[key];
  writeFileSync(path.join(dir, "cdk.tf.json"), JSON.stringify(stack, null, 2));
  return { dir, cleanup: () => rmSync(copy, { recursive: true, force: true }) };
}

async function scanAllStacks(bin: string, accepted: AcceptedEntry[], dir: string | undefined): Promise<number> {
  const synth = dir ? { outdir: dir, cleanup: () => {} } : synthesize();
  try {
    const stacksDir = path.join(synth.outdir, "stacks");
    const stacks = readdirSync(stacksDir).sort();
    const started = Date.now();
    const verdicts: StackVerdict[] = await inPool(stacks, PARALLEL, async (stack) => {
      const target = scannable(path.join(stacksDir, stack));
      try {
        const { passed, failures } = await scan(bin, "terraform_json", ["--directory", target.dir]);
        return judgeStack(stack, "terraform_json", passed, failures, accepted);
      } finally {
        target.cleanup();
      }
    });
    console.log(verdictTable(verdicts));
    const stale = staleEntries(verdicts, "terraform_json", accepted);
    for (const entry of stale) {
      console.error(`stale accepted entry: ${entry.check} on ${entry.stacks.join(", ")}${entry.resource ? ` (${entry.resource})` : ""} matches no failure; remove it`);
    }
    console.log(`\nscanned ${stacks.length} stacks in ${Math.round((Date.now() - started) / 1000)} s`);
    const failed = verdicts.some((verdict) => verdict.failed.length > 0);
    return failed || stale.length > 0 ? 1 : 0;
  } finally {
    synth.cleanup();
  }
}

async function scanPlan(bin: string, accepted: AcceptedEntry[], plan: string, stack: string, markdown: string | undefined): Promise<number> {
  if (!existsSync(plan)) fail(`--plan ${plan} does not exist`);
  const { passed, failures } = await scan(bin, "terraform_plan", ["--file", plan]);
  const verdict = judgeStack(stack, "terraform_plan", passed, failures, accepted);
  console.log(verdictLine(verdict));
  for (const finding of verdict.failed) console.log(`  not accepted: ${finding.check} ${finding.resource} ${finding.name}`);
  if (markdown) appendFileSync(markdown, `${verdictMarkdown(verdict)}\n`);
  return verdict.failed.length > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const plan = option(args, "--plan");
  const stack = option(args, "--stack");
  const markdown = option(args, "--markdown");
  const dir = option(args, "--dir");
  if ((plan === undefined) !== (stack === undefined)) fail("--plan and --stack go together", 2);

  let accepted: AcceptedEntry[];
  try {
    accepted = parseAcceptedList(readFileSync(ACCEPTED_FILE, "utf8"), path.relative(root, ACCEPTED_FILE));
  } catch (error) {
    if (error instanceof AcceptedListError) fail(error.message);
    throw error;
  }

  if (args.includes("--accepted-table")) {
    console.log(acceptedTable(accepted));
    return 0;
  }

  const checkov = findCheckov();
  if (!checkov.bin) {
    if (process.env.PLATFORM_REQUIRE_ALL_CHECKS === "1") fail(`policy scan required (PLATFORM_REQUIRE_ALL_CHECKS=1) but cannot run: ${checkov.reason}`);
    console.log(`skipping policy scan: ${checkov.reason}`);
    return 0;
  }
  return plan && stack ? scanPlan(checkov.bin, accepted, plan, stack, markdown) : scanAllStacks(checkov.bin, accepted, dir);
}

main().then(
  (code) => process.exit(code),
  (error) => fail(error instanceof Error ? error.message : String(error)),
);
