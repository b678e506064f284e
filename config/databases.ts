import type { z } from "zod";
import { STAGES, type Stage } from "./common";
import {
  databaseServerSchema,
  databaseServerStackPart,
  DEFAULT_POSTGRES_VERSION,
  REQUIRED_SERVER_FIELDS,
  SERVER_SIZE_FIELDS,
  type environmentSchema,
} from "./environments";

/**
 * Where each environment's database lives: on a server of its own (the
 * default), or on a shared server defined once in `databaseServers`. The
 * rules between the two, and the resolved settings every stack reads.
 */

type RawEnvironment = z.input<typeof environmentSchema> & z.output<typeof environmentSchema>;
type RawServer = z.output<typeof databaseServerSchema>;
type Path = (string | number)[];
type Report = (path: Path, input: unknown, message: string) => void;

interface DatabaseInput {
  readonly environments: readonly Pick<RawEnvironment, "name" | "stage" | "database">[];
  readonly databaseServers: readonly RawServer[];
  readonly clouds: { readonly aws?: unknown; readonly azure?: unknown };
}

/** Days of point-in-time recovery production keeps. */
export const PRODUCTION_BACKUP_RETENTION_DAYS = 35;

/**
 * Names a database on a shared server cannot take: the servers' own
 * databases and logins, PostgreSQL's reserved role prefix, and `pr_`, which
 * pull-request previews create and drop on a server they borrow.
 */
export const RESERVED_DATABASE_NAMES = ["postgres", "template0", "template1", "rdsadmin", "azure_maintenance", "azure_sys", "platform_admin"] as const;
export const RESERVED_DATABASE_PREFIXES = ["pg_", "rds_", "azure_", "pr_"] as const;

const stageOf = (env: Pick<RawEnvironment, "name" | "stage">): Stage | undefined =>
  env.stage ?? (["develop", "staging", "production"].includes(env.name) ? (env.name as Stage) : undefined);

/** The database name of an environment on a shared server when it names none: its own name, as a PostgreSQL identifier. */
export const sharedDatabaseName = (environment: string): string => environment.replace(/-/g, "_");

/** What an environment requires of the server its database lives on. */
function requirements(env: Pick<RawEnvironment, "name" | "stage" | "database">, i: number): { highAvailability: boolean; backupRetentionDays: number; why: (field: string) => string } {
  const production = stageOf(env) === "production";
  const stated = env.database;
  return {
    highAvailability: production || stated.highAvailability === true,
    backupRetentionDays: Math.max(production ? PRODUCTION_BACKUP_RETENTION_DAYS : 1, stated.backupRetentionDays ?? 1),
    why: (field) => (production ? "as production does" : `environments[${i}].database.${field}`),
  };
}

/**
 * Rules every server obeys, an environment's own or a shared one: the sizing
 * field of each configured cloud, and a storage ceiling RDS accepts.
 */
function checkServer(config: DatabaseInput, at: Path, db: Partial<Pick<RawServer, "instanceClass" | "skuName" | "storageGb" | "maxStorageGb">>, report: Report): void {
  if (config.clouds.aws && db.instanceClass === undefined) {
    report([...at, "instanceClass"], undefined, "is required when clouds.aws is set: the RDS instance class (AWS), such as db.t4g.medium");
  }
  if (config.clouds.azure && db.skuName === undefined) {
    report([...at, "skuName"], undefined, "is required when clouds.azure is set: the Flexible Server SKU (Azure), such as GP_Standard_D2ds_v5");
  }
  // RDS refuses a storage autoscaling ceiling less than 10 % above the allocated storage.
  if (db.maxStorageGb !== undefined && db.storageGb !== undefined) {
    const leastCeiling = Math.ceil((db.storageGb * 11) / 10);
    if (db.maxStorageGb < leastCeiling) {
      report([...at, "maxStorageGb"], db.maxStorageGb, `must be at least ${leastCeiling}: RDS needs the ceiling 10 % above storageGb (${db.storageGb})`);
    }
  }
}

export function checkDatabases(config: DatabaseInput, report: Report): void {
  const servers = new Map<string, number>();
  config.databaseServers.forEach((server, i) => {
    const previous = servers.get(server.name);
    if (previous !== undefined) report(["databaseServers", i, "name"], server.name, `duplicate server name; databaseServers[${previous}] is already named '${server.name}'`);
    else servers.set(server.name, i);
    const environment = config.environments.findIndex((env) => env.name === server.name);
    if (environment >= 0) {
      report(["databaseServers", i, "name"], server.name, `is also the name of environments[${environment}]; servers and environments name their cloud resources alike, so choose another`);
    }
    checkServer(config, ["databaseServers", i], server, report);
  });

  // Environments per server, in config order, with their index.
  const tenants = new Map<string, { env: DatabaseInput["environments"][number]; i: number }[]>();
  const parts = new Map(config.databaseServers.map((server) => [databaseServerStackPart(server.name), server.name]));
  config.environments.forEach((env, i) => {
    // Named after one stage, set to another: that error alone, not the rules of a stage the name contradicts.
    if (env.stage !== undefined && (STAGES as readonly string[]).includes(env.name) && env.stage !== env.name) return;
    const at = (...rest: Path): Path => ["environments", i, "database", ...rest];
    const db = env.database;
    const server = parts.get(env.name);
    if (server !== undefined) {
      report(["environments", i, "name"], env.name, `collides with the stack of database server '${server}' (<cloud>-${env.name}); choose another name`);
    }
    if (db.server === undefined) {
      for (const field of REQUIRED_SERVER_FIELDS) {
        if (db[field] === undefined) report(at(field), undefined, `is required for a server of its own (or set server to use a shared one)`);
      }
      if (db.passwordVersion !== undefined) {
        report(at("passwordVersion"), db.passwordVersion, "applies to a database on a shared server only; a server of its own rotates its administrator password itself");
      }
      checkServer(config, at(), db, report);
      if (stageOf(env) === "production" && db.highAvailability === false) {
        report(at("highAvailability"), false, "production requires a highly available database: set true");
      }
      if (stageOf(env) === "production" && db.backupRetentionDays !== undefined && db.backupRetentionDays < PRODUCTION_BACKUP_RETENTION_DAYS) {
        report(at("backupRetentionDays"), db.backupRetentionDays, `production keeps ${PRODUCTION_BACKUP_RETENTION_DAYS} days of point-in-time recovery: set ${PRODUCTION_BACKUP_RETENTION_DAYS}`);
      }
      return;
    }
    const index = servers.get(db.server);
    if (index === undefined) {
      const known = config.databaseServers.map((s) => s.name);
      report(at("server"), db.server, known.length > 0 ? `no such server in databaseServers; the servers are ${known.join(", ")}` : "no such server: databaseServers defines none");
      return;
    }
    for (const field of SERVER_SIZE_FIELDS) {
      if (db[field] !== undefined) report(at(field), db[field], `set on the shared server databaseServers[${index}] ('${db.server}'), not on an environment that uses it`);
    }
    const name = db.name ?? sharedDatabaseName(env.name);
    if ((RESERVED_DATABASE_NAMES as readonly string[]).includes(name) || RESERVED_DATABASE_PREFIXES.some((prefix) => name.startsWith(prefix))) {
      report(at("name"), name, `is reserved on a shared server (${RESERVED_DATABASE_NAMES.join(", ")} and names starting with ${RESERVED_DATABASE_PREFIXES.join(", ")}); set another name`);
    }
    tenants.set(db.server, [...(tenants.get(db.server) ?? []), { env, i }]);
  });

  for (const [serverName, envs] of tenants) {
    const i = servers.get(serverName)!;
    const server = config.databaseServers[i];
    const names = new Map<string, number>();
    for (const { env, i: e } of envs) {
      const name = env.database.name ?? sharedDatabaseName(env.name);
      const previous = names.get(name);
      if (previous !== undefined) {
        report(["environments", e, "database", "name"], name, `environments[${previous}] already has database '${name}' on server '${serverName}'; set another name`);
      } else {
        names.set(name, e);
      }
    }
    // The server is as strict as the strictest of its environments.
    const needsHa = envs.find(({ env, i: e }) => requirements(env, e).highAvailability);
    if (needsHa && !server.highAvailability) {
      report(
        ["databaseServers", i, "highAvailability"],
        false,
        `environment '${needsHa.env.name}' requires a highly available database (${requirements(needsHa.env, needsHa.i).why("highAvailability")}); a shared server is as strict as the strictest of its environments: set true`,
      );
    }
    const strictest = envs.reduce((a, b) => (requirements(b.env, b.i).backupRetentionDays > requirements(a.env, a.i).backupRetentionDays ? b : a));
    const retention = requirements(strictest.env, strictest.i);
    if (retention.backupRetentionDays > server.backupRetentionDays) {
      report(
        ["databaseServers", i, "backupRetentionDays"],
        server.backupRetentionDays,
        `environment '${strictest.env.name}' requires ${retention.backupRetentionDays} days of point-in-time recovery (${retention.why("backupRetentionDays")}); a shared server is as strict as the strictest of its environments: set at least ${retention.backupRetentionDays}`,
      );
    }
    const production = envs.find(({ env }) => stageOf(env) === "production");
    if (production && envs.length > 1 && !server.allowProductionOnShared) {
      report(
        ["environments", production.i, "database", "server"],
        serverName,
        `production shares a server with ${otherNames(envs, production.env.name)} only when databaseServers[${i}].allowProductionOnShared is true: their load, restarts and upgrades reach production`,
      );
    }
  }
}

function otherNames(envs: { env: { name: string } }[], except: string): string {
  return envs
    .map(({ env }) => env.name)
    .filter((name) => name !== except)
    .join(", ");
}

/** A server's settings, resolved: what the stacks build. */
export interface ServerSettings {
  readonly engineVersion: string;
  readonly storageGb: number;
  readonly maxStorageGb: number;
  readonly highAvailability: boolean;
  readonly backupRetentionDays: number;
  readonly instanceClass: string;
  readonly skuName: string;
}

/** An environment's database, resolved: its server's settings, and the shared server it lives on if any. */
export interface ResolvedDatabase extends ServerSettings {
  readonly name: string;
  /** The shared server's name; undefined for a server of the environment's own. */
  readonly server?: string;
  /** Version of the generated password of the environment's role on a shared server. */
  readonly passwordVersion: number;
}

export interface ResolvedDatabaseServer extends ServerSettings {
  readonly name: string;
  readonly allowProductionOnShared: boolean;
  /** Names of the environments whose databases it holds, in config order. */
  readonly environments: string[];
}

function settings(fields: Partial<ServerSettings>): ServerSettings {
  // Validation has made sure every required field is there.
  const storageGb = fields.storageGb!;
  return {
    engineVersion: fields.engineVersion ?? DEFAULT_POSTGRES_VERSION,
    storageGb,
    maxStorageGb: fields.maxStorageGb ?? storageGb * 2,
    highAvailability: fields.highAvailability!,
    backupRetentionDays: fields.backupRetentionDays!,
    // Required, and so present, for the cloud that reads it; the other cloud never does.
    instanceClass: fields.instanceClass ?? "",
    skuName: fields.skuName ?? "",
  };
}

export function resolveDatabaseServers(config: DatabaseInput): ResolvedDatabaseServer[] {
  return config.databaseServers.map((server) => ({
    ...settings(server),
    name: server.name,
    allowProductionOnShared: server.allowProductionOnShared,
    environments: config.environments.filter((env) => env.database.server === server.name).map((env) => env.name),
  }));
}

export function resolveDatabase(env: Pick<RawEnvironment, "name" | "database">, servers: readonly RawServer[]): ResolvedDatabase {
  const db = env.database;
  if (db.server === undefined) return { ...settings(db), name: db.name ?? "app", passwordVersion: 1 };
  const server = servers.find((s) => s.name === db.server)!;
  return { ...settings(server), name: db.name ?? sharedDatabaseName(env.name), server: server.name, passwordVersion: db.passwordVersion ?? 1 };
}

/**
 * Warnings synth prints: a production environment on a shared server (allowed
 * by `allowProductionOnShared`), naming what it gives up.
 */
export function sharedServerWarnings(config: { readonly environments: readonly { name: string; stage: Stage; database: ResolvedDatabase }[]; readonly databaseServers: readonly ResolvedDatabaseServer[] }): string[] {
  return config.databaseServers.flatMap((server) => {
    const production = config.environments.filter((env) => env.database.server === server.name && env.stage === "production");
    if (production.length === 0 || server.environments.length < 2) return [];
    return production.map(
      (env) =>
        `warning: production environment '${env.name}' shares database server '${server.name}' with ${server.environments.filter((name) => name !== env.name).join(", ")} ` +
        "(allowProductionOnShared): they share its CPU, memory and connections, its restarts, upgrades and maintenance window, and a point-in-time restore of the server rolls every database on it back. Give production a server of its own to isolate it.",
    );
  });
}
