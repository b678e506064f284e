import type { CloudProbe } from "../cloud";
import type { KubernetesReader } from "../kubernetes";
import type { NetProbe } from "../net";
import type { Component, Finding } from "../report";
import type { ClusterTarget } from "../targets";

/** Everything a check may read about one cluster. */
export interface CheckContext {
  readonly target: ClusterTarget;
  readonly probe: CloudProbe;
  readonly kube: KubernetesReader;
  readonly net: NetProbe;
  /** The moment the run started: ages and expiries are measured from it. */
  readonly now: Date;
  /** The heartbeat must have arrived within this many minutes. */
  readonly heartbeatMinutes: number;
  /** Where the project's files are (the Loki rule file). */
  readonly projectRoot: string;
}

/**
 * One named check. It returns its findings (one or several rows); a thrown
 * error becomes a failed row naming the check. `kubernetes: true` checks
 * read the cluster's API and are skipped when it cannot be reached.
 */
export interface Check {
  readonly component: Component;
  readonly name: string;
  readonly kubernetes: boolean;
  run(context: CheckContext): Promise<Finding[]>;
}

/** A list with at most `n` items shown, then `and k more`. */
export function some(items: readonly string[], n = 4): string {
  if (items.length <= n) return items.join(", ");
  return `${items.slice(0, n).join(", ")} and ${items.length - n} more`;
}

export const hoursBetween = (later: Date, earlier: Date): number => (later.getTime() - earlier.getTime()) / 3_600_000;

/** `3 h`, `2 d 4 h`, `45 min` */
export function duration(hours: number): string {
  if (hours < 1) return `${Math.max(0, Math.round(hours * 60))} min`;
  if (hours < 48) return `${Math.round(hours * 10) / 10} h`;
  const days = Math.floor(hours / 24);
  const rest = Math.round(hours % 24);
  return rest === 0 ? `${days} d` : `${days} d ${rest} h`;
}
