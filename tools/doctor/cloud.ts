import type { ClusterEndpoint } from "./kubernetes";
import type { StackOutputs } from "./outputs";
import type { ClusterTarget, EnvironmentTarget } from "./targets";

/**
 * What the doctor asks of a cloud, in the cloud's own terms turned into
 * these shapes by `clouds/aws.ts` and `clouds/azure.ts`. The checks above
 * this interface never ask which cloud they run on, like the add-on stacks
 * above the platform contract.
 */
export interface CloudProbe {
  readonly cloud: string;
  /** The cluster's name, from the platform stack's outputs. */
  readonly clusterName: string;
  /** The API server and a short-lived token for it. */
  endpoint(): Promise<ClusterEndpoint>;
  /** The public zone's name servers and record sets. */
  zone(): Promise<ZoneState>;
  /** Watchdogs received outside the cluster in the last `minutes`. */
  heartbeat(minutes: number): Promise<HeartbeatState>;
  database(environment: EnvironmentTarget): Promise<DatabaseState>;
  backups(environment: EnvironmentTarget): Promise<BackupState>;
}

export interface ZoneRecord {
  /** Absolute name, lower case, no trailing dot; `*.develop.example.com` for a wildcard. */
  readonly name: string;
  /** A, AAAA, CNAME, TXT, ...; an alias record counts as its type (A). */
  readonly type: string;
  /** Addresses, a CNAME or alias target, or text. */
  readonly values: readonly string[];
}

export interface ZoneState {
  readonly zone: string;
  readonly nameServers: readonly string[];
  readonly records: readonly ZoneRecord[];
  /** Where it was read, for the evidence column. */
  readonly source: string;
}

export interface HeartbeatState {
  /** Whether the heartbeat arrived within the window, as the cloud's own alarm or rule judges it. */
  readonly received: boolean;
  /** What was measured, e.g. `14 Watchdog deliveries` or `Deliveries = 0`. */
  readonly measured: string;
  readonly windowMinutes: number;
  /** The latest minute with a delivery, when the source tells. */
  readonly lastAt?: Date;
  /** The alarm's or alert rule's own state, when the source tells. */
  readonly alarmState?: string;
  readonly source: string;
}

export interface DatabaseState {
  /** The cloud's own word for its state (`available`, `Ready`, `stopped`, ...). */
  readonly state: string;
  /** Serving connections (possibly while a change or backup runs). */
  readonly up: boolean;
  readonly endpoint?: string;
  /** Highest number of open connections in the last 15 minutes, when the metric exists. */
  readonly connections?: number;
  /** When the database was created: no recovery point is due before a tier's first interval has passed. */
  readonly createdAt?: Date;
  readonly source: string;
}

export interface RecoveryTier {
  /** The rule or retention tag that makes these recovery points (`hourly`, `daily`, `monthly`). */
  readonly tier: string;
  /** How often the tier makes a recovery point. */
  readonly intervalHours: number;
  readonly latest?: Date;
  readonly count: number;
}

export interface BackupState {
  readonly tiers: readonly RecoveryTier[];
  readonly source: string;
}

/** A platform stack output the doctor needs is absent: the stack was last applied before it existed. */
export class MissingOutputError extends Error {
  constructor(
    readonly stackId: string,
    readonly output: string,
  ) {
    super(`${stackId} has no output ${output}`);
    this.name = "MissingOutputError";
  }
}

/** A required string output of a stack. */
export function requireOutput(outputs: StackOutputs | undefined, stack: string, name: string): string {
  const value = outputs?.[name];
  if (typeof value !== "string" || value === "") throw new MissingOutputError(stack, name);
  return value;
}

/** Outputs of a cluster's stacks, read once per run. */
export interface ClusterOutputs {
  readonly platform: StackOutputs | undefined;
  /** By environment name. */
  readonly data: Readonly<Record<string, StackOutputs | undefined>>;
}

/** Builds the probe of one cluster from its outputs. */
export type ProbeFactory = (target: ClusterTarget, outputs: ClusterOutputs) => CloudProbe;

/** The interval of a cron schedule (AWS Backup `cron(m h dom mon dow year)`): hourly, daily or monthly. */
export function cronIntervalHours(expression: string): number {
  const fields = expression.replace(/^cron\(|\)$/g, "").trim().split(/\s+/);
  const [, hour, dayOfMonth] = fields;
  if (hour === "*" || hour?.includes("/")) return 1;
  if (dayOfMonth === "*" || dayOfMonth === "?") return 24;
  return 24 * 31;
}

/** `-----BEGIN CERTIFICATE-----` text from base64 of PEM (EKS) or PEM itself. */
export function pemOf(certificateAuthority: string): string {
  const trimmed = certificateAuthority.trim();
  return trimmed.startsWith("-----BEGIN") ? trimmed : Buffer.from(trimmed, "base64").toString("utf8");
}
