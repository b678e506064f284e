import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import { parse } from "yaml";
import { EXAMPLE_CONFIG_PATH, loadConfig, validateConfig, type PlatformConfig } from "../../config";
import { buildPlatform } from "../../stacks/app";
import { DEFAULT_SYNTH_VARIABLE, readSynthesized, RUN_DIR_VARIABLE, type Synthesized, type TerraformJson } from "./synth-output";

export { DEFAULT_SYNTH_VARIABLE, readManifest, type Manifest, type Synthesized, type TerraformJson } from "./synth-output";

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
  const outdir = mkdtempSync(path.join(process.env[RUN_DIR_VARIABLE] || tmpdir(), "platform-synth-"));
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
