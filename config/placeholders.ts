import { contains, parseIpv4Network } from "./cidr";
import { formatPath } from "./load";

/** A value the example configuration ships with that no real deployment should keep. */
export interface Placeholder {
  readonly path: string;
  readonly value: string;
  readonly reason: string;
}

/** The account AWS documentation uses in every example ARN. */
export const PLACEHOLDER_AWS_ACCOUNT = "123456789012";

/** RFC 5737: ranges reserved for documentation, never routed. */
const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((cidr) => parseIpv4Network(cidr)!);

/** RFC 2606 domains reserved for examples. */
const EXAMPLE_DOMAIN = /(^|[.@/])example\.(com|org|net)($|[/:])/i;

/** Object ids whose first twelve digits are zero: made up, not issued by Entra ID. */
const ZERO_OBJECT_ID = /^00000000-0000-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function reasonFor(value: string): string | undefined {
  if (new RegExp(`(^|[^0-9])${PLACEHOLDER_AWS_ACCOUNT}([^0-9]|$)`).test(value)) {
    return `names the example AWS account ${PLACEHOLDER_AWS_ACCOUNT}`;
  }
  const network = parseIpv4Network(value.includes("/") ? value : `${value}/32`);
  if (network) {
    const range = DOCUMENTATION_RANGES.find((documentation) => contains(documentation, network));
    if (range) return `lies in the documentation range ${range.cidr} (RFC 5737), which is never routed`;
  }
  if (ZERO_OBJECT_ID.test(value)) return "is a made-up all-zero object id, not one Entra ID issued";
  if (EXAMPLE_DOMAIN.test(value)) return "uses a domain reserved for examples (RFC 2606)";
  return undefined;
}

/**
 * Names in the example that must be unique (in the world, or to one team)
 * and that a real deploy therefore changes: left as they are, the first
 * apply fails on a name someone else holds, or deploys beside another
 * team's copy of the example. A test keeps this list equal to the example.
 */
export const EXAMPLE_NAMES: Readonly<Record<string, { readonly value: string; readonly what: string }>> = {
  project: { value: "acme", what: "the example's project name, in every resource name" },
  "gitops.url": { value: "https://github.com/acme/platform-deploy.git", what: "the example's GitOps repository" },
  "clouds.azure.registry.name": { value: "acmeplatformacr", what: "the example's registry name, which must be globally unique" },
  "clouds.azure.keyVault.name": { value: "acme-platform-kv", what: "the example's Key Vault name, which must be globally unique" },
  "clouds.azure.logStorage.accountName": { value: "acmeplatformlogs", what: "the example's storage account name, which must be globally unique" },
};

function valueAtPath(root: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), root);
}

/** Every string of a configuration that still holds one of the example's placeholders. */
export function findPlaceholders(config: unknown): Placeholder[] {
  const found: Placeholder[] = [];
  for (const [path, { value, what }] of Object.entries(EXAMPLE_NAMES)) {
    if (valueAtPath(config, path) === value) found.push({ path, value, reason: `is ${what}: choose your own` });
  }
  const walk = (node: unknown, at: PropertyKey[]): void => {
    if (typeof node === "string") {
      const reason = reasonFor(node);
      if (reason) found.push({ path: formatPath(at), value: node, reason });
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, [...at, i]));
    } else if (node !== null && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) walk(value, [...at, key]);
    }
  };
  walk(config, []);
  return found;
}

/** One warning listing every placeholder field, or nothing when there is none. */
export function placeholderWarning(placeholders: readonly Placeholder[]): string | undefined {
  if (placeholders.length === 0) return undefined;
  return [
    `warning: ${placeholders.length} field(s) still hold placeholders of the example; synth goes on, but replace them before deploying:`,
    ...placeholders.map((p) => `  - ${p.path}: ${JSON.stringify(p.value)} ${p.reason}`),
  ].join("\n");
}
