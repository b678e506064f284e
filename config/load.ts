import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { configSchema, type PlatformConfig } from "./schema";
import { ConfigPathError, EXAMPLE_CONFIG_PATH } from "./source";

/** @deprecated the example is not what the project deploys; use EXAMPLE_CONFIG_PATH or resolveConfigPath(). */
export const DEFAULT_CONFIG_PATH = EXAMPLE_CONFIG_PATH;

/** One problem in a configuration: where, what was given, what is allowed. */
export interface ConfigProblem {
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      [`Invalid configuration in ${source}:`, ...problems.map((p) => `  - ${p.path}: ${formatValue(p.value)} is not allowed: ${p.message}`)].join("\n"),
    );
    this.name = "ConfigError";
  }
}

function formatValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `environments[2].database.instanceClass`, from zod's `["environments", 2, ...]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((acc, segment) => {
    if (typeof segment === "number") return `${acc}[${segment}]`;
    return acc ? `${acc}.${String(segment)}` : String(segment);
  }, "");
}

function valueAt(root: unknown, segments: readonly PropertyKey[]): unknown {
  return segments.reduce<unknown>(
    (node, key) => (node !== null && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[key] : undefined),
    root,
  );
}

function toProblems(error: z.ZodError, input: unknown): ConfigProblem[] {
  return error.issues.map((problem) => {
    if (problem.code === "unrecognized_keys") {
      return {
        path: formatPath(problem.path) || "(root)",
        value: problem.keys,
        message: "unknown field(s); check the spelling against the config reference in docs/configuration.md",
      };
    }
    const value = "input" in problem && problem.input !== undefined ? problem.input : valueAt(input, problem.path);
    return { path: formatPath(problem.path) || "(root)", value, message: problem.message };
  });
}

/** Validates an already-parsed configuration object. Throws ConfigError. */
export function validateConfig(input: unknown, source = "configuration"): PlatformConfig {
  const result = configSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw new ConfigError(source, toProblems(result.error, input));
  return result.data;
}

const READ_FAILURES: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "it is a directory, not a YAML file",
  ENOTDIR: "a part of the path is not a directory",
};

/** Reads a configuration file; a missing or unreadable one is a one-line ConfigPathError. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    throw new ConfigPathError(`cannot read platform config ${file}: ${READ_FAILURES[code] ?? (error as Error).message}`);
  }
}

/** Reads and validates a YAML configuration file. Throws ConfigError or ConfigPathError. */
export function loadConfig(file: string = EXAMPLE_CONFIG_PATH): PlatformConfig {
  const text = readConfigText(file);
  let input: unknown;
  try {
    input = parseYaml(text);
  } catch (cause) {
    throw new ConfigError(file, [{ path: "(file)", value: undefined, message: `not valid YAML: ${(cause as Error).message}` }]);
  }
  return validateConfig(input, file);
}
