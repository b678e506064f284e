import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { TestProject } from "vitest/node";
import { commandLineTool, sharedDataDir } from "./environment";
import { cacheProviders, mirrorHasProviders, offlineTerraform, planOffline } from "./offline-terraform";
import { EXAMPLE_CONFIG_PATH, PROJECT_ROOT } from "../../config/source";
import { DEFAULT_SYNTH_VARIABLE, readSynthesized, RUN_DIR_VARIABLE, SYNTH_LOG } from "./synth-output";

/** What the offline plans of the default program left on disk, for every test file to read. */
export interface SharedOfflinePlans {
  /** The synthesized program the plans were made from. */
  readonly outdir: string;
  readonly stacks: Record<string, { readonly workdir: string; readonly planFile: string; readonly diagnostics: unknown; readonly seconds: number }>;
}

declare module "vitest" {
  export interface ProvidedContext {
    offlinePlans: SharedOfflinePlans | null;
  }
}

const PARALLEL_PLANS = 2;

/**
 * Global setup: synthesizes the default program once and plans, against the
 * real providers in the mirror, every stack whose providers are all there.
 * The test files that check plans share these instead of each planning again.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const terraform = offlineTerraform();
  // Said once here, where the default reporter shows it; the skipped groups also carry it in their titles.
  for (const [checks, availability] of [
    ["offline terraform plans", terraform],
    ["chart and CRD reference checks", sharedDataDir()],
    ["promtool rule checks", commandLineTool("promtool", "PROMTOOL")],
    ["amtool configuration checks", commandLineTool("amtool", "AMTOOL")],
  ] as const) {
    if (!availability.available) console.warn(`skipping ${checks}: ${availability.reason}`);
  }
  // The default program, synthesized by the real entry point (`npm run synth`) into a directory of its own.
  const runDir = mkdtempSync(path.join(tmpdir(), "platform-test-"));
  process.env[RUN_DIR_VARIABLE] = runDir;
  const workdir = path.join(runDir, "default");
  mkdirSync(workdir);
  const run = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "scripts", "synth.cjs")], {
    cwd: workdir,
    env: { ...process.env, PLATFORM_CONFIG: EXAMPLE_CONFIG_PATH, CDKTF_CONTEXT_JSON: undefined },
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`npm run synth of the example config failed:\n${run.stderr}`);
  writeFileSync(path.join(workdir, SYNTH_LOG), run.stdout);
  const synth = readSynthesized(path.join(workdir, "cdktf.out"));
  // Every test file reads this one synthesis of the default program (support/synth.ts).
  process.env[DEFAULT_SYNTH_VARIABLE] = synth.outdir;
  if (!terraform.available) {
    project.provide("offlinePlans", null);
    return () => rmSync(runDir, { recursive: true, force: true });
  }
  const ids = Object.keys(synth.manifest.stacks).filter((id) => mirrorHasProviders(terraform.mirror!, synth.stack(id)));
  await cacheProviders(terraform, ids.map((id) => synth.stack(id)));
  const stacks: SharedOfflinePlans["stacks"] = {};
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const result = await planOffline(terraform, path.join(synth.outdir, synth.manifest.stacks[id].workingDirectory));
      const planFile = path.join(result.workdir, "offline-plan.json");
      writeFileSync(planFile, JSON.stringify(result.plan));
      stacks[id] = { workdir: result.workdir, planFile, diagnostics: result.diagnostics, seconds: result.seconds };
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_PLANS }, worker));
  project.provide("offlinePlans", { outdir: synth.outdir, stacks });
  return () => {
    for (const stack of Object.values(stacks)) rmSync(stack.workdir, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  };
}
