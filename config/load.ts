import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { describeExpected, friendlyMessage } from "./messages";
import { configSchema, type PlatformConfig } from "./schema";
import { closestMatch } from "./suggest";
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
      [`Invalid configuration in ${source}:`, ...problems.map(formatProblem)].join("\n"),
    );
    this.name = "ConfigError";
  }
}

function formatValue(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `path: value is not allowed: rule`, or `path: rule` when there is no value to show. */
function formatProblem(problem: ConfigProblem): string {
  if (problem.value === undefined || problem.value === null) return `  - ${problem.path}: ${problem.message}`;
  return `  - ${problem.path}: ${formatValue(problem.value)} is not allowed: ${problem.message}`;
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

/** The zod schema a path of the input leads to, through lists, defaults and optionals. */
function schemaAt(schema: z.core.$ZodType, segments: readonly PropertyKey[]): z.core.$ZodType | undefined {
  let node: z.core.$ZodType | undefined = schema;
  let i = 0;
  while (node) {
    const def = node._zod.def as any;
    if (["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"].includes(def.type)) node = def.innerType;
    else if (def.type === "pipe") node = def.in;
    else if (i === segments.length) return node;
    else if (def.type === "object") node = def.shape[segments[i++] as string];
    else if (def.type === "array") (node = def.element), i++;
    else if (def.type === "record") (node = def.valueType), i++;
    else return undefined;
  }
  return undefined;
}

function fieldsOf(schema: z.core.$ZodType | undefined): string[] {
  const object = schema && schemaAt(schema, []);
  return object?._zod.def.type === "object" ? Object.keys((object._zod.def as any).shape) : [];
}

/** The field an unknown key most likely meant: a sibling, else a field one level down (`network.vpcCidr`). */
function suggestField(key: string, at: z.core.$ZodType | undefined): string | undefined {
  const siblings = fieldsOf(at);
  const sibling = closestMatch(key, siblings);
  if (sibling) return sibling;
  for (const child of siblings) {
    const nested = closestMatch(key, fieldsOf(schemaAt(at!, [child])));
    if (nested) return `${child}.${nested}`;
  }
  return undefined;
}

function unknownKeyProblems(problem: z.core.$ZodIssueUnrecognizedKeys): (ConfigProblem & { suggested?: string })[] {
  const at = schemaAt(configSchema, problem.path);
  const where = formatPath(problem.path) || "(root)";
  return problem.keys.map((key) => {
    const suggested = suggestField(key, at);
    const allowed = fieldsOf(at).join(", ");
    return {
      path: where,
      value: key,
      message: suggested ? `unknown field; did you mean "${suggested}"?` : `unknown field; the fields here are ${allowed}`,
      suggested: suggested && formatPath([...problem.path, ...suggested.split(".")]),
    };
  });
}

function toProblems(error: z.ZodError, input: unknown): ConfigProblem[] {
  const problems: (ConfigProblem & { suggested?: string })[] = error.issues.flatMap((problem) => {
    if (problem.code === "unrecognized_keys") return unknownKeyProblems(problem);
    const path = formatPath(problem.path) || "(root)";
    const value = "input" in problem && problem.input !== undefined ? problem.input : valueAt(input, problem.path);
    if (problem.code === "invalid_type" && value === undefined) {
      return [{ path, value, message: `is required: ${describeExpected(problem.expected)}` }];
    }
    if (problem.code === "invalid_type" && value === null) {
      return [{ path, value, message: `is empty: set ${describeExpected(problem.expected)}` }];
    }
    if (problem.code === "invalid_key") {
      return [{ path, value, message: `is not an allowed key: ${problem.issues[0]?.message ?? problem.message}` }];
    }
    return [{ path, value, message: problem.message }];
  });
  // A misspelt required field is reported once, as the misspelling.
  const misspelt = new Set(problems.flatMap((p) => (p.suggested ? [p.suggested] : [])));
  return problems
    .filter((p) => !(p.value === undefined && misspelt.has(p.path)))
    .map(({ path, value, message }) => ({ path, value, message }));
}

/** Validates an already-parsed configuration object. Throws ConfigError. */
export function validateConfig(input: unknown, source = "configuration"): PlatformConfig {
  const result = configSchema.safeParse(input, { reportInput: true, error: friendlyMessage });
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
