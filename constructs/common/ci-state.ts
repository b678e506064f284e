import type { TerraformStack } from "cdktf";
import type { CiIdentityKind } from "../../config/ci";
import { productionStacks, type Manifest } from "../../tools/stack-order";

/** The stacks whose state one CI identity writes (it applies them) and reads. */
export interface CiStateAccess {
  /** Stacks the identity applies: it writes their state and holds their lock. */
  readonly applies: readonly string[];
  /** Stacks whose state it reads: those it applies and every stack they depend on. */
  readonly reads: readonly string[];
}

/**
 * Which stack states each CI identity may touch, by the rule the deploy
 * workflow applies to the manifest (`productionStacks`): the production
 * identity applies the production stacks (the platform and add-ons
 * included), the deploy identity applies the others, and the plan and review
 * identities read every state and write none.
 *
 * Dependencies between stacks exist only once every stack has been prepared
 * for synthesis, so call this from a lazy value, never in a constructor.
 */
export function ciStateAccess(stacks: readonly TerraformStack[], productionEnvironments: readonly string[], clusterStacks: readonly string[] = []): Record<CiIdentityKind, CiStateAccess> {
  const manifest: Manifest = {
    stacks: Object.fromEntries(
      stacks.map((stack) => [stack.node.id, { dependencies: stack.dependencies.map((dependency) => dependency.node.id), workingDirectory: "", synthesizedStackPath: "" }]),
    ),
  };
  const all = Object.keys(manifest.stacks).sort();
  const production = productionStacks(manifest, productionEnvironments, clusterStacks);
  const access = (applies: string[]): CiStateAccess => {
    const reads = new Set(applies);
    for (const id of applies) for (const dependency of manifest.stacks[id].dependencies) reads.add(dependency);
    return { applies, reads: [...reads].sort() };
  };
  return {
    plan: { applies: [], reads: all },
    review: { applies: [], reads: all },
    deploy: access(all.filter((id) => !production.has(id))),
    production: access(all.filter((id) => production.has(id))),
  };
}

/** The state object of a stack under a backend's key prefix, as the backends name it. */
export const stateKey = (keyPrefix: string, stackId: string): string => `${keyPrefix}/${stackId}.tfstate`;
