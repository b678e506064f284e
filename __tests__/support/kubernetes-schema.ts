import { readFileSync } from "node:fs";
import Ajv from "ajv";

/**
 * Validates built-in Kubernetes objects against a pinned fragment of the
 * API's OpenAPI v2 definitions (`__tests__/upstream/kubernetes-*.json`), the
 * way a strict server-side apply reads them: unknown fields are errors, and
 * `IntOrString` and `Quantity` take a number or a string.
 */
export function kubernetesValidator(file: string): (object: unknown) => string[] {
  const fragment = JSON.parse(readFileSync(file, "utf8")) as { root: string; definitions: Record<string, any> };
  const definitions = Object.fromEntries(Object.entries(fragment.definitions).map(([name, schema]) => [name, strict(name, schema)]));
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile({ $ref: `#/definitions/${fragment.root}`, definitions });
  return (object) => (validate(object) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || "/"}: ${error.message}${error.params?.additionalProperty ? ` (${error.params.additionalProperty})` : ""}`));
}

const NUMBER_OR_STRING = new Set(["io.k8s.apimachinery.pkg.util.intstr.IntOrString", "io.k8s.apimachinery.pkg.api.resource.Quantity"]);

function strict(name: string, schema: any): any {
  if (NUMBER_OR_STRING.has(name)) return { anyOf: [{ type: "number" }, { type: "string" }] };
  return closeObjects(schema);
}

/** Objects with declared properties accept nothing else. */
function closeObjects(node: any): any {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (node === null || typeof node !== "object") return node;
  const result = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, key === "properties" ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, closeObjects(v)])) : closeObjects(value)]));
  if (result.properties && result.additionalProperties === undefined) result.additionalProperties = false;
  return result;
}
