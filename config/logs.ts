import { z } from "zod";

/** How long Loki keeps log lines, in days: one day is its index period. */
export const retentionDays = z.number().int().min(1).max(3650);

/**
 * The cluster's log store (Loki). One Loki serves every environment of a
 * cluster, so retention is one default plus per-environment overrides
 * (`environments[].logRetentionDays`), which Loki applies per namespace.
 */
export const logsSchema = z
  .object({
    /** Days Loki keeps logs of namespaces without their own retention. @default 30 */
    retentionDays: retentionDays.default(30).describe("Days Loki keeps logs of namespaces without their own retention (environments[].logRetentionDays)."),
    /** Ingestion limits, so that one noisy application cannot take Loki down. */
    limits: z
      .object({
        /** Sustained ingestion per cluster (Loki's tenant), MB/s. @default 8 */
        ingestionRateMb: z.number().min(1).max(1024).default(8).describe("Sustained ingestion of the whole cluster, MB/s."),
        /** Short bursts above the rate, MB. @default 16 */
        ingestionBurstMb: z.number().min(1).max(4096).default(16).describe("Short bursts above the rate, MB."),
        /** Sustained ingestion of one stream (one container of one pod), MB/s. @default 3 */
        perStreamRateMb: z.number().min(1).max(1024).default(3).describe("Sustained ingestion of one stream (one container of one pod), MB/s."),
        /** Longer lines are truncated to this, KB. @default 256 */
        maxLineSizeKb: z.number().int().min(1).max(4096).default(256).describe("Longer lines are truncated to this, KB."),
      })
      .strict()
      .default({ ingestionRateMb: 8, ingestionBurstMb: 16, perStreamRateMb: 3, maxLineSizeKb: 256 })
      .describe("Ingestion limits, so that one noisy application cannot take Loki down."),
  })
  .strict()
  .default({ retentionDays: 30, limits: { ingestionRateMb: 8, ingestionBurstMb: 16, perStreamRateMb: 3, maxLineSizeKb: 256 } });

export type LogsConfig = z.output<typeof logsSchema>;

export interface LogRetention {
  /** Days for namespaces without an override. */
  readonly defaultDays: number;
  /** Overrides by namespace (an environment's namespace is its name). */
  readonly byNamespace: Record<string, number>;
  /**
   * Days after which the object store itself deletes what Loki wrote: the
   * longest retention plus one day, so the store's lifecycle never removes
   * data before Loki's compactor would, and removes what it missed.
   */
  readonly storageExpiryDays: number;
}

/** The retention Loki enforces and the storage lifecycle that mirrors it. */
export function logRetention(config: { readonly logs: LogsConfig; readonly environments: readonly { readonly name: string; readonly logRetentionDays?: number }[] }): LogRetention {
  const byNamespace = Object.fromEntries(
    config.environments.filter((env) => env.logRetentionDays !== undefined).map((env) => [env.name, env.logRetentionDays as number]),
  );
  const longest = Math.max(config.logs.retentionDays, ...Object.values(byNamespace));
  return { defaultDays: config.logs.retentionDays, byNamespace, storageExpiryDays: longest + 1 };
}
