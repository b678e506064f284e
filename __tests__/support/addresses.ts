import type { Synthesized, TerraformJson } from "./synth-output";

/** Terraform addresses of a synthesized stack: `type.name` and `data.type.name`, sorted. */
export function stackAddresses(stack: TerraformJson): string[] {
  const of = (blocks: Record<string, Record<string, unknown>> | undefined, prefix: string) =>
    Object.entries(blocks ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${prefix}${type}.${name}`));
  return [...of(stack.resource, ""), ...of(stack.data, "data.")].sort();
}

/** Every stack of a program with its addresses, by stack id. */
export function programAddresses(program: Synthesized): Record<string, string[]> {
  return Object.fromEntries(Object.keys(program.manifest.stacks).sort().map((id) => [id, stackAddresses(program.stack(id))]));
}
