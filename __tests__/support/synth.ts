import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import { parse } from "yaml";
import { EXAMPLE_CONFIG_PATH, loadConfig, validateConfig, type PlatformConfig } from "../../config";
import { buildPlatform } from "../../stacks/app";

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

/** Synthesizes the whole program for a configuration into a temporary cdktf.out. */
export function synthesize(config: PlatformConfig = loadConfig(EXAMPLE_CONFIG_PATH)): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), "platform-synth-"));
  const app = new App({ outdir, skipValidation: false });
  buildPlatform(app, config);
  app.synth();
  const manifest = readManifest(outdir);
  const read = (id: string) => {
    const entry = manifest.stacks[id];
    if (!entry) throw new Error(`no stack '${id}'; stacks are ${Object.keys(manifest.stacks).join(", ")}`);
    return readFileSync(path.join(outdir, entry.synthesizedStackPath), "utf8");
  };
  return {
    outdir,
    manifest,
    stack: (id) => JSON.parse(read(id)),
    allText: () => Object.keys(manifest.stacks).map(read).join("\n"),
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The default configuration with a change applied to a deep copy. */
export function configWith(change: (raw: any) => void): unknown {
  const raw = defaultRawConfig();
  change(raw);
  return raw;
}

let cachedRaw: unknown;
/** The default configuration as plain data, before validation. */
export function defaultRawConfig(): any {
  cachedRaw ??= parse(readFileSync(EXAMPLE_CONFIG_PATH, "utf8"));
  return structuredClone(cachedRaw);
}

export { validateConfig };

/** Resources of one type in a stack, keyed by their logical id. */
export function resourcesOf(stack: TerraformJson, type: string): Record<string, any> {
  return stack.resource?.[type] ?? {};
}

/** The only resource of a type in a stack; fails when there are none or several. */
export function onlyResource(stack: TerraformJson, type: string): any {
  const all = Object.values(resourcesOf(stack, type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}
