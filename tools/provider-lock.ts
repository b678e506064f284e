import type { Manifest } from "./stack-order";

/** One entry of `terraform.required_providers`. */
export interface RequiredProvider {
  readonly source: string;
  readonly version: string;
}

/**
 * Every provider any stack requires, for one lock file the whole run shares:
 * the workflows' prepare job initializes this set once, and every stack's
 * `terraform init` then installs exactly those packages from the plugin
 * cache (Terraform uses a cached package only when the lock file holds its
 * checksum). Two stacks that pin one provider differently cannot share a
 * lock file: that fails here, naming them.
 */
export function requiredProviders(manifest: Manifest, readStack: (synthesizedStackPath: string) => any): Record<string, RequiredProvider> {
  const union: Record<string, RequiredProvider & { readonly stack: string }> = {};
  for (const [stack, entry] of Object.entries(manifest.stacks).sort(([a], [b]) => a.localeCompare(b))) {
    const required: Record<string, RequiredProvider> = readStack(entry.synthesizedStackPath).terraform?.required_providers ?? {};
    for (const [name, provider] of Object.entries(required)) {
      const known = union[name];
      if (known && (known.source !== provider.source || known.version !== provider.version)) {
        throw new Error(
          `${stack} requires ${name} ${provider.source} ${provider.version} but ${known.stack} requires ${known.source} ${known.version}: ` +
            "the stacks of one program must pin each provider alike",
        );
      }
      union[name] ??= { source: provider.source, version: provider.version, stack };
    }
  }
  return Object.fromEntries(Object.entries(union).map(([name, { source, version }]) => [name, { source, version }]));
}
