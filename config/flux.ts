import { z } from "zod";

/**
 * The Flux releases the pinned Flux Operator (chart `flux-operator` in
 * constructs/addons/charts.ts, operator v0.49.0) carries in its image and can
 * install. A newer Flux needs a newer operator chart: bump both together.
 */
export const FLUX_OPERATOR_DISTRIBUTIONS = [
  "2.2.3", "2.3.0", "2.4.0", "2.5.0", "2.5.1", "2.6.0", "2.6.1", "2.6.2", "2.6.3", "2.6.4",
  "2.7.0", "2.7.1", "2.7.2", "2.7.3", "2.7.4", "2.7.5",
  "2.8.0", "2.8.1", "2.8.2", "2.8.3", "2.8.5", "2.8.6", "2.8.7",
] as const;

/** The Flux release a config that names none installs: the one the community chart installed before the operator. */
export const DEFAULT_FLUX_VERSION = "2.8.5";

export const fluxSchema = z
  .object({
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, { message: "an exact Flux release such as 2.8.5, not a range", abort: true })
      .refine((version) => (FLUX_OPERATOR_DISTRIBUTIONS as readonly string[]).includes(version), {
        message: `not a Flux release the pinned Flux Operator installs (${FLUX_OPERATOR_DISTRIBUTIONS[0]} to ${FLUX_OPERATOR_DISTRIBUTIONS.at(-1)}, see config/flux.ts); a newer one needs a newer flux-operator chart in constructs/addons/charts.ts`,
      })
      .default(DEFAULT_FLUX_VERSION)
      .describe("The Flux release the Flux Operator installs in the cluster, exact (e.g. 2.8.5). Changing it upgrades Flux on the next apply."),
  })
  .strict();

export type FluxConfig = z.infer<typeof fluxSchema>;
