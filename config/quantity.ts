import { z } from "zod";

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

/** A CPU quantity of more than zero: what a quota, a default or a ceiling must be for any pod to fit. */
export const cpuQuantity = (format = "a CPU quantity such as '500m' or '2'", zero = "more than zero: no pod fits in zero CPU") =>
  z
    .string()
    .regex(/^([0-9]+m|[0-9]+(\.[0-9]+)?)$/, { message: format, abort: true })
    .regex(/^(?!0*(\.0*)?m?$)/, { message: zero });

/** A memory quantity of more than zero, in bytes or with a binary suffix. */
export const memoryQuantity = (format = "a memory quantity such as '512Mi' or '4Gi'", zero = "more than zero: no pod fits in zero memory") =>
  z
    .string()
    .regex(/^[0-9]+(Ki|Mi|Gi|Ti)?$/, { message: format, abort: true })
    .regex(/^(?!0+(Ki|Mi|Gi|Ti)?$)/, { message: zero });
