import { describe, expect, it } from "vitest";
import { validateConfig } from "../config";
import { problemOf, type BadConfigCase } from "./support/config-problems";
import { SHARED_SERVER, sharedServerDefinition, sharedServerRaw } from "./support/shared-server";

/** A change on top of the example with develop and staging on the shared server. */
const shared = (change: (raw: any) => void) => (raw: any) => {
  const base = sharedServerRaw();
  for (const key of Object.keys(raw)) delete raw[key];
  Object.assign(raw, base);
  change(raw);
};

const objectStorageCases: BadConfigCase[] = [
  {
    name: "earlier versions to delete without versioning",
    change: (r) => (r.applications[0].objectStorage = { noncurrentVersionDays: 30 }),
    path: "applications[0].objectStorage.noncurrentVersionDays",
    value: 30,
    message: "applies to earlier versions, which exist only with versioning: set versioning to true",
  },
  {
    name: "backups without versioning",
    change: (r) => (r.applications[0].objectStorage = { backup: true }),
    path: "applications[0].objectStorage.backup",
    value: true,
    message: "backups of objects need versioning (AWS Backup for S3 and Azure's operational backup restore from versions): set versioning to true",
  },
  {
    name: "earlier versions deleted before Azure's restore window ends",
    change: (r) => (r.applications[0].objectStorage.noncurrentVersionDays = 7),
    path: "applications[0].objectStorage.noncurrentVersionDays",
    value: 7,
    message: "Azure's operational backup restores from earlier versions of the last 30 days: keep them at least 30 days",
  },
  {
    name: "a container name Azure Blob refuses",
    change: (r) => {
      r.applications.push({ name: "ui", objectStorage: {} });
    },
    path: "applications[2].name",
    value: "ui",
    message: "names the application's Azure Blob container, which needs at least 3 characters",
  },
  {
    name: "a CORS origin with a path",
    change: (r) => (r.applications[0].objectStorage.cors[0].origins = ["https://web.apps.example.com/upload"]),
    path: "applications[0].objectStorage.cors[0].origins[0]",
    value: "https://web.apps.example.com/upload",
    message: "an origin such as https://web.apps.example.com (https, no path or wildcard), or http://localhost:3000",
  },
  {
    name: "a CORS method one of the clouds does not take",
    change: (r) => (r.applications[0].objectStorage.cors[0].methods = ["PATCH"]),
    path: "applications[0].objectStorage.cors[0].methods[0]",
    value: "PATCH",
    message: 'must be one of "GET", "HEAD", "PUT", "POST", "DELETE"',
  },
  {
    name: "more CORS rules than Azure keeps",
    change: (r) => (r.applications[0].objectStorage.cors = Array.from({ length: 6 }, () => ({ origins: ["https://web.apps.example.com"], methods: ["GET"] }))),
    path: "applications[0].objectStorage.cors",
    value: expect.any(Array),
    message: "must list at most 5 entries",
  },
];

const databaseCases: BadConfigCase[] = [
  {
    name: "a server of its own without its size",
    change: (r) => delete r.environments[0].database.storageGb,
    path: "environments[0].database.storageGb",
    value: undefined,
    message: "is required for a server of its own (or set server to use a shared one)",
  },
  {
    name: "a password version on a server of its own",
    change: (r) => (r.environments[0].database.passwordVersion = 2),
    path: "environments[0].database.passwordVersion",
    value: 2,
    message: "applies to a database on a shared server only; a server of its own rotates its administrator password itself",
  },
  {
    name: "a server nobody defined",
    change: shared((r) => (r.environments[1].database.server = "shared-other")),
    path: "environments[1].database.server",
    value: "shared-other",
    message: `no such server in databaseServers; the servers are ${SHARED_SERVER}`,
  },
  {
    name: "a shared server when none is defined",
    change: (r) => (r.environments[0].database = { server: SHARED_SERVER }),
    path: "environments[0].database.server",
    value: SHARED_SERVER,
    message: "no such server: databaseServers defines none",
  },
  {
    name: "sizing an environment that lives on a shared server",
    change: shared((r) => (r.environments[1].database.instanceClass = "db.m7g.large")),
    path: "environments[1].database.instanceClass",
    value: "db.m7g.large",
    message: `set on the shared server databaseServers[0] ('${SHARED_SERVER}'), not on an environment that uses it`,
  },
  {
    name: "two servers of one name",
    change: shared((r) => r.databaseServers.push(sharedServerDefinition())),
    path: "databaseServers[1].name",
    value: SHARED_SERVER,
    message: `duplicate server name; databaseServers[0] is already named '${SHARED_SERVER}'`,
  },
  {
    name: "a server named like an environment",
    change: (r) => (r.databaseServers = [{ ...sharedServerDefinition(), name: "staging" }]),
    path: "databaseServers[0].name",
    value: "staging",
    message: "is also the name of environments[1]; servers and environments name their cloud resources alike, so choose another",
  },
  {
    name: "an environment named like a server's stack",
    change: shared((r) => r.environments.push({ ...r.environments[0], name: `database-${SHARED_SERVER}`, stage: "develop", database: { server: SHARED_SERVER } })),
    path: "environments[3].name",
    value: `database-${SHARED_SERVER}`,
    message: `collides with the stack of database server '${SHARED_SERVER}' (<cloud>-database-${SHARED_SERVER}); choose another name`,
  },
  {
    name: "two environments naming one database on a shared server",
    change: shared((r) => {
      r.environments[0].database.name = "app";
      r.environments[1].database.name = "app";
    }),
    path: "environments[1].database.name",
    value: "app",
    message: `environments[0] already has database 'app' on server '${SHARED_SERVER}'; set another name`,
  },
  {
    name: "a database name a preview would take",
    change: shared((r) => (r.environments[1].database.name = "pr_staging")),
    path: "environments[1].database.name",
    value: "pr_staging",
    message: "is reserved on a shared server (postgres, template0, template1, rdsadmin, azure_maintenance, azure_sys, platform_admin and names starting with pg_, rds_, azure_, pr_); set another name",
  },
  {
    name: "a shared server less available than an environment asks",
    change: shared((r) => (r.environments[1].database.highAvailability = true)),
    path: "databaseServers[0].highAvailability",
    value: false,
    message: "environment 'staging' requires a highly available database (environments[1].database.highAvailability); a shared server is as strict as the strictest of its environments: set true",
  },
  {
    name: "a shared server keeping fewer days than an environment asks",
    change: shared((r) => (r.environments[1].database.backupRetentionDays = 21)),
    path: "databaseServers[0].backupRetentionDays",
    value: 14,
    message: "environment 'staging' requires 21 days of point-in-time recovery (environments[1].database.backupRetentionDays); a shared server is as strict as the strictest of its environments: set at least 21",
  },
  {
    name: "production on a shared server that is not as strict as production",
    change: shared((r) => {
      r.databaseServers[0] = { ...r.databaseServers[0], highAvailability: true, allowProductionOnShared: true };
      r.environments[2].database = { server: SHARED_SERVER };
    }),
    path: "databaseServers[0].backupRetentionDays",
    value: 14,
    message: "environment 'production' requires 35 days of point-in-time recovery (as production does); a shared server is as strict as the strictest of its environments: set at least 35",
  },
  {
    name: "production sharing without saying so",
    change: shared((r) => {
      r.databaseServers[0] = { ...r.databaseServers[0], highAvailability: true, backupRetentionDays: 35 };
      r.environments[2].database = { server: SHARED_SERVER };
    }),
    path: "environments[2].database.server",
    value: SHARED_SERVER,
    message: `production shares a server with develop, staging only when databaseServers[0].allowProductionOnShared is true: their load, restarts and upgrades reach production`,
  },
  {
    name: "a shared server whose autoscaling ceiling is below its size",
    change: shared((r) => (r.databaseServers[0].maxStorageGb = 30)),
    path: "databaseServers[0].maxStorageGb",
    value: 30,
    message: "must be at least 55: RDS needs the ceiling 10 % above storageGb (50)",
  },
  {
    name: "a shared server with a SKU Azure does not offer",
    change: shared((r) => (r.databaseServers[0].skuName = "GP_Standard_D2s_v5")),
    path: "databaseServers[0].skuName",
    value: "GP_Standard_D2s_v5",
    message: expect.stringMatching(/^not a Flexible Server SKU the azurerm provider accepts; allowed: /),
  },
  {
    name: "a highly available Burstable shared server on Azure",
    change: shared((r) => (r.databaseServers[0] = { ...r.databaseServers[0], highAvailability: true, skuName: "B_Standard_B2s" })),
    path: "databaseServers[0].skuName",
    value: "B_Standard_B2s",
    message: "Burstable (B_) servers cannot be highly available on Azure; use a GP_ or MO_ SKU",
  },
];

describe("object storage configurations the platform refuses", () => {
  it.each(objectStorageCases)("$name", ({ change, path, value, message }) => {
    expect(problemOf(change)).toEqual({ path, value, message });
  });
});

describe("database server configurations the platform refuses", () => {
  it.each(databaseCases)("$name", ({ change, path, value, message }) => {
    expect(problemOf(change)).toEqual({ path, value, message });
  });

  it("accepts production on a shared server that says so and is as strict as production", () => {
    const config = validateConfig(
      sharedServerRaw((r) => {
        r.databaseServers[0] = { ...r.databaseServers[0], highAvailability: true, backupRetentionDays: 35, allowProductionOnShared: true };
        r.environments[2].database = { server: SHARED_SERVER };
      }),
    );
    expect(config.databaseServers[0].environments).toEqual(["develop", "staging", "production"]);
    expect(config.environments.map((env) => [env.database.server, env.database.name])).toEqual([
      [SHARED_SERVER, "develop"],
      [SHARED_SERVER, "staging"],
      [SHARED_SERVER, "production"],
    ]);
  });

  it("gives each environment on a shared server its own database by default, named after it", () => {
    const config = validateConfig(sharedServerRaw((r) => r.environments.push({ ...r.environments[0], name: "qa-eu", stage: "develop", database: { server: SHARED_SERVER } })));
    expect(config.environments.find((env) => env.name === "qa-eu")!.database).toMatchObject({ name: "qa_eu", server: SHARED_SERVER, passwordVersion: 1, instanceClass: "db.t4g.medium" });
  });
});
