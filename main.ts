import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import { parse as parseYaml } from "yaml";
import {
  ConfigError,
  ConfigPathError,
  describeConfigPath,
  findPlaceholders,
  issuerWarning,
  loadConfig,
  placeholderWarning,
  readConfigText,
  resolveConfigPath,
  type PlatformConfig,
  type ResolvedConfigPath,
} from "./config";
import { buildPlatform } from "./stacks/app";

/**
 * Stack folders the manifest no longer lists, from an earlier config: left
 * behind, a user could `cd` into one and plan a platform nobody configures.
 */
function removeStaleStacks(outdir: string): void {
  const stacksDir = path.join(outdir, "stacks");
  if (!existsSync(stacksDir)) return;
  const current = new Set(Object.keys(JSON.parse(readFileSync(path.join(outdir, "manifest.json"), "utf8")).stacks));
  for (const entry of readdirSync(stacksDir, { withFileTypes: true })) {
    if (entry.isDirectory() && !current.has(entry.name)) rmSync(path.join(stacksDir, entry.name), { recursive: true, force: true });
  }
}

function main(): number {
  // Validate everything before the app exists, so a bad config writes nothing.
  let resolved: ResolvedConfigPath;
  let config: PlatformConfig;
  try {
    resolved = resolveConfigPath();
    config = loadConfig(resolved.path);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ConfigPathError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  // stdout: the cdktf CLI shows an app's stdout and keeps its stderr for failures.
  console.log(`platform config: ${describeConfigPath(resolved)}`);
  // What the file says, not the defaults derived from it: a warning names fields the user wrote.
  const warning = placeholderWarning(findPlaceholders(parseYaml(readConfigText(resolved.path))));
  if (warning) console.log(warning);
  const issuer = issuerWarning(config);
  if (issuer) console.log(issuer);
  const app = new App();
  buildPlatform(app, config);
  app.synth();
  // The cdktf CLI (which sets CDKTF_CONTEXT_JSON) removes them itself once the
  // app exits, from a list taken before: removing them here would make it fail.
  if (process.env.CDKTF_CONTEXT_JSON === undefined) removeStaleStacks(app.outdir);
  return 0;
}

process.exitCode = main();
