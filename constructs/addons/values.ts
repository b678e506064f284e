import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import deepmerge from "deepmerge";
import { parse } from "yaml";

/** Helm values or any other nested YAML object. */
export type Values = Record<string, unknown>;

/** `helm-values/` at the root of the project. */
export const DEFAULT_VALUES_DIR = path.join(__dirname, "..", "..", "helm-values");

/**
 * Deep-merges values, later ones winning. Arrays are replaced, not
 * concatenated, the way Helm treats lists: a user who lists receivers or
 * tolerations means exactly that list.
 */
export function mergeValues(...layers: Values[]): Values {
  return deepmerge.all<Values>(layers, { arrayMerge: (_target, source) => source });
}

/**
 * The values a user keeps for a release: `<release>.yaml`, then the cloud's
 * overlay `<release>.<cloud>.yaml`. Both are optional; the files are read at
 * synth, nothing is fetched.
 */
export function userValues(valuesDir: string, release: string, cloud: string): Values[] {
  return [`${release}.yaml`, `${release}.${cloud}.yaml`]
    .map((file) => path.join(valuesDir, file))
    .filter((file) => existsSync(file))
    .map((file) => readValuesFile(file));
}

function readValuesFile(file: string): Values {
  let parsed: unknown;
  try {
    parsed = parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new Error(`${file}: not valid YAML: ${(cause as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`${file}: must hold a mapping of values at the top level, found ${Array.isArray(parsed) ? "a list" : typeof parsed}`);
  }
  return parsed as Values;
}

/** Computed values first, user files over them: what a user writes wins. */
export function releaseValues(computed: Values, valuesDir: string, release: string, cloud: string): Values {
  return mergeValues(computed, ...userValues(valuesDir, release, cloud));
}
