import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import {
  ConfigError,
  ConfigPathError,
  describeConfigPath,
  findPlaceholders,
  configWarnings,
  configWarningText,
  loadConfigFile,
  issuerWarning,
  placeholderWarning,
  sharedServerWarnings,
  resolveConfigPath,
  type PlatformConfig,
  type ResolvedConfigPath,
} from "./config";
import { smtpPlaceholders } from "./constructs/addons/monitoring";
import { DEFAULT_VALUES_DIR } from "./constructs/addons/values";
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
  let raw: unknown;
  try {
    resolved = resolveConfigPath();
    ({ config, raw } = loadConfigFile(resolved.path));
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
  const warning = placeholderWarning([
    ...findPlaceholders(raw),
    // The mail relay every in-cluster alert goes through lives in the values files.
    ...smtpPlaceholders(DEFAULT_VALUES_DIR, Object.keys(config.clouds), config.alerts.emails),
  ]);
  if (warning) console.log(warning);
  const app = new App();
  buildPlatform(app, config);
  app.synth();
  // The cdktf CLI (which sets CDKTF_CONTEXT_JSON) removes them itself once the
  // app exits, from a list taken before: removing them here would make it fail.
  if (process.env.CDKTF_CONTEXT_JSON === undefined) removeStaleStacks(app.outdir);
  // Last, so that they are what a user sees when synth is done.
  const warnings = configWarningText(configWarnings(config));
  if (warnings) console.log(warnings);
  for (const line of sharedServerWarnings(config)) console.log(line);
  const issuer = issuerWarning(config);
  if (issuer) console.log(issuer);
  return 0;
}

process.exitCode = main();
