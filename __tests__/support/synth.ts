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

/**
 * Synthesized programs of this worker, by configuration. Test files share a
 * worker's module cache (`isolate: false`), so each configuration is
 * synthesized once per worker however many files read it; the default one
 * not even that, when the global setup has written it.
 */
const synthesized = new Map<string, Synthesized>();
const temporaryDirs: string[] = [];
process.once("exit", () => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

function readSynthesized(outdir: string): Synthesized {
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
    // Shared by every test file of the worker: removed when the worker exits.
    cleanup: () => undefined,
  };
}

/**
 * Where the global setup synthesized the default program, for the test
 * workers it starts afterwards (they inherit its environment).
 */
export const DEFAULT_SYNTH_VARIABLE = "PLATFORM_TEST_DEFAULT_SYNTH";

let defaultKey: string | undefined;
const defaultConfigKey = () => (defaultKey ??= JSON.stringify(loadConfig(EXAMPLE_CONFIG_PATH)));

/**
 * Synthesizes the whole program for a configuration into a temporary
 * cdktf.out, once per worker. `only` keeps one cloud of the configuration:
 * the clouds' stacks are independent, and a test about one of them need not
 * build the other.
 */
export function synthesize(config?: PlatformConfig, { only }: { only?: keyof PlatformConfig["clouds"] } = {}): Synthesized {
  if (only) {
    const base = config ?? loadConfig(EXAMPLE_CONFIG_PATH);
    if (!base.clouds[only]) throw new Error(`the configuration has no ${only} cloud to keep`);
    config = { ...base, clouds: { [only]: base.clouds[only] } };
  }
  const key = config === undefined || JSON.stringify(config) === defaultConfigKey() ? "(default)" : JSON.stringify(config);
  const known = synthesized.get(key);
  if (known) return known;
  const shared = key === "(default)" ? process.env[DEFAULT_SYNTH_VARIABLE] || undefined : undefined;
  const result = readSynthesized(shared ?? synthesizeInto(config ?? loadConfig(EXAMPLE_CONFIG_PATH)));
  synthesized.set(key, result);
  return result;
}

/** Synthesizes into a new temporary directory, removed when the process exits. */
export function synthesizeInto(config: PlatformConfig): string {
  const outdir = mkdtempSync(path.join(tmpdir(), "platform-synth-"));
  temporaryDirs.push(outdir);
  const app = new App({ outdir, skipValidation: false });
  buildPlatform(app, config);
  app.synth();
  return outdir;
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
