import { readFileSync } from "node:fs";
import * as path from "node:path";

/** The project root: the folder holding cdktf.json. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The example configuration: what `npm test` checks, whatever the project deploys. */
export const EXAMPLE_CONFIG_PATH = path.join(__dirname, "platform.yaml");

/** Where the configuration a synth reads was chosen. */
export type ConfigSource = "PLATFORM_CONFIG" | "cdktf.json";

export interface ResolvedConfigPath {
  /** Absolute path of the YAML file. */
  readonly path: string;
  readonly source: ConfigSource;
}

/** A configuration that cannot be found or read: one line, no stack trace. */
export class ConfigPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigPathError";
  }
}

/**
 * The configuration every entry point synthesizes: `PLATFORM_CONFIG` when set
 * and not empty, resolved from the directory the command was started in (npm
 * runs scripts from the project root and records that directory in INIT_CWD);
 * otherwise `context.platformConfig` of cdktf.json, relative to the project root.
 * One committed place, so that `npx cdktf deploy` in a new shell reads the same
 * file as the `npm run synth` before it.
 */
export function resolveConfigPath(env: NodeJS.ProcessEnv = process.env, root: string = PROJECT_ROOT): ResolvedConfigPath {
  // An unset repository variable reaches a workflow as an empty string: "not set", never a path.
  const override = env.PLATFORM_CONFIG?.trim();
  if (override) {
    const startedIn = env.INIT_CWD || process.cwd();
    return { path: path.resolve(startedIn, override), source: "PLATFORM_CONFIG" };
  }
  const cdktfJson = path.join(root, "cdktf.json");
  let context: unknown;
  try {
    context = JSON.parse(readFileSync(cdktfJson, "utf8")).context;
  } catch (error) {
    throw new ConfigPathError(`cannot read ${cdktfJson}: ${(error as Error).message}`);
  }
  const chosen = (context as { platformConfig?: unknown } | undefined)?.platformConfig;
  if (typeof chosen !== "string" || chosen === "") {
    throw new ConfigPathError(
      `${cdktfJson} names no configuration: set "context": { "platformConfig": "config/<your-file>.yaml" } or PLATFORM_CONFIG`,
    );
  }
  return { path: path.resolve(root, chosen), source: "cdktf.json" };
}

/** `config/acme.yaml (from cdktf.json)`: the path as the user would type it from where they are. */
export function describeConfigPath(resolved: ResolvedConfigPath, from: string = process.env.INIT_CWD || process.cwd()): string {
  const relative = path.relative(from, resolved.path);
  const shown = relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : resolved.path;
  return `${shown} (from ${resolved.source})`;
}
