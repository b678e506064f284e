import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseCredentials } from "../constructs/contract";
import { DATABASE_SETUP_IMAGE, databaseSetupManifests, databaseSetupScript, type DatabaseSetupAction, type DatabaseSetupProps } from "../constructs/environment/database-setup";
import type { KubernetesObject } from "../constructs/kubernetes/manifests-release";
import { PREVIEW_DATABASE, previewDatabaseSharedManifests, previewDatabaseTemplate } from "../constructs/environment/preview-database";
import { crdValidator } from "./support/crd-schemas";
import { sharedDataDir, skipNote } from "./support/environment";
import { postgresBinaries, TestPostgres } from "./support/postgres";

const admin: DatabaseCredentials = { remoteKey: "arn:aws:secretsmanager:eu-west-1:210987654321:secret:rds!db-1", usernameProperty: "username", passwordProperty: "password" };
const credentials: DatabaseCredentials = { remoteKey: "arn:aws:secretsmanager:eu-west-1:210987654321:secret:acme-shared/staging", usernameProperty: "username", passwordProperty: "password" };

const props = (change: Partial<DatabaseSetupProps> = {}): DatabaseSetupProps => ({
  name: "setup-staging",
  namespace: "database-setup",
  server: { host: "acme-shared.cluster.eu-west-1.rds.amazonaws.com", port: 5432, cidrs: ["10.40.224.0/22", "10.40.228.0/22"] },
  database: "staging",
  role: "staging",
  action: { kind: "ensure" },
  admin,
  credentials,
  secretStore: { aws: { service: "SecretsManager", region: "eu-west-1", auth: { jwt: { serviceAccountRef: { name: "setup-staging" } } } } },
  revision: "1",
  ...change,
});

const kind = (manifests: KubernetesObject[], name: string) => manifests.find((m) => m.kind === name) as any;

describe("the database setup objects", () => {
  const manifests = databaseSetupManifests(props());
  const job = kind(manifests, "Job");

  it("are a store, the credentials, the script, a network policy and a Job, all named after the setup", () => {
    expect(manifests.map((m) => [m.kind, m.metadata.name, m.metadata.namespace])).toEqual([
      ["SecretStore", "setup-staging", "database-setup"],
      ["ExternalSecret", "setup-staging", "database-setup"],
      ["ConfigMap", "setup-staging", "database-setup"],
      ["NetworkPolicy", "setup-staging", "database-setup"],
      ["Job", expect.stringMatching(/^setup-staging-[0-9a-f]{8}$/), "database-setup"],
    ]);
  });

  it("reads the administrator's user and password and the role's password by reference only", () => {
    const external = kind(manifests, "ExternalSecret");
    expect(external.spec.data).toEqual([
      { secretKey: "adminUser", remoteRef: { key: admin.remoteKey, property: "username" } },
      { secretKey: "adminPassword", remoteRef: { key: admin.remoteKey, property: "password" } },
      { secretKey: "rolePassword", remoteRef: { key: credentials.remoteKey, property: "password" } },
    ]);
    expect(external.spec.target.template.data).toEqual({ "admin-user": "{{ .adminUser }}", "admin-password": "{{ .adminPassword }}", "role-password": "{{ .rolePassword }}" });
  });

  it("takes a fixed administrator login where the secret holds the password only (Azure)", () => {
    const fixed = databaseSetupManifests(props({ admin: { remoteKey: "acme-shared-admin-password", username: "platform_admin" } }));
    const external = kind(fixed, "ExternalSecret");
    expect(external.spec.target.template.data["admin-user"]).toBe("platform_admin");
    expect(external.spec.data.map((d: any) => d.secretKey)).toEqual(["adminPassword", "rolePassword"]);
  });

  it("lets the Job reach cluster DNS and the server's port, and nothing else", () => {
    const policy = kind(manifests, "NetworkPolicy").spec;
    expect(policy.podSelector).toEqual({ matchLabels: { "app.kubernetes.io/instance": "setup-staging" } });
    expect(policy.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.ingress).toBeUndefined();
    expect(policy.egress[1]).toEqual({ to: [{ ipBlock: { cidr: "10.40.224.0/22" } }, { ipBlock: { cidr: "10.40.228.0/22" } }], ports: [{ protocol: "TCP", port: 5432 }] });
    expect(job.spec.template.metadata.labels["app.kubernetes.io/instance"]).toBe("setup-staging");
  });

  it("runs the pinned psql as a non-root user the restricted Pod Security level admits, with no service account token", () => {
    const pod = job.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    const [container] = pod.containers;
    expect(container.image).toBe(DATABASE_SETUP_IMAGE);
    expect(container.image).toMatch(/^docker\.io\/library\/postgres:17\.\d+-alpine/);
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(container.env).toContainEqual({ name: "PGSSLMODE", value: "require" });
    expect(container.env).toContainEqual({ name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "setup-staging", key: "admin-password" } } });
  });

  it("is a new Job when the password changes, and the same one when nothing does", () => {
    const name = (revision: string) => kind(databaseSetupManifests(props({ revision })), "Job").metadata.name;
    expect(name("1")).toBe(job.metadata.name);
    expect(name("2")).not.toBe(job.metadata.name);
  });

  it("refuses at synth to drop what a preview did not create", () => {
    const drop: DatabaseSetupAction = { kind: "drop", dropPrefix: "pr_" };
    expect(() => databaseSetupManifests(props({ action: drop }))).toThrow("setup-staging: only databases and roles starting with pr_ are dropped, not staging / staging");
    const dropping = databaseSetupManifests(props({ action: drop, database: "pr_42", role: "pr_42", credentials: undefined }));
    expect(kind(dropping, "Job").spec.template.spec.containers[0].env).toContainEqual({ name: "DROP_PREFIX", value: "pr_" });
    expect(kind(dropping, "ExternalSecret").spec.data.map((d: any) => d.secretKey)).toEqual(["adminUser", "adminPassword"]);
  });

  const shared = sharedDataDir();
  it.skipIf(!shared.available)(`validates against the External Secrets CRDs${skipNote(shared)}`, () => {
    const validator = crdValidator(path.join(shared.dir!, "crd-schemas"));
    for (const m of manifests.filter((m) => m.apiVersion.startsWith("external-secrets.io/"))) {
      expect({ object: `${m.kind}/${m.metadata.name}`, errors: validator.validate(m) }).toEqual({ object: `${m.kind}/${m.metadata.name}`, errors: [] });
    }
  });
});

/**
 * The Job's script and environment against a real PostgreSQL server, with an
 * administrator that is not a superuser but may create databases and roles,
 * as RDS's master user and Flexible Server's administrator are.
 */
const binaries = postgresBinaries();
describe.skipIf(!binaries.available)(`the database setup on a real PostgreSQL server${skipNote(binaries)}`, () => {
  let server: TestPostgres;
  let scripts: string;
  const ADMIN = { user: "platform_admin", password: "admin-test-password" };

  /** Runs a setup the way its Job does: the Job's own environment and script, the server's socket for its address. */
  const run = (change: Partial<DatabaseSetupProps>, secrets: { rolePassword?: string }) => {
    const manifests = databaseSetupManifests(props(change));
    const script = path.join(scripts, `${kind(manifests, "Job").metadata.name}.sql`);
    writeFileSync(script, kind(manifests, "ConfigMap").data["setup.sql"]);
    const secretValues: Record<string, string> = { "admin-user": ADMIN.user, "admin-password": ADMIN.password, "role-password": secrets.rolePassword ?? "" };
    const env: Record<string, string> = {};
    for (const variable of kind(manifests, "Job").spec.template.spec.containers[0].env) {
      env[variable.name] = variable.value ?? secretValues[variable.valueFrom.secretKeyRef.key];
    }
    const { PGUSER, PGPASSWORD, PGHOST: _host, PGPORT: _port, ...rest } = env;
    return server.psql(PGUSER, PGPASSWORD, [`--file=${script}`], rest);
  };
  const connect = (role: string, password: string, database: string, sql = "SELECT current_user") =>
    server.psql(role, password, ["--set=ON_ERROR_STOP=1", "--dbname", database, "--command", sql]);

  beforeAll(() => {
    server = new TestPostgres(binaries.bindir!);
    scripts = mkdtempSync(path.join(tmpdir(), "setup-scripts-"));
    server.superuser(`CREATE ROLE ${ADMIN.user} LOGIN CREATEDB CREATEROLE PASSWORD '${ADMIN.password}'`);
    for (const [env, password] of [["staging", "staging-one"], ["production", "production-one"]]) {
      const result = run({ database: env, role: env }, { rolePassword: password });
      expect(result.stderr.replace(/^psql:.*NOTICE:.*\n/gm, "")).toBe("");
      expect(result.status).toBe(0);
    }
  }, 60_000);
  afterAll(() => {
    server?.stop();
    if (scripts) rmSync(scripts, { recursive: true, force: true });
  });

  it("creates the role and its database, owned by the role, and lets the role work in it", () => {
    expect(server.superuser("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'staging'")).toBe("staging");
    expect(connect("staging", "staging-one", "staging", "CREATE TABLE uploads (id int); SELECT count(*) FROM uploads").stdout.trim()).toBe("0");
  });

  it("gives the role no power beyond its database", () => {
    expect(server.superuser("SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = 'staging'")).toBe("f|f|f|f|f");
  });

  it("keeps one environment's role out of another's database", () => {
    const result = connect("staging", "staging-one", "production");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('permission denied for database "production"');
  });

  it("changes nothing but the password when run again, and the old password stops working", () => {
    const before = server.superuser("SELECT oid, datdba FROM pg_database WHERE datname = 'staging'");
    const again = run({ database: "staging", role: "staging", revision: "2" }, { rolePassword: "staging-two" });
    expect(again.status).toBe(0);
    expect(server.superuser("SELECT oid, datdba FROM pg_database WHERE datname = 'staging'")).toBe(before);
    expect(connect("staging", "staging-two", "staging", "SELECT count(*) FROM uploads").stdout.trim()).toBe("0");
    expect(connect("staging", "staging-one", "staging").stderr).toContain("password authentication failed");
  });

  it("treats names and passwords as values: quotes in them change no statement", () => {
    const odd = run({ database: "quoted", role: "quoted" }, { rolePassword: "it's'; DROP DATABASE staging; --" });
    expect(odd.status).toBe(0);
    expect(connect("quoted", "it's'; DROP DATABASE staging; --", "quoted").status).toBe(0);
    expect(server.superuser("SELECT count(*) FROM pg_database WHERE datname = 'staging'")).toBe("1");
  });

  it("drops a preview's database and role, and refuses anything else", () => {
    expect(run({ database: "pr_42", role: "pr_42" }, { rolePassword: "preview" }).status).toBe(0);
    const drop: DatabaseSetupAction = { kind: "drop", dropPrefix: "pr_" };
    expect(run({ database: "pr_42", role: "pr_42", action: drop, credentials: undefined }, {}).status).toBe(0);
    expect(server.superuser("SELECT count(*) FROM pg_database WHERE datname = 'pr_42'")).toBe("0");
    expect(server.superuser("SELECT count(*) FROM pg_roles WHERE rolname = 'pr_42'")).toBe("0");
    // Dropping again finds nothing to drop, and succeeds.
    expect(run({ database: "pr_42", role: "pr_42", action: drop, credentials: undefined }, {}).status).toBe(0);
  });

  it("refuses in SQL too, should a drop Job name a database outside its prefix", () => {
    const script = path.join(scripts, "drop.sql");
    writeFileSync(script, databaseSetupScript({ kind: "drop", dropPrefix: "pr_" }));
    const refused = server.psql(ADMIN.user, ADMIN.password, [`--file=${script}`], { DATABASE_NAME: "staging", DATABASE_ROLE: "staging", DROP_PREFIX: "pr_" });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain("refusing to drop staging / staging (only names starting with pr_ are dropped)");
    expect(server.superuser("SELECT count(*) FROM pg_database WHERE datname = 'staging'")).toBe("1");
  });

  describe("previews' databases, through the pr_admin role", () => {
    const PREVIEW_ADMIN_PASSWORD = "preview-admin-test-password";
    const previewServer = { host: "acme-develop.eu-west-1.rds.amazonaws.com", port: 5432, cidrs: ["10.40.224.0/22"] };
    const shared = previewDatabaseSharedManifests({ namespace: "preview-delivery", previewNamespace: "preview", server: previewServer, admin: { credentials: { remoteKey: "acme-develop/previews", passwordProperty: "password" }, secretStore: {} } });
    const scriptsMap = (shared.find((m) => m.kind === "ConfigMap") as any).data as Record<string, string>;

    /** Runs a psql pod of the preview database objects the way Kubernetes would: its env, its script, the secrets' values. */
    const runPod = (pod: any, secrets: Record<string, Record<string, string>>) => {
      const container = pod.spec.containers[0];
      const env: Record<string, string> = {};
      for (const variable of container.env) env[variable.name] = variable.value ?? secrets[variable.valueFrom.secretKeyRef.name][variable.valueFrom.secretKeyRef.key];
      const file = path.join(scripts, path.basename(container.command.find((arg: string) => arg.startsWith("--file=")).slice("--file=".length)));
      writeFileSync(file, scriptsMap[path.basename(file)]);
      const { PGUSER, PGPASSWORD, PGHOST: _host, PGPORT: _port, ...rest } = env;
      return server.psql(PGUSER, PGPASSWORD, [`--file=${file}`], rest);
    };
    const adminSecret = { [PREVIEW_DATABASE.adminSecret]: { username: PREVIEW_DATABASE.adminRole, password: PREVIEW_ADMIN_PASSWORD } };
    const keepAlive = (id: string, password: string) => {
      const objects = previewDatabaseTemplate({ application: "web", id, namespace: "preview-delivery", previewNamespace: "preview", server: previewServer, objectName: `web-pr-${id}`, labels: {} });
      const job = objects.find((m) => m.kind === "Job") as any;
      return runPod(job.spec.template, { ...adminSecret, [`web-pr-${id}-database`]: { password } });
    };
    const cleanup = () => runPod((shared.find((m) => m.kind === "CronJob") as any).spec.jobTemplate.spec.template, adminSecret);
    const asPreviewAdmin = (sql: string, database = PREVIEW_DATABASE.adminRole) => connect(PREVIEW_DATABASE.adminRole, PREVIEW_ADMIN_PASSWORD, database, sql);
    const clean = (result: { stderr: string }) => result.stderr.replace(/^psql:.*NOTICE:.*\n/gm, "");

    beforeAll(() => {
      // The borrowed environment's stack runs this once, as the server's administrator.
      const setup = run({ database: PREVIEW_DATABASE.adminRole, role: PREVIEW_DATABASE.adminRole, action: { kind: "previews" } }, { rolePassword: PREVIEW_ADMIN_PASSWORD });
      expect(clean(setup)).toBe("");
      expect(setup.status).toBe(0);
      for (const [id, password] of [["42", "preview-42"], ["7", "preview-7"]]) expect(clean(keepAlive(id, password))).toBe("");
    });

    it("creates each preview's database, owned by its own role, which the preview's password opens", () => {
      expect(server.superuser("SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE 'pr\\_web\\_%' ORDER BY 1")).toBe("pr_web_42|pr_web_42\npr_web_7|pr_web_7");
      expect(connect("pr_web_42", "preview-42", "pr_web_42", "CREATE TABLE carts (id int); SELECT count(*) FROM carts").stdout.trim()).toBe("0");
    });

    it("gives a preview's role nothing beyond its database: not another preview's, an environment's, or pr_admin's with its functions", () => {
      expect(server.superuser("SELECT rolcreatedb, rolcreaterole, (SELECT count(*) FROM pg_auth_members WHERE member = oid) FROM pg_roles WHERE rolname = 'pr_web_42'")).toBe("f|f|0");
      for (const database of ["pr_web_7", "staging", PREVIEW_DATABASE.adminRole]) expect(connect("pr_web_42", "preview-42", database).stderr).toContain(`permission denied for database "${database}"`);
    });

    it("keeps pr_admin off every database and role but the previews'", () => {
      expect(server.superuser("SELECT rolcreatedb, rolcreaterole, rolsuper FROM pg_roles WHERE rolname = 'pr_admin'")).toBe("t|f|f");
      expect(asPreviewAdmin("DROP DATABASE staging").stderr).toContain("must be owner of database staging");
      expect(asPreviewAdmin("ALTER ROLE staging PASSWORD 'taken'").stderr).toContain("permission denied");
      expect(asPreviewAdmin("CREATE ROLE pr_web_9 LOGIN").stderr).toContain("permission denied to create role");
      expect(asPreviewAdmin("SELECT previews.ensure_role('staging', 'taken')").stderr).toContain("refusing role staging: previews own only names like pr_<application>_<number>");
      expect(asPreviewAdmin("SELECT previews.drop_role('pr_admin')").stderr).toContain("refusing role pr_admin");
      expect(connect(PREVIEW_DATABASE.adminRole, PREVIEW_ADMIN_PASSWORD, "staging").stderr).toContain('permission denied for database "staging"');
      // A pr_-named role the previews did not create is not theirs either.
      server.superuser("CREATE ROLE pr_other_1 LOGIN");
      expect(asPreviewAdmin("SELECT previews.ensure_role('pr_other_1', 'taken')").stderr).toContain("refusing role pr_other_1: it exists and is not a preview's");
      expect(connect("staging", "staging-two", "staging").status).toBe(0);
    });

    it("keeps a live preview's database as it is, and drops the ones whose keep-alive stopped, with their roles", () => {
      const before = server.superuser("SELECT oid FROM pg_database WHERE datname = 'pr_web_7'");
      expect(keepAlive("7", "preview-7").status).toBe(0);
      expect(server.superuser("SELECT oid FROM pg_database WHERE datname = 'pr_web_7'")).toBe(before);
      // Pull request 42 closed four hours ago; a row naming an environment's database is never acted on.
      server.superuser("UPDATE previews.last_seen SET at = now() - interval '4 hours' WHERE name = 'pr_web_42'", PREVIEW_DATABASE.adminRole);
      server.superuser("INSERT INTO previews.last_seen VALUES ('staging', now() - interval '1 day')", PREVIEW_DATABASE.adminRole);
      const result = cleanup();
      expect(clean(result)).toBe("");
      expect(result.status).toBe(0);
      expect(server.superuser("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'pr\\_%' OR datname = 'staging'")).toBe("pr_admin,pr_web_7,staging");
      expect(server.superuser("SELECT count(*) FROM pg_roles WHERE rolname = 'pr_web_42'")).toBe("0");
      expect(server.superuser("SELECT string_agg(name, ',' ORDER BY name) FROM previews.last_seen", PREVIEW_DATABASE.adminRole)).toBe("pr_web_7,staging");
      // A preview labelled again gets its database back.
      expect(keepAlive("42", "preview-42-again").status).toBe(0);
      expect(connect("pr_web_42", "preview-42-again", "pr_web_42").status).toBe(0);
    });
  });
});
