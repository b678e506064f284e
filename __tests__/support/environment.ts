import { existsSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Tests that need data or tools outside the repository find them through
 * environment variables. Without them the tests are skipped with a reason in
 * their title; `.ci/run` sets `PLATFORM_REQUIRE_ALL_CHECKS=1`, which turns every
 * such skip into a failure, so CI always runs them.
 */
export const requireAllChecks = process.env.PLATFORM_REQUIRE_ALL_CHECKS === "1";

export interface Availability {
  readonly available: boolean;
  readonly reason: string;
}

/** Root of the shared reference data (`charts/`, `crd-schemas/`), from `PLATFORM_SHARED_DIR`. */
export function sharedDataDir(): Availability & { readonly dir?: string } {
  const dir = process.env.PLATFORM_SHARED_DIR;
  if (!dir) return { available: false, reason: "PLATFORM_SHARED_DIR is not set" };
  if (!existsSync(path.join(dir, "crd-schemas")) || !existsSync(path.join(dir, "charts"))) {
    return { available: false, reason: `PLATFORM_SHARED_DIR=${dir} has no crd-schemas/ and charts/` };
  }
  return { available: true, reason: "", dir };
}

/**
 * A title suffix for a skipped group, or a thrown error when CI requires the
 * check. Use as `describe.skipIf(!a.available)(title + skipNote(a), ...)`.
 */
export function skipNote(availability: Availability): string {
  if (availability.available) return "";
  if (requireAllChecks) {
    throw new Error(`PLATFORM_REQUIRE_ALL_CHECKS=1 but a check cannot run: ${availability.reason}`);
  }
  return ` [skipped: ${availability.reason}]`;
}

/**
 * A command-line tool, from the environment variable `variable` (a path) or
 * else the PATH: `promtool` and `amtool` come from Debian's `prometheus` and
 * `prometheus-alertmanager` packages, which `.ci/run` installs.
 */
export function commandLineTool(name: string, variable: string): Availability & { readonly path?: string } {
  const explicit = process.env[variable];
  if (explicit) {
    return existsSync(explicit) ? { available: true, reason: "", path: explicit } : { available: false, reason: `${variable}=${explicit} does not exist` };
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return { available: true, reason: "", path: candidate };
  }
  return { available: false, reason: `${name} is not on PATH and ${variable} is not set` };
}

/**
 * Node arguments that run one of the project's TypeScript scripts, with tsx's
 * loader in the same process (tsx's CLI would start a second one).
 */
export function tsxScript(script: string, ...args: string[]): string[] {
  const root = path.resolve(__dirname, "..", "..");
  return ["--import", pathToFileURL(path.join(root, "node_modules", "tsx", "dist", "loader.mjs")).href, path.join(root, script), ...args];
}
