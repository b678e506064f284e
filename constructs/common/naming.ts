import { createHash } from "node:crypto";

/**
 * Resource names derived from the project and environment, checked against
 * the target's length rule so a too-long name fails at synth, not at apply.
 */
export function boundedName(maxLength: number, ...parts: string[]): string {
  const name = parts.filter((part) => part.length > 0).join("-");
  if (name.length > maxLength) {
    throw new Error(`name '${name}' is ${name.length} characters; the limit here is ${maxLength}. Shorten project or environment names.`);
  }
  return name;
}

/**
 * A name of at most `maxLength` characters from parts joined by `-`: the
 * parts themselves when they fit, else their start and a hash of the whole,
 * so that names stay distinct and stable however long the parts grow.
 */
export function fittedName(maxLength: number, ...parts: string[]): string {
  const name = parts.filter((part) => part.length > 0).join("-");
  if (name.length <= maxLength) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `${name.slice(0, maxLength - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** Tags every resource carries, before user tags are merged in. */
export function standardTags(project: string, environment: string): Record<string, string> {
  return { environment, "managed-by": "cdktf", project };
}
