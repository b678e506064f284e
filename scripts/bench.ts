import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { resolveConfigPath } from "../config/source";
import { toBarrelImports } from "../tools/barrel-imports";

/**
 * `npm run bench`: wall time and peak memory of synthesis and of the test
 * suite, measured in one run on one machine, against the usual way of writing
 * cdktf (barrel imports of the provider packages) and as the number of
 * environments grows. Prints a table with ratios and PASS/MISS per target; it
 * never fails on a missed target.
 *
 *   npm run bench [-- --runs 3] [--skip-tests] [--skip-ci] [--markdown]
 */

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
/** What `npm run synth` runs, relative to the program's root. */
const SYNTH = ["scripts/synth.cjs"];
const CDKTF = path.join(ROOT, "node_modules/.bin/cdktf");
const VITEST = path.join(ROOT, "node_modules/.bin/vitest");
const GNU_TIME = "/usr/bin/time";

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf("--runs") + 1] ?? 3) || 3;
const SKIP_TESTS = args.includes("--skip-tests");
const SKIP_CI = args.includes("--skip-ci");
const MARKDOWN = args.includes("--markdown");

interface Sample {
  readonly seconds: number;
  /** Exit code, when the command may fail (a test suite with failing tests is still timed). */
  readonly status?: number | null;
  /** Largest resident set of any process in the measured tree, in MB; undefined without GNU time. */
  readonly peakMb?: number;
}

interface Measurement extends Sample {
  readonly label: string;
  readonly runs: number;
  /** A run exited non-zero (only where allowed). */
  readonly failed: boolean;
}

const hasGnuTime = (() => {
  if (!existsSync(GNU_TIME)) return false;
  const probe = spawnSync(GNU_TIME, ["-v", "true"], { encoding: "utf8" });
  return probe.status === 0 && /Maximum resident set size/.test(probe.stderr);
})();

/** Runs a command once; wall time from this process, peak memory from GNU time's rusage of the tree. */
function runOnce(command: string, commandArgs: string[], options: { cwd: string; env: NodeJS.ProcessEnv; mayFail?: boolean }): Sample {
  const [file, fileArgs] = hasGnuTime ? [GNU_TIME, ["-v", command, ...commandArgs]] : [command, commandArgs];
  const started = process.hrtime.bigint();
  const result = spawnSync(file, fileArgs, { ...options, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0 && !options.mayFail) {
    throw new Error(`${command} ${commandArgs.join(" ")} failed (exit ${result.status}):\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-4000)}`);
  }
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  return { seconds, peakMb: rss ? Number(rss[1]) / 1024 : undefined, status: result.status };
}

/** The median wall time and the largest peak of `runs` runs, after one unmeasured warm-up run when `warmUp`. */
function measure(
  label: string,
  command: string,
  commandArgs: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; runs?: number; warmUp?: boolean; mayFail?: boolean },
): Measurement {
  const runs = options.runs ?? RUNS;
  if (options.warmUp ?? true) runOnce(command, commandArgs, options);
  const samples = Array.from({ length: runs }, () => runOnce(command, commandArgs, options));
  const times = samples.map((s) => s.seconds).sort((a, b) => a - b);
  const peaks = samples.map((s) => s.peakMb).filter((p): p is number => p !== undefined);
  const failed = samples.some((s) => s.status !== 0);
  const measurement = { label, runs, failed, seconds: times[Math.floor(times.length / 2)], peakMb: peaks.length > 0 ? Math.max(...peaks) : undefined };
  process.stderr.write(`  ${label}: ${measurement.seconds.toFixed(2)} s, ${measurement.peakMb?.toFixed(0) ?? "n/a"} MB\n`);
  return measurement;
}

/** The environment of a synth: quiet cdktf, output to a throw-away directory. */
function synthEnv(outdir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1", DISABLE_VERSION_CHECK: "true", CI: "1", ...extra };
}

/** Every file below a directory, relative to it. */
function filesBelow(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesBelow(full, base) : [path.relative(base, full)];
  });
}

/** Folder under `lib/` to the namespace the package's barrel exports it as, e.g. `eks-cluster` to `eksCluster`. */
function barrelNamespaces(pkg: string): Map<string, string> {
  const index = readFileSync(path.join(ROOT, "node_modules", pkg, "lib/index.js"), "utf8");
  return new Map([...index.matchAll(/exports\.(\w+) = require\("\.\/([\w-]+)"\)/g)].map((m) => [m[2], m[1]]));
}

function barrelCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-barrel-"));
  const skip = new Set(["node_modules", "cdktf.out", ".git", "__tests__", ".bench", "coverage", "docs"]);
  for (const name of readdirSync(ROOT)) {
    if (skip.has(name) || name.startsWith("terraform.")) continue;
    cpSync(path.join(ROOT, name), path.join(dir, name), { recursive: true });
  }
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  const cache = new Map<string, Map<string, string>>();
  const namespaces = (pkg: string) => cache.get(pkg) ?? cache.set(pkg, barrelNamespaces(pkg)).get(pkg)!;
  let rewritten = 0;
  for (const file of filesBelow(dir).filter((f) => f.endsWith(".ts") && !f.startsWith("node_modules"))) {
    const full = path.join(dir, file);
    const source = readFileSync(full, "utf8");
    const barrel = toBarrelImports(source, namespaces);
    if (barrel !== source) {
      writeFileSync(full, barrel);
      rewritten++;
    }
  }
  process.stderr.write(`  barrel copy: ${rewritten} files rewritten in ${dir}\n`);
  return dir;
}

/** The synthesized stacks of an outdir, for checking that two builds produce the same program. */
function synthesizedStacks(outdir: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(path.join(outdir, "manifest.json"), "utf8"));
  return Object.fromEntries(
    Object.entries<any>(manifest.stacks).map(([id, entry]) => [id, readFileSync(path.join(outdir, entry.synthesizedStackPath), "utf8")]),
  );
}

const STAGE_CYCLE = ["develop", "staging"] as const;

/**
 * The deploy config with `count` environments: the default ones first, then
 * copies of develop and staging (unique names, `stage` set) up to the count.
 */
function configWithEnvironments(count: number, dir: string, { clusters = false }: { clusters?: boolean } = {}): string {
  // The configuration every entry point reads (cdktf.json, or PLATFORM_CONFIG), grown to `count` environments.
  const raw = parse(readFileSync(resolveConfigPath().path, "utf8"));
  const defaults: any[] = raw.environments;
  const byName = Object.fromEntries(defaults.map((env) => [env.name, env]));
  const environments = defaults.slice(0, count);
  for (let i = environments.length; i < count; i++) {
    const stage = STAGE_CYCLE[i % STAGE_CYCLE.length];
    environments.push({ ...structuredClone(byName[stage]), name: `${stage.slice(0, 3)}-${String(i).padStart(3, "0")}`, stage });
  }
  raw.environments = environments;
  if (clusters) {
    // A tools cluster, the non-production environments and production apart, each with ranges of its own.
    const ranges = (second: number) => ({
      aws: { network: { vpcCidr: `10.${second}.0.0/16` } },
      azure: { network: { vnetCidr: `10.${second}.0.0/16`, nodesSubnetCidr: `10.${second}.0.0/20`, postgresSubnetCidr: `10.${second}.16.0/24` } },
    });
    const named = (production: boolean) => environments.filter((env) => ((env.stage ?? env.name) === "production") === production).map((env) => env.name);
    raw.clusters = [
      { name: "tools", role: "tools", clouds: ranges(201) },
      { name: "main", environments: named(false) },
      { name: "prod", environments: named(true), clouds: ranges(202) },
    ];
  }
  // One name per environment on the routes' certificate: 100 environments stay within Let's Encrypt's 100 names.
  raw.domain = { ...raw.domain, productionOnBase: false };
  const file = path.join(dir, `platform-${count}${clusters ? "-clusters" : ""}.yaml`);
  writeFileSync(file, stringify(raw));
  return file;
}

/** The provider mirror the offline plans use, from `TF_PROVIDER_MIRROR` as in the tests. */
function providerMirror(): string | undefined {
  const dir = process.env.TF_PROVIDER_MIRROR;
  return dir && existsSync(path.join(dir, "registry.terraform.io/hashicorp/aws")) ? dir : undefined;
}

/** Steps of `.ci/run` that do not count against its budget: the policy scan runs on its own. */
const CI_STEPS_OUTSIDE_BUDGET = new Set(["policy"]);

/**
 * `.ci/run` on a fresh clone of the committed HEAD, as CI runs it: wall time of
 * the whole run, and of what counts against its budget: all of it but the
 * policy scan, from the `ci step <name>: <seconds> s` lines it prints.
 */
function measureCiRun(work: string): { total: number; counted: number; steps: Record<string, number>; ok: boolean } {
  const clone = path.join(work, "ci-clone", path.basename(ROOT));
  mkdirSync(path.dirname(clone), { recursive: true });
  const cloned = spawnSync("git", ["clone", "--quiet", ROOT, clone], { encoding: "utf8" });
  if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
  const shared = process.env.PLATFORM_SHARED_DIR ?? path.resolve(ROOT, "../shared");
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "true", PLATFORM_SHARED_DIR: shared };
  const started = process.hrtime.bigint();
  const result = spawnSync("bash", [".ci/run"], { cwd: clone, env, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  const total = Number(process.hrtime.bigint() - started) / 1e9;
  const steps = Object.fromEntries([...result.stdout.matchAll(/^ci step ([\w-]+): (\d+) s$/gm)].map((m) => [m[1], Number(m[2])]));
  const outside = Object.entries(steps).reduce((sum, [name, seconds]) => sum + (CI_STEPS_OUTSIDE_BUDGET.has(name) ? seconds : 0), 0);
  const counted = total - outside;
  process.stderr.write(`  .ci/run on a fresh clone: ${total.toFixed(0)} s (${JSON.stringify(steps)})\n`);
  return { total, counted, steps, ok: result.status === 0 };
}

/** Load average when the run started: other work on the machine slows every measurement alike. */
const LOAD_AT_START = loadavg().map((n) => n.toFixed(2)).join(" / ");

function machine(): string[] {
  const cpuModel = (() => {
    try {
      return /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model;
    } catch {
      return cpus()[0]?.model;
    }
  })();
  return [
    `CPU: ${cpuModel} (nproc ${cpus().length})`,
    `RAM: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `Node: ${process.version}`,
    `Load average (1/5/15 min) at start: ${LOAD_AT_START}`,
    `Peak memory: ${hasGnuTime ? "GNU time (maximum resident set size of the largest process)" : "not measured (no GNU time)"}`,
  ];
}

const fmt = (n: number | undefined, digits: number): string => (n === undefined ? "n/a" : n.toFixed(digits));
const verdict = (ok: boolean | undefined): string => (ok === undefined ? "n/a" : ok ? "PASS" : "MISS");

function main(): void {
  const work = mkdtempSync(path.join(tmpdir(), "bench-"));
  const out = (name: string) => {
    const dir = path.join(work, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const rows: string[][] = [];
  const targets: string[][] = [];
  try {
    process.stderr.write("measuring (each synth: one warm-up, median of the runs)\n");
    const synth = measure("synth", process.execPath, SYNTH, { cwd: ROOT, env: synthEnv(out("synth")) });
    rows.push(["`npm run synth`, full default program", fmt(synth.seconds, 2), fmt(synth.peakMb, 0), "1.00× / 1.00×"]);

    const barrelDir = barrelCopy();
    const barrel = measure("barrel synth", process.execPath, SYNTH, { cwd: barrelDir, env: synthEnv(out("barrel")) });
    const same = JSON.stringify(synthesizedStacks(path.join(work, "synth"))) === JSON.stringify(synthesizedStacks(path.join(work, "barrel")));
    rows.push([
      `same program with barrel imports${same ? "" : " (OUTPUT DIFFERS)"}`,
      fmt(barrel.seconds, 2),
      fmt(barrel.peakMb, 0),
      `${fmt(barrel.seconds / synth.seconds, 2)}× / ${barrel.peakMb && synth.peakMb ? fmt(barrel.peakMb / synth.peakMb, 2) : "n/a"}×`,
    ]);
    rmSync(barrelDir, { recursive: true, force: true });

    const loader = measure("tsx synth", TSX, ["main.ts"], { cwd: ROOT, env: synthEnv(out("tsx")) });
    const loaderSame = JSON.stringify(synthesizedStacks(path.join(work, "synth"))) === JSON.stringify(synthesizedStacks(path.join(work, "tsx")));
    rows.push([
      `same program run by the TypeScript loader (\`tsx main.ts\`)${loaderSame ? "" : " (OUTPUT DIFFERS)"}`,
      fmt(loader.seconds, 2),
      fmt(loader.peakMb, 0),
      `${fmt(loader.seconds / synth.seconds, 2)}× / ${loader.peakMb && synth.peakMb ? fmt(loader.peakMb / synth.peakMb, 2) : "n/a"}×`,
    ]);

    const cli = measure("cdktf synth", CDKTF, ["synth", "--output", out("cli")], { cwd: ROOT, env: synthEnv(out("cli")), runs: 1 });
    rows.push([
      "`cdktf synth` through the CLI",
      fmt(cli.seconds, 2),
      fmt(cli.peakMb, 0),
      `${fmt(cli.seconds / synth.seconds, 2)}× / ${cli.peakMb && synth.peakMb ? fmt(cli.peakMb / synth.peakMb, 2) : "n/a"}×`,
    ]);

    const scaling: Record<number, Measurement> = {};
    for (const count of [3, 10, 30, 100]) {
      const config = configWithEnvironments(count, work);
      scaling[count] = measure(`synth, ${count} environments`, process.execPath, SYNTH, {
        cwd: ROOT,
        env: synthEnv(out(`envs-${count}`), { PLATFORM_CONFIG: config }),
        warmUp: count < 30,
      });
      const stacks = Object.keys(JSON.parse(readFileSync(path.join(work, `envs-${count}`, "manifest.json"), "utf8")).stacks).length;
      rows.push([
        `synth, ${count} environments (${stacks} stacks)`,
        fmt(scaling[count].seconds, 2),
        fmt(scaling[count].peakMb, 0),
        `${fmt(scaling[count].seconds / scaling[3].seconds, 2)}× of 3 envs`,
      ]);
    }

    // Clusters add stacks, not work per environment: 30 environments on 3 clusters stay near 30 on one.
    const clustered = measure("synth, 30 environments on 3 clusters", process.execPath, SYNTH, {
      cwd: ROOT,
      env: synthEnv(out("clusters-30"), { PLATFORM_CONFIG: configWithEnvironments(30, work, { clusters: true }) }),
      warmUp: false,
    });
    const clusteredStacks = Object.keys(JSON.parse(readFileSync(path.join(work, "clusters-30", "manifest.json"), "utf8")).stacks).length;
    rows.push([
      `synth, 30 environments on 3 clusters (${clusteredStacks} stacks)`,
      fmt(clustered.seconds, 2),
      fmt(clustered.peakMb, 0),
      `${fmt(clustered.seconds / scaling[30].seconds, 2)}× of 30 envs on 1 cluster`,
    ]);

    let testsWith: Measurement | undefined;
    let testsWithout: Measurement | undefined;
    if (!SKIP_TESTS) {
      const mirror = providerMirror();
      const shared = process.env.PLATFORM_SHARED_DIR ?? path.resolve(ROOT, "../shared");
      const base: NodeJS.ProcessEnv = { ...process.env, PLATFORM_SHARED_DIR: shared, CI: "1" };
      delete base.TF_PROVIDER_MIRROR;
      delete base.PLATFORM_REQUIRE_ALL_CHECKS;
      const failures = (m: Measurement) => (m.failed ? " (some tests failed)" : "");
      const without = measure("tests without offline plans", VITEST, ["run"], { cwd: ROOT, env: base, runs: 1, warmUp: false, mayFail: true });
      testsWithout = without;
      rows.push([`\`npm test\` without the offline plans${failures(without)}`, fmt(without.seconds, 1), fmt(without.peakMb, 0), "1.00×"]);
      if (mirror) {
        const withPlans = measure("tests with offline plans", VITEST, ["run"], {
          cwd: ROOT,
          env: { ...base, TF_PROVIDER_MIRROR: mirror, PLATFORM_REQUIRE_ALL_CHECKS: "1" },
          runs: 1,
          warmUp: false,
          mayFail: true,
        });
        testsWith = withPlans;
        rows.push([`\`npm test\` with the offline plans${failures(withPlans)}`, fmt(withPlans.seconds, 1), fmt(withPlans.peakMb, 0), `${fmt(withPlans.seconds / without.seconds, 2)}×`]);
      } else {
        rows.push(["`npm test` with the offline plans", "n/a", "n/a", "no provider mirror (TF_PROVIDER_MIRROR)"]);
      }
    }

    const ci = SKIP_CI ? undefined : measureCiRun(work);
    if (ci) {
      const steps = Object.entries(ci.steps).map(([name, seconds]) => `${name} ${seconds} s`).join(", ");
      rows.push([`\`.ci/run\` on a fresh clone${ci.ok ? "" : " (FAILED)"}: ${steps}`, fmt(ci.total, 0), "n/a", `${fmt(ci.counted, 0)} s count against the budget`]);
    }

    const timeRatio = barrel.seconds / synth.seconds;
    const memoryRatio = barrel.peakMb && synth.peakMb ? barrel.peakMb / synth.peakMb : undefined;
    const growth = scaling[100].seconds / scaling[3].seconds;
    targets.push(
      ["full synth ≤ 1.2 s (median)", `${fmt(synth.seconds, 2)} s`, verdict(synth.seconds <= 1.2)],
      ["full synth ≤ 250 MB", `${fmt(synth.peakMb, 0)} MB`, verdict(synth.peakMb === undefined ? undefined : synth.peakMb <= 250)],
      ["≥ 4× faster than the barrel build", `${fmt(timeRatio, 2)}×`, verdict(timeRatio >= 4)],
      ["≥ 3× leaner than the barrel build", `${fmt(memoryRatio, 2)}×`, verdict(memoryRatio === undefined ? undefined : memoryRatio >= 3)],
      ["100 environments ≤ 10× the 3-environment time", `${fmt(growth, 2)}×`, verdict(growth <= 10)],
      ["30 environments on 3 clusters ≤ 1.5× on 1 cluster", `${fmt(clustered.seconds / scaling[30].seconds, 2)}×`, verdict(clustered.seconds / scaling[30].seconds <= 1.5)],
      ["`npm test` with the offline plans ≤ 60 s", testsWith ? `${fmt(testsWith.seconds, 1)} s` : "n/a", verdict(testsWith && !testsWith.failed ? testsWith.seconds <= 60 : undefined)],
      ["`npm test` without the offline plans ≤ 30 s", testsWithout ? `${fmt(testsWithout.seconds, 1)} s` : "n/a", verdict(testsWithout && !testsWithout.failed ? testsWithout.seconds <= 30 : undefined)],
      ["`.ci/run` on a fresh clone ≤ 180 s, policy scan aside", ci ? `${fmt(ci.counted, 0)} s` : "n/a", verdict(ci?.ok ? ci.counted <= 180 : undefined)],
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const table = (header: string[], body: string[][]) =>
    [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...body.map((r) => `| ${r.join(" | ")} |`)].join("\n");
  const report = [
    table(["Measurement", "Wall (s)", "Peak RSS (MB)", "Ratio (time / memory)"], rows),
    "",
    table(["Target", "Measured", "Result"], targets),
    "",
    ...machine().map((line) => (MARKDOWN ? `- ${line}` : line)),
    MARKDOWN ? `- Runs: median of ${RUNS} after a warm-up for the default synths, the same without warm-up for 30 and 100 environments, one run for the CLI and the test suites` : "",
  ].join("\n");
  console.log(report);
}

if (require.main === module) main();
