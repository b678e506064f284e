/**
 * Kubernetes resource quantities in the forms the config accepts: CPU as
 * cores (`2`, `0.5`) or millicores (`500m`), memory as bytes or with a binary
 * suffix (`512Mi`, `4Gi`). Comparable numbers let the config reject a
 * LimitRange default that no pod could ever fit under the quota.
 */
const MEMORY_FACTORS: Record<string, number> = { "": 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Millicores of a CPU quantity, or undefined when it is not one. */
export function millicores(quantity: string): number | undefined {
  const milli = /^([0-9]+)m$/.exec(quantity);
  if (milli) return Number(milli[1]);
  if (/^[0-9]+(\.[0-9]+)?$/.test(quantity)) return Math.round(Number(quantity) * 1000);
  return undefined;
}

/** Bytes of a memory quantity, or undefined when it is not one. */
export function bytes(quantity: string): number | undefined {
  const match = /^([0-9]+)(Ki|Mi|Gi|Ti)?$/.exec(quantity);
  return match ? Number(match[1]) * MEMORY_FACTORS[match[2] ?? ""] : undefined;
}
