import { readFileSync, statSync } from "node:fs";
import { isMap, isScalar, isSeq, parseDocument, type Node } from "yaml";
import type { z } from "zod";
import { describeExpected, friendlyMessage } from "./messages";
import { configSchema, type PlatformConfig } from "./schema";
import { closestMatch } from "./suggest";
import { ConfigPathError, EXAMPLE_CONFIG_PATH } from "./source";

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
  // A misspelt required field is reported once, as the misspelling; a field
  // that breaks several rules, by the first (its format before what depends on it).
  const misspelt = new Set(problems.flatMap((p) => (p.suggested ? [p.suggested] : [])));
  const reported = new Set<string>();
  const firstForField = (p: ConfigProblem) => {
    const key = `${p.path}\0${JSON.stringify(p.value)}`;
    if (reported.has(key)) return false;
    reported.add(key);
    return true;
  };
  return problems
    .filter((p) => !(p.value === undefined && misspelt.has(p.path)))
    .filter(firstForField)
    .map(({ path, value, message }) => ({ path, value, message }));
}

/** The source text of YAML scalars that were not written as strings (`1.30`, `010`, `true`), by path. */
export type ScalarSources = ReadonlyMap<string, string>;
const pathKey = (segments: readonly PropertyKey[]) => segments.map(String).join("\0");

const INVISIBLE = /[\p{Cf}\p{Cc}]/u;
const codePoint = (text: string) => `U+${text.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** The allowed strings of an enum or literal schema, or undefined for free text; null when the schema takes no text. */
function textSchema(schema: z.core.$ZodType | undefined): readonly string[] | undefined | null {
  const node = schema && schemaAt(schema, []);
  const def = node?._zod.def as any;
  if (def?.type === "string") return undefined;
  if (def?.type === "enum") return Object.values(def.entries).filter((value): value is string => typeof value === "string");
  if (def?.type === "literal") return def.values.filter((value: unknown): value is string => typeof value === "string");
  return null;
}

/**
 * Prepares input for the schema: a number or boolean where text is expected
 * becomes the text the user wrote (YAML reads `engineVersion: 16` as a
 * number, `version: 1.30` as 1.3); without the source text, a number becomes
 * text only when that loses nothing, and otherwise the problem says to quote
 * it. Any invisible character (zero-width, bidi control) is a problem: it
 * makes a value differ from what the user sees.
 */
function normalize(schema: z.core.$ZodType | undefined, value: unknown, at: PropertyKey[], sources: ScalarSources | undefined, problems: ConfigProblem[]): unknown {
  if (typeof value === "string") {
    const invisible = INVISIBLE.exec(value);
    if (invisible) problems.push({ path: formatPath(at), value, message: `contains an invisible character (${codePoint(invisible[0])}) at position ${invisible.index + 1}; retype the value` });
    return value;
  }
  if (typeof value === "number" || typeof value === "boolean") {
    const allowed = textSchema(schema);
    if (allowed === null) return value;
    const written = sources?.get(pathKey(at));
    const text = written ?? (typeof value === "number" && Number.isFinite(value) ? String(value) : undefined);
    if (text !== undefined && (allowed === undefined || allowed.includes(text))) return text;
    // 1.30 unquoted is the number 1.3: say so, rather than that "1.3" is not a version.
    const meant = typeof value === "number" ? allowed?.find((option) => Number(option) === value) : undefined;
    if (meant !== undefined) {
      problems.push({ path: formatPath(at), value, message: `is the number ${value}, not the text "${meant}": quote it: "${meant}"` });
      return value;
    }
    return text ?? value;
  }
  if (Array.isArray(value)) return value.map((item, i) => normalize(schema && schemaAt(schema, [i]), item, [...at, i], sources, problems));
  if (value !== null && typeof value === "object") {
    const node = schema && schemaAt(schema, []);
    const isRecord = node?._zod.def.type === "record";
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => {
        if (isRecord && INVISIBLE.test(key)) problems.push({ path: formatPath([...at, key]), value: key, message: `the key contains an invisible character (${codePoint(INVISIBLE.exec(key)![0])}); retype it` });
        return [key, normalize(schema && schemaAt(schema, [key]), item, [...at, key], sources, problems)];
      }),
    );
  }
  return value;
}

/** Validates an already-parsed configuration object. Throws ConfigError. */
export function validateConfig(input: unknown, source = "configuration", sources?: ScalarSources): PlatformConfig {
  const early: ConfigProblem[] = [];
  const prepared = normalize(configSchema, input, [], sources, early);
  const result = configSchema.safeParse(prepared, { reportInput: true, error: friendlyMessage });
  if (early.length === 0 && result.success) return result.data;
  const reported = new Set(early.map((problem) => problem.path));
  const later = result.success ? [] : toProblems(result.error, prepared).filter((problem) => !reported.has(problem.path));
  throw new ConfigError(source, [...early, ...later]);
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

/** The largest configuration read: far above any real platform, and parsed in a few seconds. */
export const MAX_CONFIG_BYTES = 16 * 2 ** 20;

/** A configuration file parsed once: its data and the source text of its non-string scalars. */
export interface ParsedConfig {
  readonly data: unknown;
  readonly sources: ScalarSources;
}

/**
 * Parses YAML text once. Keys are checked for duplicates here, in one pass
 * with a set per mapping (the YAML library's own check compares every pair
 * of keys, minutes for a map of thousands), and the text of every number and
 * boolean is kept for normalize().
 */
export function parseConfigText(text: string, file: string): ParsedConfig {
  const fail = (message: string) => new ConfigError(file, [{ path: "(file)", value: undefined, message }]);
  let document;
  try {
    document = parseDocument(text, { uniqueKeys: false, prettyErrors: true });
  } catch (cause) {
    throw fail(`not valid YAML: ${(cause as Error).message}`);
  }
  if (document.errors.length > 0) throw fail(`not valid YAML: ${document.errors[0].message}`);
  const sources = new Map<string, string>();
  const walk = (node: unknown, at: PropertyKey[]): void => {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) throw fail(`the key ${JSON.stringify(String(key))} appears twice in ${formatPath(at) || "the top level"}; YAML keeps only one of them`);
        seen.add(key);
        walk(pair.value, [...at, String(key)]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...at, i]));
    } else if (isScalar(node) && typeof node.value !== "string" && node.value !== null && node.range) {
      sources.set(pathKey(at), text.slice(node.range[0], node.range[1]).trim());
    }
  };
  walk(document.contents as Node | null, []);
  let data: unknown;
  try {
    data = document.toJS();
  } catch (cause) {
    throw fail(`not valid YAML: ${(cause as Error).message}`);
  }
  return { data, sources };
}

/** Reads a configuration file and parses it once; too large, unreadable or not YAML is a one-line error. */
export function readConfigFile(file: string): ParsedConfig {
  const size = statSafe(file);
  if (size > MAX_CONFIG_BYTES) {
    throw new ConfigError(file, [{ path: "(file)", value: undefined, message: `is ${size} bytes; a platform config is at most ${MAX_CONFIG_BYTES / 2 ** 20} MiB (${MAX_CONFIG_BYTES} bytes)` }]);
  }
  return parseConfigText(readConfigText(file), file);
}

function statSafe(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // readConfigText says why it cannot be read.
  }
}

/** Reads and validates a YAML configuration file. Throws ConfigError or ConfigPathError. */
export function loadConfig(file: string = EXAMPLE_CONFIG_PATH): PlatformConfig {
  return loadConfigFile(file).config;
}

/** The validated configuration and the data it was read from (what the user wrote, before defaults). */
export function loadConfigFile(file: string): { config: PlatformConfig; raw: unknown } {
  const { data, sources } = readConfigFile(file);
  return { config: validateConfig(data, file, sources), raw: data };
}
