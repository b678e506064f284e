import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";

/**
 * Validates custom resources against the OpenAPI v3 schemas of their CRDs.
 * Kubernetes extensions are accepted as annotations; `int-or-string` fields
 * drop their `type` the way the API server treats them.
 */
export class CrdValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: goRegExp } });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly schemaDir: string) {
    for (const keyword of ["x-kubernetes-int-or-string", "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations", "x-kubernetes-embedded-resource"]) {
      this.ajv.addKeyword(keyword);
    }
  }

  /** Errors of one manifest as `path: message` lines; empty when it is valid. */
  validate(manifest: { apiVersion: string; kind: string }): string[] {
    const validate = this.compiled(manifest.apiVersion, manifest.kind);
    if (validate(manifest)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || "/"}: ${error.message}`);
  }

  private compiled(apiVersion: string, kind: string): ValidateFunction {
    const key = `${apiVersion}/${kind}`;
    let validate = this.cache.get(key);
    if (!validate) {
      const [group, version] = apiVersion.split("/");
      const file = path.join(this.schemaDir, group, `${kind}_${version}.json`);
      const schema = relaxIntOrString(JSON.parse(readFileSync(file, "utf8"))) as object;
      validate = this.ajv.compile(schema);
      this.cache.set(key, validate);
    }
    return validate;
  }
}

const validators = new Map<string, CrdValidator>();

/**
 * The validator of a schema directory, shared by the test files of a worker:
 * compiling a CRD's schema costs more than validating many objects with it.
 */
export function crdValidator(schemaDir: string): CrdValidator {
  let validator = validators.get(schemaDir);
  if (!validator) {
    validator = new CrdValidator(schemaDir);
    validators.set(schemaDir, validator);
  }
  return validator;
}

/**
 * CRD patterns are Go (RE2) expressions; the one construct JavaScript lacks
 * that they use is the `(?i)` flag group (as in `^(?i)(keep|drop)$`), which
 * becomes the `i` flag of the whole expression.
 */
function goRegExp(pattern: string, flags: string): RegExp {
  return pattern.includes("(?i)") ? new RegExp(pattern.replaceAll("(?i)", ""), `${flags}i`) : new RegExp(pattern, flags);
}
goRegExp.code = "new RegExp";

function relaxIntOrString(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relaxIntOrString);
  if (node === null || typeof node !== "object") return node;
  const entries = Object.entries(node as Record<string, unknown>).map(([key, value]) => [key, relaxIntOrString(value)] as const);
  const result = Object.fromEntries(entries) as Record<string, unknown>;
  if (typeof result.pattern === "string" && result.pattern.includes("(?i)")) {
    const pattern = caseInsensitive(result.pattern);
    if (pattern === undefined) delete result.pattern;
    else result.pattern = pattern;
  }
  if (result["x-kubernetes-int-or-string"] === true) {
    delete result.type;
    result.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  return result;
}

/**
 * Go's inline `(?i)` flag, which JavaScript patterns lack, spelt out as
 * `[aA]` classes. A pattern with its own classes is left out instead.
 */
function caseInsensitive(pattern: string): string | undefined {
  const body = pattern.replace("(?i)", "");
  if (body.includes("[") || body.includes("\\")) return undefined;
  return body.replace(/[a-zA-Z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

/** Keys a custom resource sets that its CRD schema does not declare. */
export function undeclaredFields(value: unknown, schema: any, at = ""): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return Array.isArray(value) && schema?.items ? value.flatMap((item, i) => undeclaredFields(item, schema.items, `${at}[${i}]`)) : [];
  }
  if (!schema?.properties || schema["x-kubernetes-preserve-unknown-fields"]) {
    const inner = schema?.additionalProperties;
    return inner && typeof inner === "object" ? Object.entries(value).flatMap(([key, v]) => undeclaredFields(v, inner, `${at}.${key}`)) : [];
  }
  return Object.entries(value).flatMap(([key, v]) => (key in schema.properties ? undeclaredFields(v, schema.properties[key], `${at}.${key}`) : [`${at}.${key}`]));
}
