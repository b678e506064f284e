import { describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG_PATH, loadConfig } from "../config";
import { MAX_TAGS_PER_RESOURCE, MAX_USER_TAGS, PROGRAM_TAGS_PER_RESOURCE } from "../config/common";
import { synthesize } from "./support/synth";

/**
 * The seam between the config's tag limit and what the program tags: the
 * config lets users set MAX_USER_TAGS tags, which holds only while no
 * resource carries more than PROGRAM_TAGS_PER_RESOURCE of the program's own
 * (provider default tags and the resource's own, on AWS; the merged map, on Azure).
 */
describe("the tags a user may add", () => {
  it("leave room for the most tags the program puts on any synthesized resource", () => {
    const synth = synthesize();
    const userKeys = new Set(Object.keys(loadConfig(EXAMPLE_CONFIG_PATH).tags));
    let most = { count: 0, where: "" };
    for (const id of Object.keys(synth.manifest.stacks)) {
      const stack = synth.stack(id);
      const defaults = (stack.provider?.aws ?? []).flatMap((provider: any) => (provider.default_tags ?? []).flatMap((block: any) => Object.keys(block.tags ?? {})));
      for (const [type, resources] of Object.entries(stack.resource ?? {})) {
        for (const [name, resource] of Object.entries(resources as Record<string, any>)) {
          if (resource.tags === undefined && !type.startsWith("aws_")) continue;
          const keys = new Set([...(type.startsWith("aws_") ? defaults : []), ...Object.keys(resource.tags ?? {})]);
          const own = [...keys].filter((key) => !userKeys.has(key)).length;
          if (own > most.count) most = { count: own, where: `${id} ${type}.${name}` };
        }
      }
    }
    expect(most.count).toBeGreaterThan(0);
    expect(most.count, `most program tags: ${most.where}`).toBeLessThanOrEqual(PROGRAM_TAGS_PER_RESOURCE);
    expect(MAX_USER_TAGS + PROGRAM_TAGS_PER_RESOURCE).toBe(MAX_TAGS_PER_RESOURCE);
  });
});
