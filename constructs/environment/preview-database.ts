import { portString } from "../common/port";
import { IN_CLUSTER, type DatabaseCredentials, type SecretStoreProvider } from "../contract";
import type { KubernetesObject } from "../kubernetes/manifests-release";
import { psqlPod as setupPod } from "./database-setup";

/**
 * Each pull-request preview's own database on the borrowed environment's
 * server, and the SQL that creates, keeps and drops it.
 *
 * One role, `pr_admin`, works for every preview. The server's administrator
 * creates it once (the borrowed environment's stack runs that as a setup Job)
 * with `CREATEDB` and without `CREATEROLE`: it creates preview roles only
 * through two `SECURITY DEFINER` functions that refuse any name but
 * `pr_<application>_<number>`, and that name it a member of each role they
 * create. It can drop a database only when it is a member of its owner, so
 * only the previews' own; the environments' databases stay out of its reach.
 * Its schema, functions and bookkeeping live in a database of its own,
 * `pr_admin`, which no preview role may connect to.
 *
 * Per preview, a Job (at once) and a CronJob (every half hour) run
 * {@link previewEnsureScript} as `pr_admin`: it records that the preview is
 * alive, creates its role and database when missing, and sets the password
 * External Secrets generated in the preview namespace. When the Flux Operator
 * deletes the preview, its CronJob goes with it; the cleanup CronJob then
 * drops every preview database not seen for {@link STALE_AFTER}, with its role.
 */
export const PREVIEW_DATABASE = {
  /** The role that creates and drops previews' databases, and its own database. */
  adminRole: "pr_admin",
  /** Schema of the functions and of the `last_seen` table, in the `pr_admin` database. */
  schema: "previews",
  /** Secret (in the delivery namespace) with the `pr_admin` credentials, and the store and account that read them from the cloud. */
  adminSecret: "preview-database-admin",
  /** The service account the `pr_admin` credentials' SecretStore authenticates as, carrying the contract's `PreviewDatabaseAccess.identity`. */
  serviceAccount: IN_CLUSTER.previewDatabase.serviceAccount,
  /** The service account, store and Role that copy each preview's generated password from the preview namespace. */
  passwordReader: "preview-database-passwords",
  /** ConfigMap with the scripts, NetworkPolicy and label of every preview database pod. */
  scripts: "preview-database",
  cleanup: "preview-database-cleanup",
} as const;

/** Names a preview database and its role may take: `pr_<application>_<number>`. */
export const PREVIEW_DATABASE_PATTERN = "^pr_[a-z0-9_]+_[0-9]+$";

/** How long a preview database outlives its last keep-alive before the cleanup drops it. */
export const STALE_AFTER = "3 hours";

/** Keep-alive of each preview (and its repair, should its role or database be gone), and the cleanup's schedule. */
export const KEEP_ALIVE_SCHEDULE = "*/30 * * * *";
export const CLEANUP_SCHEDULE = "17 * * * *";

/** A preview's database and role: `pr_web_api_<< inputs.id >>` for `web-api`. */
export const previewDatabaseName = (application: string, id: string): string => `pr_${application.replace(/-/g, "_")}_${id}`;

const { adminRole, schema } = PREVIEW_DATABASE;

/**
 * Run once by the server's administrator (the `previews` action of the
 * database setup): the `pr_admin` role and database, its functions and its
 * bookkeeping. Names are the constants above; the password comes from the
 * environment and reaches SQL only quoted. Running it again sets the
 * password and replaces the functions, nothing else.
 */
export function previewAdminScript(): string {
  const refuse = (what: string) => `RAISE EXCEPTION 'refusing role %: ${what}', name`;
  const guard = [
    `  IF name !~ '${PREVIEW_DATABASE_PATTERN}' THEN ${refuse("previews own only names like pr_<application>_<number>")}; END IF;`,
    `  IF EXISTS (SELECT FROM pg_roles WHERE rolname = name) AND NOT pg_has_role('${adminRole}', name, 'MEMBER') THEN ${refuse("it exists and is not a preview''s")}; END IF;`,
  ];
  const definer = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp";
  return [
    "\\set ON_ERROR_STOP on",
    "\\getenv role DATABASE_ROLE",
    "\\getenv password DATABASE_PASSWORD",
    "SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec",
    // CREATEDB and nothing else: roles come from the functions below, which check every name.
    "ALTER ROLE :\"role\" WITH LOGIN CREATEDB NOCREATEROLE INHERIT PASSWORD :'password';",
    "SELECT format('CREATE DATABASE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'role') \\gexec",
    "REVOKE ALL ON DATABASE :\"role\" FROM PUBLIC;",
    "GRANT CONNECT ON DATABASE :\"role\" TO :\"role\";",
    "\\connect :role",
    `CREATE SCHEMA IF NOT EXISTS ${schema};`,
    `REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC;`,
    `GRANT USAGE ON SCHEMA ${schema} TO :"role";`,
    `CREATE TABLE IF NOT EXISTS ${schema}.last_seen (name text PRIMARY KEY, at timestamptz NOT NULL);`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${schema}.last_seen TO :"role";`,
    `CREATE OR REPLACE FUNCTION ${schema}.ensure_role(name text, password text) RETURNS void ${definer} AS $fn$`,
    "BEGIN",
    ...guard,
    "  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN EXECUTE format('CREATE ROLE %I LOGIN', name); END IF;",
    "  EXECUTE format('ALTER ROLE %I WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD %L', name, password);",
    // Membership lets pr_admin create the database owned by the role, and later drop it.
    `  EXECUTE format('GRANT %I TO ${adminRole}', name);`,
    "END $fn$;",
    `CREATE OR REPLACE FUNCTION ${schema}.drop_role(name text) RETURNS void ${definer} AS $fn$`,
    "BEGIN",
    ...guard,
    "  EXECUTE format('DROP ROLE IF EXISTS %I', name);",
    "END $fn$;",
    `REVOKE ALL ON FUNCTION ${schema}.ensure_role(text, text), ${schema}.drop_role(text) FROM PUBLIC;`,
    `GRANT EXECUTE ON FUNCTION ${schema}.ensure_role(text, text), ${schema}.drop_role(text) TO :"role";`,
    "",
  ].join("\n");
}

/**
 * One preview's keep-alive, run as `pr_admin` in its database: records the
 * preview as seen first (so a database never exists unrecorded), then
 * creates its role and database when missing and sets the role's password.
 */
export function previewEnsureScript(): string {
  return [
    "\\set ON_ERROR_STOP on",
    "\\getenv database DATABASE_NAME",
    "\\getenv password DATABASE_PASSWORD",
    `INSERT INTO ${schema}.last_seen (name, at) VALUES (:'database', now()) ON CONFLICT (name) DO UPDATE SET at = excluded.at;`,
    `SELECT ${schema}.ensure_role(:'database', :'password');`,
    "SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'database') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \\gexec",
    // Other previews' and environments' roles cannot connect to it.
    "REVOKE ALL ON DATABASE :\"database\" FROM PUBLIC;",
    "",
  ].join("\n");
}

/** Drops every preview database (and role) not kept alive for `STALE_AFTER`. */
export function previewCleanupScript(): string {
  return [
    "\\set ON_ERROR_STOP on",
    "\\getenv stale STALE_AFTER",
    "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', name),",
    `       format('SELECT ${schema}.drop_role(%L)', name),`,
    `       format('DELETE FROM ${schema}.last_seen WHERE name = %L', name)`,
    `  FROM ${schema}.last_seen WHERE at < now() - :'stale'::interval AND name ~ '${PREVIEW_DATABASE_PATTERN}' ORDER BY name \\gexec`,
    "",
  ].join("\n");
}

export interface PreviewDatabaseServer {
  readonly host: string;
  readonly port: number;
  readonly cidrs: string[];
}

const labels = { "app.kubernetes.io/name": PREVIEW_DATABASE.scripts, "app.kubernetes.io/managed-by": "cdktf" };

/** A psql pod as `pr_admin`, in its own database, running one of the scripts. */
function psqlPod(server: PreviewDatabaseServer, script: string, env: Record<string, unknown>[]) {
  const fromSecret = (variable: string, secret: string, key: string) => ({ name: variable, valueFrom: { secretKeyRef: { name: secret, key } } });
  return setupPod({
    labels,
    configMap: PREVIEW_DATABASE.scripts,
    directory: "scripts",
    file: script,
    env: [
      { name: "PGHOST", value: server.host },
      { name: "PGPORT", value: portString(server.port) },
      { name: "PGDATABASE", value: adminRole },
      { name: "PGSSLMODE", value: "require" },
      { name: "PGCONNECT_TIMEOUT", value: "10" },
      fromSecret("PGUSER", PREVIEW_DATABASE.adminSecret, "username"),
      fromSecret("PGPASSWORD", PREVIEW_DATABASE.adminSecret, "password"),
      ...env,
    ],
  });
}

export interface PreviewDatabaseSharedProps {
  readonly namespace: string;
  /** Where previews' workloads run, and their generated passwords are read from. */
  readonly previewNamespace: string;
  readonly server: PreviewDatabaseServer;
  /** The `pr_admin` credentials in the cloud's secret store, and a store authenticated as `PREVIEW_DATABASE.serviceAccount`. */
  readonly admin: { readonly credentials: DatabaseCredentials; readonly secretStore: SecretStoreProvider };
  /** @default ["kube-system"] */
  readonly dnsNamespaces?: string[];
}

/**
 * What every preview database shares, in the delivery namespace: the
 * `pr_admin` credentials (from the cloud's store), the store that reads the
 * previews' generated passwords from the preview namespace, the scripts,
 * a NetworkPolicy that lets the psql pods reach DNS and the server only,
 * and the cleanup CronJob.
 */
export function previewDatabaseSharedManifests(props: PreviewDatabaseSharedProps): KubernetesObject[] {
  const { namespace, server } = props;
  const { credentials } = props.admin;
  const dns = props.dnsNamespaces ?? ["kube-system"];
  return [
    { apiVersion: "external-secrets.io/v1", kind: "SecretStore", metadata: { name: PREVIEW_DATABASE.adminSecret, namespace }, spec: { provider: props.admin.secretStore } },
    {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name: PREVIEW_DATABASE.adminSecret, namespace },
      spec: {
        refreshInterval: "1h",
        secretStoreRef: { kind: "SecretStore", name: PREVIEW_DATABASE.adminSecret },
        target: { name: PREVIEW_DATABASE.adminSecret, creationPolicy: "Owner", template: { engineVersion: "v2", type: "Opaque", data: { username: adminRole, password: "{{ .password }}" } } },
        data: [{ secretKey: "password", remoteRef: { key: credentials.remoteKey, ...(credentials.passwordProperty !== undefined && { property: credentials.passwordProperty }) } }],
      },
    },
    {
      // Reads, never writes, the preview namespace: a preview's code can at most choose its own role's password.
      apiVersion: "external-secrets.io/v1",
      kind: "SecretStore",
      metadata: { name: PREVIEW_DATABASE.passwordReader, namespace },
      spec: {
        provider: {
          kubernetes: {
            remoteNamespace: props.previewNamespace,
            server: { caProvider: { type: "ConfigMap", name: "kube-root-ca.crt", key: "ca.crt" } },
            auth: { serviceAccount: { name: PREVIEW_DATABASE.passwordReader } },
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: PREVIEW_DATABASE.scripts, namespace, labels },
      data: { "ensure.sql": previewEnsureScript(), "cleanup.sql": previewCleanupScript() },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: PREVIEW_DATABASE.scripts, namespace, labels },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": PREVIEW_DATABASE.scripts } },
        policyTypes: ["Ingress", "Egress"],
        egress: [
          {
            to: [{ namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: dns }] } }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
          { to: server.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: server.port }] },
        ],
      },
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: PREVIEW_DATABASE.cleanup, namespace, labels },
      spec: {
        schedule: CLEANUP_SCHEDULE,
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        jobTemplate: { spec: { backoffLimit: 2, activeDeadlineSeconds: 600, template: psqlPod(server, "cleanup.sql", [{ name: "STALE_AFTER", value: STALE_AFTER }]) } },
      },
    },
  ];
}

export interface PreviewDatabaseTemplateProps {
  readonly application: string;
  /** The ResourceSet expression of the pull request's number. */
  readonly id: string;
  readonly namespace: string;
  readonly previewNamespace: string;
  readonly server: PreviewDatabaseServer;
  readonly objectName: string;
  readonly labels: Record<string, string>;
}

/**
 * One preview's database objects, for the ResourceSet to template: in the
 * preview namespace the password (an External Secrets Password generator)
 * and the Secret the application reads (`host`, `port`, `database`, `user`,
 * `password`, named `<app>-pr-<n>-database`); in the delivery namespace a
 * copy of the password and the Job and CronJob that create and keep the
 * database. `pr_admin`'s credentials never reach the preview namespace.
 */
export function previewDatabaseTemplate(props: PreviewDatabaseTemplateProps): KubernetesObject[] {
  const { namespace, previewNamespace, server, labels: objectLabels } = props;
  const name = `${props.objectName}-database`;
  const database = previewDatabaseName(props.application, props.id);
  const generator = { apiVersion: "generators.external-secrets.io/v1alpha1", kind: "Password", name };
  const pod = psqlPod(server, "ensure.sql", [
    { name: "DATABASE_NAME", value: database },
    { name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name, key: "password" } } },
  ]);
  const podTemplate = { ...pod, metadata: { labels: { ...pod.metadata.labels, ...objectLabels } } };
  return [
    {
      apiVersion: generator.apiVersion,
      kind: generator.kind,
      metadata: { name, namespace: previewNamespace, labels: objectLabels },
      // Letters and digits: the password goes into connection strings as it is.
      spec: { length: 32, digits: 8, symbols: 0, noUpper: false, allowRepeat: true },
    },
    {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name, namespace: previewNamespace, labels: objectLabels },
      spec: {
        // Generated once: a new password would need the keep-alive to set it first.
        refreshPolicy: "CreatedOnce",
        dataFrom: [{ sourceRef: { generatorRef: generator } }],
        target: {
          name,
          creationPolicy: "Owner",
          template: {
            engineVersion: "v2",
            type: "Opaque",
            data: { host: server.host, port: portString(server.port), database, user: database, password: "{{ .password }}" },
          },
        },
      },
    },
    {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name, namespace, labels: objectLabels },
      spec: {
        refreshInterval: "10m",
        secretStoreRef: { kind: "SecretStore", name: PREVIEW_DATABASE.passwordReader },
        target: { name, creationPolicy: "Owner" },
        data: [{ secretKey: "password", remoteRef: { key: name, property: "password" } }],
      },
    },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name, namespace, labels: objectLabels },
      // Waits (not fails) while the password is copied: a missing secret holds the pod in creation.
      spec: { backoffLimit: 4, activeDeadlineSeconds: 900, template: podTemplate },
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name, namespace, labels: objectLabels },
      spec: {
        schedule: KEEP_ALIVE_SCHEDULE,
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 1,
        jobTemplate: { spec: { backoffLimit: 2, activeDeadlineSeconds: 600, template: podTemplate } },
      },
    },
  ];
}
