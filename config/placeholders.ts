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

/** Every string of a configuration that still holds one of the example's placeholders. */
export function findPlaceholders(config: unknown): Placeholder[] {
  const found: Placeholder[] = [];
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
