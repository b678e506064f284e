import { createHash } from "node:crypto";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { portString } from "../common/port";
import type { DatabaseCredentials, SecretStoreProvider, WorkloadIdentity } from "../contract";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { ApplicationServiceAccount } from "./application-service-account";
import { previewAdminScript } from "./preview-database";

/**
 * The client image the setup Jobs run: PostgreSQL's own, whose psql 17 speaks
 * to every server version the config allows (15 to 17). Runs as its
 * `postgres` user.
 */
export const DATABASE_SETUP_IMAGE = "docker.io/library/postgres:17.6-alpine3.22";
export const DATABASE_SETUP_UID = 70;

/** How long a setup Job may take, and a minute less than the release waits for it. */
export const SETUP_DEADLINE_SECONDS = 540;

/**
 * What a setup Job does. `ensure` creates the role and its database when
 * missing and sets the role's password, ownership and rights every time, so
 * running it again changes nothing but the password. `drop` removes both, and
 * only names starting with `dropPrefix`: pull-request previews create and drop
 * `pr_*` databases on a server they borrow, never anything else. `previews`
 * creates the role `pr_admin` (named by `role`, with the password in
 * `credentials`) through which previews do so (constructs/environment/preview-database.ts).
 */
export type DatabaseSetupAction = { readonly kind: "ensure" } | { readonly kind: "drop"; readonly dropPrefix: string } | { readonly kind: "previews" };

const PREAMBLE = [
  "\\set ON_ERROR_STOP on",
  "\\getenv role DATABASE_ROLE",
  "\\getenv database DATABASE_NAME",
];

/**
 * The psql script of an action. Names and the password come from the
 * environment (`\getenv`) and reach SQL only quoted (`:"name"`, `:'value'`,
 * `format('%I')`), so no value can change a statement.
 */
export function databaseSetupScript(action: DatabaseSetupAction): string {
  if (action.kind === "previews") return previewAdminScript();
  if (action.kind === "ensure") {
    return [
      ...PREAMBLE,
      "\\getenv password DATABASE_PASSWORD",
      "SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec",
      // No SUPERUSER, REPLICATION or BYPASSRLS: a role created without them keeps them off, and only a superuser could change them.
      "ALTER ROLE :\"role\" WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD :'password';",
      // Creating a database owned by the role, or handing one to it, needs membership in the role.
      "GRANT :\"role\" TO CURRENT_USER;",
      "SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \\gexec",
      "SELECT format('ALTER DATABASE %I OWNER TO %I', :'database', :'role') FROM pg_database WHERE datname = :'database' AND datdba <> (SELECT oid FROM pg_roles WHERE rolname = :'role') \\gexec",
      // Other environments' roles on the server cannot connect to this database.
      "REVOKE ALL ON DATABASE :\"database\" FROM PUBLIC;",
      "",
    ].join("\n");
  }
  return [
    ...PREAMBLE,
    "\\getenv prefix DROP_PREFIX",
    "SELECT length(:'prefix') > 0 AND starts_with(:'database', :'prefix') AND starts_with(:'role', :'prefix') AS droppable \\gset",
    "\\if :droppable",
    "SELECT format('DROP DATABASE %I WITH (FORCE)', :'database') WHERE EXISTS (SELECT FROM pg_database WHERE datname = :'database') \\gexec",
    "DROP ROLE IF EXISTS :\"role\";",
    "\\else",
    "SELECT set_config('setup.refused', :'database' || ' / ' || :'role' || ' (only names starting with ' || :'prefix' || ' are dropped)', false);",
    "DO $$ BEGIN RAISE EXCEPTION 'refusing to drop %', current_setting('setup.refused'); END $$;",
    "\\endif",
    "",
  ].join("\n");
}

/** Keys of the Kubernetes secret the Job reads. */
const SECRET_KEYS = { adminUser: "admin-user", adminPassword: "admin-password", rolePassword: "role-password" } as const;

export interface DatabaseSetupProps {
  /** Names the service account, store, secret, policy, script and Job: `setup-<environment>`. */
  readonly name: string;
  /** A namespace no application team deploys into: the administrator's password is read there. */
  readonly namespace: string;
  readonly server: { readonly host: string; readonly port: number; readonly cidrs: string[] };
  readonly database: string;
  readonly role: string;
  readonly action: DatabaseSetupAction;
  /** The administrator's credentials in the cloud's secret store. */
  readonly admin: DatabaseCredentials;
  /** The role's credentials (`ensure` sets that password on the role). */
  readonly credentials?: DatabaseCredentials;
  /** A SecretStore provider authenticated as the service account `name`. */
  readonly secretStore: SecretStoreProvider;
  /** Changes whenever the role's password does, so the Job runs again. */
  readonly revision: string;
  /** @default ["kube-system"] */
  readonly dnsNamespaces?: string[];
}

function remote(secretKey: string, credentials: DatabaseCredentials, property: string | undefined) {
  return { secretKey, remoteRef: { key: credentials.remoteKey, ...(property !== undefined && { property }) } };
}

/**
 * The objects that run one database action on a server only the cluster
 * reaches, as plain manifests: a SecretStore, an ExternalSecret with the
 * administrator's (and the role's) credentials, the psql script, a
 * NetworkPolicy that lets the Job reach DNS and the server and nothing else,
 * and the Job. The Job's name carries a hash of everything it does, so a
 * change (a new password, another action) is a new Job, and an unchanged one
 * is not run again. Pull-request previews template the same objects.
 */
export function databaseSetupManifests(props: DatabaseSetupProps): KubernetesObject[] {
  const { name, namespace, action, admin } = props;
  if (action.kind !== "drop" && props.credentials === undefined) throw new Error(`${name}: ensuring a role needs its credentials`);
  if (action.kind === "drop" && !(props.database.startsWith(action.dropPrefix) && props.role.startsWith(action.dropPrefix))) {
    throw new Error(`${name}: only databases and roles starting with ${action.dropPrefix} are dropped, not ${props.database} / ${props.role}`);
  }
  if (admin.usernameProperty === undefined && admin.username === undefined) throw new Error(`${name}: the administrator's credentials name neither usernameProperty nor username`);
  const labels = { "app.kubernetes.io/name": "database-setup", "app.kubernetes.io/instance": name, "app.kubernetes.io/managed-by": "cdktf" };
  const script = databaseSetupScript(action);
  const port = portString(props.server.port);
  const hash = createHash("sha256")
    .update(JSON.stringify([DATABASE_SETUP_IMAGE, script, props.server.host, port, props.database, props.role, props.revision]))
    .digest("hex")
    .slice(0, 8);

  const data = [
    ...(admin.usernameProperty !== undefined ? [remote("adminUser", admin, admin.usernameProperty)] : []),
    remote("adminPassword", admin, admin.passwordProperty),
    ...(props.credentials ? [remote("rolePassword", props.credentials, props.credentials.passwordProperty)] : []),
  ];
  const secretData: Record<string, string> = {
    [SECRET_KEYS.adminUser]: admin.usernameProperty !== undefined ? "{{ .adminUser }}" : admin.username!,
    [SECRET_KEYS.adminPassword]: "{{ .adminPassword }}",
    ...(props.credentials ? { [SECRET_KEYS.rolePassword]: "{{ .rolePassword }}" } : {}),
  };
  const fromSecret = (variable: string, key: string) => ({ name: variable, valueFrom: { secretKeyRef: { name, key } } });

  return [
    { apiVersion: "external-secrets.io/v1", kind: "SecretStore", metadata: { name, namespace, labels }, spec: { provider: props.secretStore } },
    {
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name, namespace, labels },
      spec: {
        refreshInterval: "1h",
        secretStoreRef: { kind: "SecretStore", name },
        target: { name, creationPolicy: "Owner", template: { engineVersion: "v2", type: "Opaque", data: secretData } },
        data,
      },
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels }, data: { "setup.sql": script } },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name, namespace, labels },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/instance": name } },
        policyTypes: ["Ingress", "Egress"],
        egress: [
          {
            to: [{ namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: props.dnsNamespaces ?? ["kube-system"] }] } }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
          { to: props.server.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: props.server.port }] },
        ],
      },
    },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: `${name}-${hash}`, namespace, labels },
      spec: {
        // Retries (10 s, 20 s, 40 s, 80 s apart) while the ExternalSecret first syncs, all within
        // the release's wait, so that a setup that cannot succeed fails the apply, not later.
        backoffLimit: 4,
        activeDeadlineSeconds: SETUP_DEADLINE_SECONDS,
        template: psqlPod({
          labels,
          configMap: name,
          directory: "setup",
          file: "setup.sql",
          env: [
            { name: "PGHOST", value: props.server.host },
            { name: "PGPORT", value: port },
            { name: "PGDATABASE", value: "postgres" },
            { name: "PGSSLMODE", value: "require" },
            { name: "PGCONNECT_TIMEOUT", value: "10" },
            { name: "PGAPPNAME", value: name },
            fromSecret("PGUSER", SECRET_KEYS.adminUser),
            fromSecret("PGPASSWORD", SECRET_KEYS.adminPassword),
            { name: "DATABASE_NAME", value: props.database },
            { name: "DATABASE_ROLE", value: props.role },
            ...(action.kind !== "drop" ? [fromSecret("DATABASE_PASSWORD", SECRET_KEYS.rolePassword)] : [{ name: "DROP_PREFIX", value: action.dropPrefix }]),
          ],
        }),
      },
    },
  ];
}

export interface PsqlPodProps {
  readonly labels: Record<string, string>;
  /** The ConfigMap with the scripts, mounted read-only at `/<directory>`. */
  readonly configMap: string;
  readonly directory: string;
  /** The script psql runs, in that directory. */
  readonly file: string;
  readonly env: Record<string, unknown>[];
}

/**
 * The pod template of a Job that runs one psql script: the pinned client
 * image as its non-root user, the restricted Pod Security level's settings,
 * no service account token, and small fixed resources.
 */
export function psqlPod(props: PsqlPodProps) {
  return {
    metadata: { labels: props.labels },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: DATABASE_SETUP_UID, runAsGroup: DATABASE_SETUP_UID, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "psql",
          image: DATABASE_SETUP_IMAGE,
          command: ["psql", "--no-psqlrc", `--file=/${props.directory}/${props.file}`],
          env: props.env,
          volumeMounts: [{ name: props.directory, mountPath: `/${props.directory}`, readOnly: true }],
          resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
        },
      ],
      volumes: [{ name: props.directory, configMap: { name: props.configMap } }],
    },
  };
}

export interface DatabaseSetupReleaseProps extends DatabaseSetupProps {
  /** The cloud identity the service account `name` carries: reads the administrator's and the role's credentials. */
  readonly identity: WorkloadIdentity;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * One database action applied from Terraform: the service account its store
 * authenticates as, and the manifests in a Helm release that waits for the
 * Job, so the apply fails, and says so, when the database cannot be set up.
 * A failed Job stays for `kubectl logs`.
 */
export class DatabaseSetup extends Construct {
  readonly manifests: KubernetesObject[];
  readonly release: ManifestsRelease;

  constructor(scope: Construct, id: string, props: DatabaseSetupReleaseProps) {
    super(scope, id);
    const serviceAccount = new ApplicationServiceAccount(this, "service-account", {
      name: props.name,
      namespace: props.namespace,
      identity: props.identity,
      dependsOn: props.dependsOn,
    });
    this.manifests = databaseSetupManifests(props);
    this.release = new ManifestsRelease(this, "manifests", {
      name: `database-${props.name}`,
      namespace: props.namespace,
      manifests: this.manifests,
      waitForJobs: true,
      // A failed Job is what an operator needs to read; a rollback would delete it.
      atomic: false,
      timeoutSeconds: SETUP_DEADLINE_SECONDS + 60,
      dependsOn: [serviceAccount.serviceAccount],
    });
  }
}
