import type { z } from "zod";

/**
 * Sentences for the schema library's own checks, where a field sets no
 * message of its own: "must be at most 35", not "Too big: expected number to
 * be <=35".
 */

const TYPE_NAMES: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping of fields",
  record: "a mapping of keys to values",
  null: "empty",
};

/** What a value is, in the config's terms. */
export function describeType(value: unknown): string {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "number" && !Number.isInteger(value)) return "a fraction";
  return TYPE_NAMES[typeof value] ?? typeof value;
}

/** What a schema expects, from zod's `expected`. */
export function describeExpected(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

const FORMATS: Record<string, string> = {
  uuid: "an object id (a UUID) such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301",
  guid: "an object id (a UUID) such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301",
  ipv4: "an IPv4 address such as 10.0.0.10",
  email: "an e-mail address",
  url: "a URL",
};

function bound(issue: { origin?: string; inclusive?: boolean }, limit: unknown, more: boolean): string {
  const size = Number(limit);
  switch (issue.origin) {
    case "array":
    case "set":
      return `must list ${more ? "at most" : "at least"} ${size} ${size === 1 ? "entry" : "entries"}`;
    case "string":
      if (!more && size === 1) return "must not be empty";
      return `must be ${more ? "at most" : "at least"} ${size} character${size === 1 ? "" : "s"} long`;
    default:
      if (issue.inclusive === false) return `must be ${more ? "less" : "more"} than ${size}`;
      return `must be ${more ? "at most" : "at least"} ${size}`;
  }
}

/** The sentence for one of the schema library's issues; undefined leaves its own. */
export function friendlyMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return `is required: ${describeExpected(issue.expected)}`;
      return `must be ${describeExpected(issue.expected)}, not ${describeType(issue.input)}`;
    case "too_big":
      return bound(issue, issue.maximum, true);
    case "too_small":
      return bound(issue, issue.minimum, false);
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    case "invalid_format":
      return `must be ${FORMATS[issue.format] ?? `a valid ${issue.format}`}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "invalid_union":
      return "matches none of the allowed forms; see docs/configuration.md";
    default:
      return undefined;
  }
}
