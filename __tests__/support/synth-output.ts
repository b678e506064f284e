import { readFileSync } from "node:fs";
import * as path from "node:path";

/**
 * Reading a synthesized program: what the global setup needs without loading
 * the program itself (support/synth.ts synthesizes).
 */

/** A synthesized Terraform JSON document. */
export type TerraformJson = {
  terraform?: Record<string, any>;
  provider?: Record<string, any[]>;
  resource?: Record<string, Record<string, any>>;
  data?: Record<string, Record<string, any>>;
  output?: Record<string, any>;
  locals?: Record<string, any>;
};

/** cdktf.out/manifest.json: the stacks, where they were written and what they depend on. */
export interface Manifest {
  readonly stacks: Record<string, { dependencies: string[]; workingDirectory: string; synthesizedStackPath: string }>;
}

export function readManifest(outdir: string): Manifest {
  return JSON.parse(readFileSync(path.join(outdir, "manifest.json"), "utf8"));
}

export interface Synthesized {
  readonly outdir: string;
  readonly manifest: Manifest;
  stack(id: string): TerraformJson;
  /** The raw text of every stack, for searching secrets and forbidden values. */
  allText(): string;
  cleanup(): void;
}

export function readSynthesized(outdir: string): Synthesized {
  const manifest = readManifest(outdir);
  const texts = new Map<string, string>();
  const read = (id: string) => {
    const entry = manifest.stacks[id];
    if (!entry) throw new Error(`no stack '${id}'; stacks are ${Object.keys(manifest.stacks).join(", ")}`);
    let text = texts.get(id);
    if (text === undefined) {
      text = readFileSync(path.join(outdir, entry.synthesizedStackPath), "utf8");
      texts.set(id, text);
    }
    return text;
  };
  return {
    outdir,
    manifest,
    stack: (id) => JSON.parse(read(id)),
    allText: () => Object.keys(manifest.stacks).map(read).join("\n"),
    // Shared by every test file of the worker: removed with the run's directory.
    cleanup: () => undefined,
  };
}

/**
 * Where the global setup synthesized the default program, for the test
 * workers it starts afterwards (they inherit its environment).
 */
export const DEFAULT_SYNTH_VARIABLE = "PLATFORM_TEST_DEFAULT_SYNTH";

/**
 * A directory the global setup makes for the run and removes after it, for
 * what the test workers synthesize: a worker is stopped, not exited, so its
 * own clean-up at exit cannot be relied on.
 */
export const RUN_DIR_VARIABLE = "PLATFORM_TEST_RUN_DIR";

/** What `npm run synth` printed for the default program (its warnings), beside the global setup's cdktf.out. */
export const SYNTH_LOG = "synth.log";
