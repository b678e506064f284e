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

/** Tags every resource carries, before user tags are merged in. */
export function standardTags(project: string, environment: string): Record<string, string> {
  return { environment, "managed-by": "cdktf", project };
}
