import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECEIVER_OBJECTS } from "../constructs/environment/receiver";
import { parse, stringify } from "yaml";
import { validateConfig, type PlatformConfig } from "../config";
import { DEFAULT_PREVIEW_STALE_DAYS, PREVIEW_NAMESPACES } from "../config/previews";
import { alertmanagerConfig } from "../constructs/addons/alertmanager-config";
import { CHARTS } from "../constructs/addons/charts";
import { CLUSTER_SECRET_STORE } from "../constructs/addons/external-secrets";
import { DEDICATED_NODES_FEATURE_FLAGS } from "../constructs/addons/knative";
import { IN_CLUSTER } from "../constructs/contract";
import { productionEnvironments } from "../constructs/common/uptime-targets";
import { KEEP_ALIVE_SCHEDULE, PREVIEW_DATABASE, PREVIEW_DATABASE_PATTERN, previewDatabaseSharedManifests } from "../constructs/environment/preview-database";
import { PREVIEW_POD_TEMPLATE_KINDS, PREVIEWS, previewDomain, previewGithubTokenKey, previewInputProvider, previewManifests, previewTemplate } from "../constructs/environment/previews";
import { ENVIRONMENT_DEPLOYER_ROLE } from "../constructs/kubernetes/ci-access";
import type { KubernetesObject } from "../constructs/kubernetes/manifests-release";
import { problemOf } from "./support/config-problems";
import { SHARED_SERVER, sharedServerConfig } from "./support/shared-server";
import { crdValidator } from "./support/crd-schemas";
import { kubernetesValidator } from "./support/kubernetes-schema";
import { commandLineTool, sharedDataDir, skipNote } from "./support/environment";
import { configWith, resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

const shared = sharedDataDir();

/**
 * The inputs the Flux Operator's GitHubPullRequest provider exports for each
 * pull request (flux-operator v0.49.0, docs/crd/resourcesetinputprovider.md,
 * "exportedInputs": id, sha, branch, author, title), and the one template
 * function the templates use.
 */
const GITHUB_PULL_REQUEST_INPUTS = ["id", "sha", "branch", "author", "title"];
const TEMPLATE_FUNCTIONS = ["quote"];

const TWO_PULL_REQUESTS = [
  { id: "42", sha: "bf5d6e01cf802734853f6f3417b237e3ad0ba35d", branch: "feature/login", author: "alice", title: "Log in" },
  { id: "7", sha: "0123456789abcdef0123456789abcdef01234567", branch: "fix/typo", author: "bob", title: "Fix a typo" },
];

const EXPRESSION = /<<\s*inputs\.([A-Za-z_]+)\s*(\|\s*([a-z]+)\s*)?>>/g;

/**
 * Renders a ResourceSet template for one input set the way the operator
 * does (flux-operator internal/builder/resourceset.go, BuildResource): the
 * object is written as YAML (sigs.k8s.io/yaml JSONToYAML), the `<< >>`
 * expressions are executed with `missingkey=error`, and the text is read
 * back. An expression that is a whole value is written unquoted, so
 * `<< inputs.id >>` reads back as a number and `<< inputs.id | quote >>` as
 * a string.
 */
function render(template: unknown, inputs: Record<string, string>): unknown {
  const value = (key: string) => {
    if (!(key in inputs)) throw new Error(`map has no entry for key "${key}"`);
    return inputs[key];
  };
  if (Array.isArray(template)) return template.map((item) => render(item, inputs));
  if (template !== null && typeof template === "object") return Object.fromEntries(Object.entries(template).map(([key, value]) => [render(key, inputs), render(value, inputs)]));
  if (typeof template !== "string") return template;
  const whole = /^<<\s*inputs\.([A-Za-z_]+)\s*(\|\s*quote\s*)?>>$/.exec(template);
  if (whole) return whole[2] ? value(whole[1]) : parse(value(whole[1]));
  return template.replace(EXPRESSION, (_, key: string) => value(key));
}

const previewsConfig = (change?: (raw: any) => void): PlatformConfig =>
  validateConfig(
    configWith((raw) => {
      raw.previews = { environment: "develop", label: "preview", maxOpen: 3, quota: { requestsCpu: "4", requestsMemory: "8Gi", pods: 40 } };
      raw.applications[0].repository = "https://github.com/acme/web";
      raw.applications[0].previews = true;
      change?.(raw);
    }),
  );

const byName = (resources: Record<string, any>): Record<string, any> => Object.fromEntries(Object.values(resources).map((r: any) => [r.metadata.name, r]));

function manifestsOf(stack: TerraformJson): KubernetesObject[] {
  return Object.values(resourcesOf(stack, "helm_release")).flatMap((release: any) => (release.values ?? []).flatMap((text: string) => (parse(text)?.manifests ?? []) as KubernetesObject[]));
}

const TEMPLATE_PROPS = {
  previews: previewsConfig().previews!,
  application: { name: "web", repository: "https://github.com/acme/web", imageRepository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/web" },
  domain: "preview.apps.example.com",
  registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
  scaleToZeroRetention: "0s",
  database: { host: "acme-develop.abc123.eu-west-1.rds.amazonaws.com", port: 5432, cidrs: ["10.40.224.0/22", "10.40.228.0/22"] },
};

/** Kinds the shared CRD schemas cover; the rest (core kinds, External Secrets generators) are checked by assertions. */
const WITH_CRD_SCHEMA = (object: KubernetesObject) => !["v1", "batch/v1", "networking.k8s.io/v1"].includes(object.apiVersion) && !object.apiVersion.startsWith("generators.");

describe("previews configuration", () => {
  it("is off by default, and applications are not previewed unless they say so", () => {
    const config = validateConfig(configWith(() => {}));
    expect(config.previews).toBeUndefined();
    expect(config.applications.map((app) => app.previews)).toEqual([false, false]);
  });

  it("fills the label, cap, manifests path and staleness with their defaults", () => {
    expect(previewsConfig((raw) => delete raw.previews.label).previews).toEqual({
      environment: "develop",
      label: "preview",
      maxOpen: 3,
      quota: { requestsCpu: "4", requestsMemory: "8Gi", pods: 40 },
      path: "deploy/preview",
      staleDays: 7,
    });
  });

  const withPreviews = (raw: any) => {
    raw.previews = { environment: "develop", quota: { requestsCpu: "4", requestsMemory: "8Gi", pods: 40 } };
    raw.applications[0].repository = "https://github.com/acme/web";
    raw.applications[0].previews = true;
  };

  it.each([
    ["borrow production", (raw: any) => (raw.previews.environment = "production"), "previews.environment", "production", "is a production environment; previews borrow a non-production one's cluster and registry"],
    ["borrow an unknown environment", (raw: any) => (raw.previews.environment = "dev"), "previews.environment", "dev", "unknown environment; configured environments are develop, staging, production"],
    ["preview an application without a repository", (raw: any) => delete raw.applications[0].repository, "applications[0].repository", undefined, "previews: true needs the application's GitHub repository, whose pull requests are previewed"],
    ["preview nothing", (raw: any) => (raw.applications[0].previews = false), "previews", "develop", "no application has previews: true; set it on the applications whose pull requests are previewed, or remove previews"],
    ["have no label", (raw: any) => (raw.previews.label = ""), "previews.label", "", "must not be empty"],
    ["leave no room for a container", (raw: any) => (raw.previews.quota.requestsCpu = "50m"), "previews.quota.requestsCpu", "50m", "is less than one container's default request in develop (100m): no preview pod would fit"],
    ["name a repository that is not on GitHub", (raw: any) => (raw.applications[0].repository = "https://gitlab.com/acme/web"), "applications[0].repository", "https://gitlab.com/acme/web", "a GitHub repository URL such as https://github.com/acme/web (no .git, no trailing slash)"],
  ])("refuses to %s", (_, change, at, value, message) => {
    expect(
      problemOf((raw) => {
        withPreviews(raw);
        change(raw);
      }),
    ).toEqual({ path: at, value, message });
  });

  it("refuses an application that asks for previews when previews are off", () => {
    expect(
      problemOf((raw) => {
        raw.applications[1].previews = true;
        raw.applications[1].repository = "https://github.com/acme/api";
      }),
    ).toMatchObject({ path: "applications[1].previews", message: expect.stringContaining("needs the top-level previews") });
  });

  it("refuses an environment that would take a preview namespace's name", () => {
    expect(
      problemOf((raw) => {
        withPreviews(raw);
        raw.environments[0].name = PREVIEW_NAMESPACES.workloads;
        raw.environments[0].stage = "develop";
        raw.previews.environment = PREVIEW_NAMESPACES.workloads;
      }),
    ).toMatchObject({ path: "environments[0].name", value: "preview" });
  });
});

describe("the ResourceSet template, rendered for two pull requests", () => {
  const template = previewTemplate(TEMPLATE_PROPS);
  const rendered = TWO_PULL_REQUESTS.map((inputs) => render(template, inputs) as any[]);

  it("uses only inputs the GitHubPullRequest provider exports", () => {
    const expressions = [...JSON.stringify(template).matchAll(EXPRESSION)];
    expect(expressions.length).toBeGreaterThan(5);
    for (const [, key, , fn] of expressions) {
      expect(GITHUB_PULL_REQUEST_INPUTS).toContain(key);
      if (fn !== undefined) expect(TEMPLATE_FUNCTIONS).toContain(fn);
    }
    // Nothing else looks like a template expression: a typo would reach the cluster as text.
    expect(JSON.stringify(rendered)).not.toMatch(/<<|>>/);
  });

  it("names each preview's objects after its application and pull request", () => {
    expect(rendered.map((objects) => objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`))).toEqual(
      ["42", "7"].map((id) => [
        `GitRepository/preview-delivery/web-pr-${id}`,
        `Kustomization/preview-delivery/web-pr-${id}`,
        `Password/preview/web-pr-${id}-database`,
        `ExternalSecret/preview/web-pr-${id}-database`,
        `ExternalSecret/preview-delivery/web-pr-${id}-database`,
        `Job/preview-delivery/web-pr-${id}-database`,
        `CronJob/preview-delivery/web-pr-${id}-database`,
      ]),
    );
  });

  it("gives each preview its own database and role on the borrowed server, and the application their secret", () => {
    for (const [i, objects] of rendered.entries()) {
      const { id } = TWO_PULL_REQUESTS[i];
      const byKind = (kind: string, namespace: string) => objects.find((o) => o.kind === kind && o.metadata.namespace === namespace);
      // The application reads `<app>-pr-<n>-database` in the preview namespace, named to it by DATABASE_SECRET.
      expect(byKind("Kustomization", "preview-delivery").spec.postBuild.substitute.DATABASE_SECRET).toBe(`web-pr-${id}-database`);
      const secret = byKind("ExternalSecret", "preview");
      expect(secret.spec.target.name).toBe(`web-pr-${id}-database`);
      expect(secret.spec.target.template.data).toEqual({ host: TEMPLATE_PROPS.database.host, port: "5432", database: `pr_web_${id}`, user: `pr_web_${id}`, password: "{{ .password }}" });
      // Generated in the cluster, once: never in Terraform, never rotated under a running preview.
      expect(secret.spec.dataFrom).toEqual([{ sourceRef: { generatorRef: { apiVersion: "generators.external-secrets.io/v1alpha1", kind: "Password", name: `web-pr-${id}-database` } } }]);
      expect(secret.spec.refreshPolicy).toBe("CreatedOnce");
      expect(byKind("Password", "preview").spec).toMatchObject({ length: 32, symbols: 0 });
      // The keep-alive reads that password through the read-only store, and runs as pr_admin in the delivery namespace.
      const copy = byKind("ExternalSecret", "preview-delivery");
      expect(copy.spec.secretStoreRef).toEqual({ kind: "SecretStore", name: PREVIEW_DATABASE.passwordReader });
      expect(copy.spec.data).toEqual([{ secretKey: "password", remoteRef: { key: `web-pr-${id}-database`, property: "password" } }]);
      const job = byKind("Job", "preview-delivery");
      const cron = byKind("CronJob", "preview-delivery");
      expect(cron.spec.jobTemplate.spec.template).toEqual(job.spec.template);
      expect(cron.spec.schedule).toBe(KEEP_ALIVE_SCHEDULE);
      const container = job.spec.template.spec.containers[0];
      expect(container.command).toEqual(["psql", "--no-psqlrc", "--file=/scripts/ensure.sql"]);
      expect(container.env).toEqual(
        expect.arrayContaining([
          { name: "PGHOST", value: TEMPLATE_PROPS.database.host },
          { name: "PGDATABASE", value: PREVIEW_DATABASE.adminRole },
          { name: "DATABASE_NAME", value: `pr_web_${id}` },
          { name: "DATABASE_PASSWORD", valueFrom: { secretKeyRef: { name: `web-pr-${id}-database`, key: "password" } } },
          { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: PREVIEW_DATABASE.adminSecret, key: "password" } } },
        ]),
      );
      expect(job.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    }
    // pr_admin's credentials are read in the delivery namespace alone.
    const inPreview = JSON.stringify(rendered.flat().filter((o) => o.metadata.namespace === "preview"));
    expect(inPreview).not.toContain(PREVIEW_DATABASE.adminSecret);
    expect(inPreview).not.toContain(PREVIEW_DATABASE.adminRole);
  });

  it("runs Jobs that are valid batch/v1 Jobs, the keep-alive's and the cleanup's", () => {
    const validate = kubernetesValidator(path.join(__dirname, "upstream", "kubernetes-v1.33.0-batch-v1-job.json"));
    const shared = previewDatabaseSharedManifests({ namespace: "preview-delivery", previewNamespace: "preview", server: TEMPLATE_PROPS.database, admin: { credentials: { remoteKey: "k" }, secretStore: {} } });
    const jobs = [...rendered.flat(), ...shared].flatMap((o: any) =>
      o.kind === "Job" ? [o] : o.kind === "CronJob" ? [{ apiVersion: "batch/v1", kind: "Job", metadata: o.metadata, spec: o.spec.jobTemplate.spec }] : [],
    );
    expect(jobs).toHaveLength(5);
    for (const job of jobs) expect({ job: job.metadata.name, errors: validate(job) }).toEqual({ job: job.metadata.name, errors: [] });
  });

  it("names a preview database as the SQL's guard allows, whatever the application is called", () => {
    const pattern = new RegExp(PREVIEW_DATABASE_PATTERN);
    for (const application of ["web", "billing-api", "a".repeat(30)]) {
      const objects = render(previewTemplate({ ...TEMPLATE_PROPS, application: { ...TEMPLATE_PROPS.application, name: application } }), { ...TWO_PULL_REQUESTS[0], id: "123456" }) as any[];
      const job = objects.find((o) => o.kind === "Job");
      const name = job.spec.template.spec.containers[0].env.find((e: any) => e.name === "DATABASE_NAME").value;
      expect(name).toMatch(pattern);
      // PostgreSQL cuts identifiers at 63 bytes.
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });

  it("deploys the pull request's head commit, with the image of that commit, into the preview namespace only", () => {
    for (const [i, [source, sync]] of rendered.entries()) {
      const { id, sha } = TWO_PULL_REQUESTS[i];
      expect(source.spec).toMatchObject({ url: "https://github.com/acme/web", ref: { commit: sha }, secretRef: { name: PREVIEWS.githubSecret } });
      expect(sync.spec).toMatchObject({
        sourceRef: { kind: "GitRepository", name: `web-pr-${id}` },
        path: "./deploy/preview",
        targetNamespace: "preview",
        serviceAccountName: PREVIEWS.reconcilerAccount,
        nameSuffix: `-pr-${id}`,
        prune: true,
        images: [{ name: TEMPLATE_PROPS.application.imageRepository, newTag: sha }],
      });
      expect(sync.spec.postBuild.substitute).toMatchObject({ IMAGE_TAG: sha, PULL_REQUEST: id, PREVIEW_URL: `https://web-pr-${id}.preview.apps.example.com`, DOMAIN: "preview.apps.example.com", KNATIVE_MIN_SCALE: "0" });
    }
  });

  it("keeps a commit SHA that YAML would read as a number a string", () => {
    for (const sha of ["1234567890123456789012345678901234567890", "1234567e12345678901234567890123456789012"]) {
      const [source, sync] = render(template, { ...TWO_PULL_REQUESTS[0], sha }) as any[];
      expect([source.spec.ref.commit, sync.spec.images[0].newTag, sync.spec.postBuild.substitute.IMAGE_TAG]).toEqual([sha, sha, sha]);
    }
  });

  it("gives Flux's substitutions, labels and annotations strings, as the API server requires", () => {
    for (const [, sync] of rendered) {
      for (const map of [sync.spec.postBuild.substitute, sync.metadata.labels, sync.metadata.annotations, sync.spec.commonMetadata.labels]) {
        for (const [key, value] of Object.entries(map)) expect({ key, type: typeof value }).toEqual({ key, type: "string" });
      }
    }
  });

  it("marks each preview with its pull request and commit, for the comment and the commit status", () => {
    expect(rendered.map(([, sync]) => sync.metadata.annotations)).toEqual(
      TWO_PULL_REQUESTS.map(({ id, sha, branch }) => ({
        "event.toolkit.fluxcd.io/change_request": id,
        "event.toolkit.fluxcd.io/commit": sha,
        "event.toolkit.fluxcd.io/preview-url": `https://web-pr-${id}.preview.apps.example.com`,
        "event.toolkit.fluxcd.io/branch": branch,
      })),
    );
  });

  it.skipIf(!shared.available)(`renders objects that validate against the Flux schemas${skipNote(shared)}`, () => {
    const validator = crdValidator(path.join(shared.dir!, "crd-schemas"));
    for (const object of rendered.flat().filter(WITH_CRD_SCHEMA)) expect({ object: `${object.kind}/${object.metadata.name}`, errors: validator.validate(object) }).toEqual({ object: `${object.kind}/${object.metadata.name}`, errors: [] });
  });
});

describe("pull-request previews in the borrowed environment's stack", () => {
  let synth: Synthesized;
  let develop: Record<string, TerraformJson>;
  let defaultSynth: Synthesized;
  beforeAll(() => {
    synth = synthesize(previewsConfig());
    defaultSynth = synthesize();
    develop = { aws: synth.stack("aws-develop"), azure: synth.stack("azure-develop") };
  });
  afterAll(() => synth.cleanup());

  it("adds no stack: the previews live in the borrowed environment's stack and the addons stack", () => {
    expect(Object.keys(synth.manifest.stacks).sort()).toEqual(Object.keys(defaultSynth.manifest.stacks).sort());
  });

  it("leaves every other environment's stack as it was", () => {
    for (const id of ["aws-staging", "aws-production", "azure-staging", "azure-production"]) expect(synth.stack(id)).toEqual(defaultSynth.stack(id));
  });

  it.each(["aws", "azure"] as const)("on %s: one input provider and one ResourceSet per previewed application, capped and filtered by the label", (cloud) => {
    const manifests = manifestsOf(develop[cloud]);
    const providers = manifests.filter((m) => m.kind === "ResourceSetInputProvider");
    expect(providers.map((p) => p.metadata)).toEqual([{ ...previewInputProvider("web"), annotations: { "fluxcd.controlplane.io/reconcileEvery": "5m" } }]);
    expect(providers[0].spec).toEqual({ type: "GitHubPullRequest", url: "https://github.com/acme/web", secretRef: { name: PREVIEWS.githubSecret }, filter: { labels: ["preview"], limit: 3 } });
    const sets = manifests.filter((m) => m.kind === "ResourceSet") as any[];
    expect(sets.map((s) => [s.metadata.name, s.spec.serviceAccountName, s.spec.inputsFrom])).toEqual([
      ["web-previews", PREVIEWS.resourceSetAccount, [{ apiVersion: "fluxcd.controlplane.io/v1", kind: "ResourceSetInputProvider", name: "web-pull-requests" }]],
    ]);
    // The image is the borrowed environment's registry repository of the application.
    const sync = (render(sets[0].spec.resources, TWO_PULL_REQUESTS[0]) as any[]).find((o) => o.kind === "Kustomization");
    expect(sync.spec.images[0].name).toMatch(/ecr_web|acr/);
  });

  it.skipIf(!shared.available)(`emits objects that validate against the CRD schemas, the ResourceSets' rendered objects too${skipNote(shared)}`, () => {
    const validator = crdValidator(path.join(shared.dir!, "crd-schemas"));
    for (const cloud of ["aws", "azure"] as const) {
      // The webhook Receiver and its token's ExternalSecret (gitops.receivers.git) are checked with the Receivers,
      // against the CRD as the Flux Operator patches it (receivers.test.ts).
      const manifests = manifestsOf(develop[cloud]).filter(
        (m) => WITH_CRD_SCHEMA(m) && m.metadata.namespace === PREVIEWS.deliveryNamespace && m.kind !== "Receiver" && m.metadata.name !== RECEIVER_OBJECTS.token,
      );
      expect(manifests.map((m) => m.kind).sort()).toEqual(["Alert", "Alert", "ExternalSecret", "ExternalSecret", "Provider", "Provider", "ResourceSet", "ResourceSetInputProvider", "SecretStore", "SecretStore"]);
      const rendered = manifests.filter((m) => m.kind === "ResourceSet").flatMap((set: any) => TWO_PULL_REQUESTS.flatMap((inputs) => render(set.spec.resources, inputs) as KubernetesObject[]));
      for (const object of [...manifests, ...rendered.filter(WITH_CRD_SCHEMA)]) expect({ object: `${object.kind}/${object.metadata.name}`, errors: validator.validate(object) }).toEqual({ object: `${object.kind}/${object.metadata.name}`, errors: [] });
    }
  });

  it("reports to the pull request: a comment and a commit status, for that application's previews only", () => {
    const manifests = manifestsOf(develop.aws);
    const providers = manifests.filter((m) => m.kind === "Provider") as any[];
    expect(providers.map((p) => [p.metadata.name, p.spec.type, p.spec.address, p.spec.secretRef.name])).toEqual([
      ["web-pull-request-comment", "githubpullrequestcomment", "https://github.com/acme/web", PREVIEWS.githubSecret],
      ["web-commit-status", "github", "https://github.com/acme/web", PREVIEWS.githubSecret],
    ]);
    for (const alert of manifests.filter((m) => m.kind === "Alert") as any[]) {
      expect(alert.spec.eventSources).toEqual([{ kind: "Kustomization", name: "*", matchLabels: { [PREVIEWS.applicationLabel]: "web" } }]);
    }
  });

  it("reads the GitHub token from the cloud's secret store through External Secrets, so no token passes through Terraform", () => {
    for (const cloud of ["aws", "azure"] as const) {
      const token = manifestsOf(develop[cloud]).find((m) => m.kind === "ExternalSecret" && m.metadata.name === PREVIEWS.githubSecret) as any;
      expect(token.metadata.namespace).toBe(PREVIEWS.deliveryNamespace);
      expect(token.spec.secretStoreRef).toEqual({ kind: "ClusterSecretStore", name: CLUSTER_SECRET_STORE });
      expect(token.spec.data).toEqual([{ secretKey: "token", remoteRef: { key: previewGithubTokenKey("acme") } }]);
      expect(Object.keys((develop[cloud] as any).variable ?? {}).filter((name) => /token|github/i.test(name))).toEqual([]);
    }
  });

  it("lets the platform's store serve the delivery namespace, never the one where previews' own manifests run", () => {
    const store = manifestsOf(synth.stack("aws-addons")).find((m) => m.kind === "ClusterSecretStore") as any;
    const defaultStore = manifestsOf(defaultSynth.stack("aws-addons")).find((m) => m.kind === "ClusterSecretStore") as any;
    expect(store.spec.conditions).toEqual([{ namespaces: [...defaultStore.spec.conditions[0].namespaces, PREVIEWS.deliveryNamespace] }]);
    expect(store.spec.conditions[0].namespaces).not.toContain(PREVIEWS.namespace);
  });

  it("serves previews under *.preview.<base>: on the one certificate, and Knative routes of the namespace there", () => {
    const addons = manifestsOf(synth.stack("aws-addons"));
    const certificate = addons.find((m) => m.kind === "Certificate") as any;
    expect(certificate.spec.dnsNames).toContain("*.preview.apps.example.com");
    const serving = addons.find((m) => m.kind === "KnativeServing") as any;
    expect(parse(serving.spec.config.domain["preview.apps.example.com"])).toEqual({ selector: { environment: "preview" } });
  });

  it("labels preview pods' logs and events with their environment, as the environments' are", () => {
    const names = `(${[...previewsConfig().environments.map((environment) => environment.name), PREVIEWS.namespace].join("|")})`;
    const values = (stack: TerraformJson) => Object.values(resourcesOf(stack, "helm_release")).flatMap((release: any) => release.values ?? []).join("\n");
    // Once for the pods' logs, once for the events.
    expect(values(synth.stack("aws-addons")).split(`regex         = "${names}"`)).toHaveLength(3);
    expect(values(defaultSynth.stack("aws-addons"))).not.toContain(names);
  });

  describe("the preview namespace's guard rails", () => {
    const namespaces = (stack: TerraformJson) => Object.fromEntries(Object.values(resourcesOf(stack, "kubernetes_namespace_v1")).map((n: any) => [n.metadata.name, n.metadata.labels]));
    const byNamespace = (stack: TerraformJson, type: string, namespace: string) => Object.values(resourcesOf(stack, type)).filter((r: any) => r.metadata.namespace === namespace) as any[];

    it("match a develop environment's: Pod Security levels, a quota, the borrowed limit range", () => {
      const labels = namespaces(develop.aws);
      const podSecurity = (all: Record<string, string>) => Object.fromEntries(Object.entries(all).filter(([key]) => key.startsWith("pod-security")));
      expect(labels.preview).toMatchObject({ environment: "preview", stage: "develop" });
      expect(podSecurity(labels.preview)).toEqual(podSecurity(labels.develop));
      expect(byNamespace(develop.aws, "kubernetes_resource_quota_v1", "preview").map((q) => q.spec.hard)).toEqual([{ "requests.cpu": "4", "requests.memory": "8Gi", pods: "40" }]);
      expect(byNamespace(develop.aws, "kubernetes_limit_range_v1", "preview").map((l) => l.spec)).toEqual(byNamespace(develop.aws, "kubernetes_limit_range_v1", "develop").map((l) => l.spec));
      // The delivery namespace runs no workload: the strictest level.
      expect(podSecurity(labels[PREVIEWS.deliveryNamespace])).toEqual({ "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted" });
    });

    it("deny by default and allow what a develop environment allows, its database server included, object storage not", () => {
      const policies = (namespace: string) => byNamespace(develop.aws, "kubernetes_network_policy_v1", namespace);
      const names = (namespace: string) => policies(namespace).map((p) => p.metadata.name);
      expect(names("preview")).toEqual(names("develop").filter((name) => name !== "allow-object-storage"));
      expect(names("preview")).toContain("default-deny");
      const database = (namespace: string) => policies(namespace).find((p) => p.metadata.name === "allow-database").spec;
      expect(database("preview")).toEqual(database("develop"));
    });

    it("let nothing in a preview reach production's database or namespace", () => {
      const egress = byNamespace(develop.aws, "kubernetes_network_policy_v1", "preview").flatMap((p) => p.spec.egress ?? []);
      const destinations = egress.flatMap((rule: any) => rule.to ?? []);
      // Every egress rule names its destinations; DNS is the only namespace reached.
      expect(egress.every((rule: any) => (rule.to ?? []).length > 0)).toBe(true);
      expect(destinations.flatMap((to: any) => to.namespace_selector?.match_expressions?.flatMap((e: any) => e.values) ?? [])).toEqual(["kube-system"]);
      // Addresses: the borrowed server's, on its port, and nothing else.
      const developDatabase = byNamespace(develop.aws, "kubernetes_network_policy_v1", "develop").find((p) => p.metadata.name === "allow-database").spec.egress;
      expect(egress.filter((rule: any) => (rule.to ?? []).some((to: any) => to.ip_block))).toEqual(developDatabase);
      // Credentials: the only server any preview object names is develop's, never production's.
      const developSecret = manifestsOf(develop.aws).find((m) => m.kind === "ExternalSecret" && m.metadata.namespace === "develop" && m.metadata.name === "database") as any;
      const productionSecret = manifestsOf(synth.stack("aws-production")).find((m) => m.kind === "ExternalSecret" && m.metadata.namespace === "production" && m.metadata.name === "database") as any;
      const previewObjects = manifestsOf(develop.aws).filter((m) => m.metadata.namespace === PREVIEWS.deliveryNamespace || m.metadata.namespace === PREVIEWS.namespace);
      const rendered = previewObjects.filter((m) => m.kind === "ResourceSet").flatMap((set: any) => render(set.spec.resources, TWO_PULL_REQUESTS[0]) as any[]);
      const hosts = [...previewObjects, ...rendered].flatMap((m: any) => [m.spec?.jobTemplate?.spec.template, m.spec?.template].filter(Boolean)).map((pod: any) => pod.spec.containers[0].env.find((e: any) => e.name === "PGHOST").value);
      expect(hosts.length).toBeGreaterThan(2);
      expect(new Set(hosts)).toEqual(new Set([developSecret.spec.target.template.data.host]));
      expect(hosts).not.toContain(productionSecret.spec.target.template.data.host);
      expect(rendered.find((m) => m.kind === "ExternalSecret" && m.metadata.namespace === PREVIEWS.namespace).spec.target.template.data.host).toBe(developSecret.spec.target.template.data.host);
      // The reconciler that applies a pull request's manifests is admin in the preview namespace alone.
      const bindings = Object.values(resourcesOf(develop.aws, "kubernetes_role_binding_v1")).filter((b: any) => b.subject.some((s: any) => s.name === PREVIEWS.reconcilerAccount)) as any[];
      expect(bindings.map((b) => [b.metadata.namespace, b.role_ref.name])).toEqual([["preview", "admin"]]);
      // No cloud identity: the preview namespace has no service account carrying one.
      expect(byNamespace(develop.aws, "kubernetes_service_account_v1", "preview")).toEqual([]);
    });
  });

  it("reads the pr_admin password with identities that read that secret alone, generated write-only: never in state", () => {
    const data = synth.stack("aws-develop-data");
    const policies = Object.values(resourcesOf(data, "aws_iam_role_policy")) as any[];
    const policyOf = (role: string) => policies.find((p) => p.role.includes(`previews_${role}_role`)).policy as string;
    const secretsRead = (policy: string) => [...policy.matchAll(/"Resource" = \[(.*?)\]\}/g)].map((m) => m[1]);
    // In the previews' delivery namespace: the pr_admin secret, nothing else.
    expect(secretsRead(policyOf("previews-database"))).toEqual(["aws_secretsmanager_secret.previews_credentials_secret_53622181.arn"]);
    // The one-time setup: the server administrator's secret too.
    expect(secretsRead(policyOf("previews-setup"))).toEqual(["aws_db_instance.postgres_instance_919E2690.master_user_secret[0].secret_arn, aws_secretsmanager_secret.previews_credentials_secret_53622181.arn"]);
    const version = Object.values(resourcesOf(data, "aws_secretsmanager_secret_version")).find((v: any) => v.secret_id.includes("previews_credentials")) as any;
    expect(version.secret_string).toBeUndefined();
    expect(version.secret_string_wo).toContain("uuid()");
    // Production's data stack grants previews nothing.
    expect(JSON.stringify(synth.stack("aws-production-data"))).not.toContain("previews");
    for (const cloud of ["aws", "azure"]) expect(synth.stack(`${cloud}-production-data`)).toEqual(defaultSynth.stack(`${cloud}-production-data`));
  });

  it("trusts exactly the two service accounts that use the previews' database identities", () => {
    const trust = (stack: TerraformJson) => Object.values((stack as any).data.aws_iam_policy_document).flatMap((d: any) => d.statement.flatMap((st: any) => st.condition.filter((c: any) => c.variable.endsWith(":sub")).flatMap((c: any) => c.values)));
    const subjects = trust(synth.stack("aws-develop-data")).filter((subject: string) => subject.includes("preview"));
    expect(subjects.sort()).toEqual([`system:serviceaccount:${IN_CLUSTER.databaseSetup.namespace}:${IN_CLUSTER.previewDatabase.setupServiceAccount}`, `system:serviceaccount:${PREVIEWS.deliveryNamespace}:${IN_CLUSTER.previewDatabase.serviceAccount}`]);
    const azure = Object.values(resourcesOf(synth.stack("azure-develop-data"), "azurerm_federated_identity_credential")).map((f: any) => f.subject).filter((subject: string) => subject.includes("preview"));
    expect(azure.sort()).toEqual(subjects.sort());
    // The in-cluster side: the service account in the delivery namespace carries the identity the data stack made.
    const accounts = byName(resourcesOf(develop.aws, "kubernetes_service_account_v1"));
    expect(accounts[IN_CLUSTER.previewDatabase.serviceAccount].metadata.namespace).toBe(PREVIEWS.deliveryNamespace);
    expect(accounts[IN_CLUSTER.previewDatabase.serviceAccount].metadata.annotations["eks.amazonaws.com/role-arn"]).toMatch(/previews-database/);
    expect(accounts[IN_CLUSTER.previewDatabase.setupServiceAccount].metadata.namespace).toBe(IN_CLUSTER.databaseSetup.namespace);
  });

  it("sends previews' pods to the previews' spot nodes on EKS, and lets Knative Services say so; on AKS they share the user pool", () => {
    const syncOf = (cloud: "aws" | "azure") => {
      const set = manifestsOf(develop[cloud]).find((m) => m.kind === "ResourceSet") as any;
      return (render(set.spec.resources, TWO_PULL_REQUESTS[0]) as any[]).find((o) => o.kind === "Kustomization");
    };
    const patches = syncOf("aws").spec.patches;
    expect(patches.map((p: any) => `${p.target.group}/${p.target.kind}`)).toEqual(PREVIEW_POD_TEMPLATE_KINDS.map(({ group, kind }) => `${group}/${kind}`));
    for (const { patch } of patches) {
      expect(parse(patch)).toEqual([
        { op: "add", path: "/spec/template/spec/nodeSelector", value: { "platform.kit/pool": "preview" } },
        { op: "add", path: "/spec/template/spec/tolerations", value: [{ key: "platform.kit/pool", operator: "Equal", value: "preview", effect: "NoSchedule" }] },
      ]);
    }
    expect(syncOf("azure").spec.patches).toBeUndefined();
    // Knative refuses a Service's nodeSelector and tolerations unless the flags their CRD names are on.
    const features = (stack: TerraformJson) => (manifestsOf(stack).find((m) => m.kind === "KnativeServing") as any).spec.config.features;
    expect(features(synth.stack("aws-addons"))).toMatchObject(Object.fromEntries(DEDICATED_NODES_FEATURE_FLAGS.map((flag) => [flag, "enabled"])));
    for (const stack of [synth.stack("azure-addons"), defaultSynth.stack("aws-addons")]) for (const flag of DEDICATED_NODES_FEATURE_FLAGS) expect(features(stack)[flag]).toBeUndefined();
  });

  it.skipIf(!shared.available)(`names the Knative flags the Service CRD puts nodeSelector and tolerations behind, which Serving turns off by default${skipNote(shared)}`, () => {
    const podSpec = JSON.parse(readFileSync(path.join(shared.dir!, "crd-schemas", "serving.knative.dev", "Service_v1.json"), "utf8")).properties.spec.properties.template.properties.spec.properties;
    const flagOf = (field: string) => /feature flag - ([a-z.-]+)/.exec(podSpec[field].description)?.[1];
    expect([flagOf("nodeSelector"), flagOf("tolerations")]).toEqual([...DEDICATED_NODES_FEATURE_FLAGS]);
    const defaults = JSON.parse(readFileSync(path.join(__dirname, "upstream", "knative-serving-1.23.0-features.json"), "utf8"));
    expect(defaults.chartVersion).toBe(CHARTS["knative-operator"].version);
    for (const flag of DEDICATED_NODES_FEATURE_FLAGS) expect(defaults.defaults[flag]).toBe("disabled");
  });

  it("lets the CI deploy identity write the preview objects, and only when previews are on", () => {
    const rules = (stack: TerraformJson) => (Object.values(resourcesOf(stack, "kubernetes_cluster_role_v1")).find((r: any) => r.metadata.name === ENVIRONMENT_DEPLOYER_ROLE) as any).rule;
    const groups = (stack: TerraformJson) => rules(stack).flatMap((rule: any) => rule.api_groups);
    expect(groups(synth.stack("aws-addons"))).toEqual(expect.arrayContaining(["fluxcd.controlplane.io", "notification.toolkit.fluxcd.io"]));
    expect(groups(defaultSynth.stack("aws-addons"))).not.toContain("fluxcd.controlplane.io");
    const kinds = new Set(manifestsOf(develop.aws).map((m) => `${m.apiVersion.includes("/") ? m.apiVersion.split("/")[0] : ""}:${m.kind.toLowerCase().replace(/y$/, "ie")}s`));
    for (const kind of kinds) {
      const [group, resource] = kind.split(":");
      expect({ kind, covered: rules(synth.stack("aws-addons")).some((rule: any) => rule.api_groups.includes(group) && rule.resources.includes(resource)) }).toEqual({ kind, covered: true });
    }
  });
});

describe("previews borrowing an environment on a shared database server", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize(
      sharedServerConfig((raw) => {
        raw.previews = { environment: "develop", quota: { requestsCpu: "4", requestsMemory: "8Gi", pods: 40 } };
        raw.applications[0].repository = "https://github.com/acme/web";
        raw.applications[0].previews = true;
      }),
    );
  });
  afterAll(() => synth.cleanup());

  it.each(["aws", "azure"] as const)("on %s: keep pr_admin's secret and identities in the server's stack, and set the role up on that server", (cloud) => {
    const server = JSON.stringify(synth.stack(`${cloud}-database-${SHARED_SERVER}`));
    expect(server).toContain(cloud === "aws" ? `acme-${SHARED_SERVER}/${PREVIEW_DATABASE.adminRole}` : `acme-${SHARED_SERVER}-previews-admin`);
    expect(JSON.stringify(synth.stack(`${cloud}-develop-data`))).not.toContain(PREVIEW_DATABASE.adminRole);
    const manifests = manifestsOf(synth.stack(`${cloud}-develop`));
    const setup = manifests.find((m) => m.kind === "Job" && m.metadata.name.startsWith(`${IN_CLUSTER.previewDatabase.setupServiceAccount}-`)) as any;
    const developSetup = manifests.find((m) => m.kind === "Job" && m.metadata.name.startsWith("setup-develop-")) as any;
    const env = (job: any) => Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    // The same server as develop's own database, as its administrator.
    expect(env(setup).PGHOST).toBe(env(developSetup).PGHOST);
    expect(env(setup).DATABASE_ROLE).toBe(PREVIEW_DATABASE.adminRole);
    const cleanup = manifests.find((m) => m.kind === "CronJob" && m.metadata.name === PREVIEW_DATABASE.cleanup) as any;
    expect(cleanup.spec.jobTemplate.spec.template.spec.containers[0].env.find((e: any) => e.name === "PGHOST").value).toBe(env(developSetup).PGHOST);
  });
});

describe("previewManifests", () => {
  it("exposes each input provider's name and namespace for a webhook Receiver", () => {
    const provider = previewManifests(TEMPLATE_PROPS).find((m) => m.kind === "ResourceSetInputProvider")!;
    expect({ name: provider.metadata.name, namespace: provider.metadata.namespace }).toEqual(previewInputProvider("web"));
  });
});

describe("the label expiry workflow application repositories copy", () => {
  const workflow = parse(readFileSync(path.join(__dirname, "..", "docs", "examples", "preview-label-expiry.yml"), "utf8"));

  it("removes the configured default label after the default number of days, on a schedule", () => {
    const defaults = previewsConfig((raw) => {
      delete raw.previews.label;
      delete raw.previews.staleDays;
    }).previews!;
    expect(workflow.jobs.expire.env).toMatchObject({ LABEL: defaults.label, STALE_DAYS: String(DEFAULT_PREVIEW_STALE_DAYS) });
    expect(defaults.staleDays).toBe(DEFAULT_PREVIEW_STALE_DAYS);
    expect(workflow.on.schedule).toHaveLength(1);
    // It may edit pull requests and nothing else.
    expect(workflow.permissions).toEqual({ "pull-requests": "write" });
    expect(workflow.jobs.expire.steps[0].run).toContain('gh pr edit "$number" --remove-label "$LABEL"');
  });
});

const amtool = commandLineTool("amtool", "AMTOOL");

describe.skipIf(!amtool.available)(`previews' alerts, routed by the real amtool${skipNote(amtool)}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "previews-alerts-"));
    const config = previewsConfig((raw) => (raw.alerts.pager = { service: "pagerduty", email: "oncall@acme.pagerduty.com" }));
    const routing = alertmanagerConfig({ emails: config.alerts.emails, smtpPasswordFile: "/etc/smtp", productionEnvironments: productionEnvironments(config), pager: { service: "pagerduty", keyFile: "/etc/pager" } });
    // The SMTP server comes from helm-values/ in the add-on; any will do for routing.
    const global = { ...(routing.global as object), smtp_smarthost: "smtp.example.com:587", smtp_from: "alerts@example.com" };
    writeFileSync(path.join(dir, "alertmanager.yaml"), stringify({ ...routing, global }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["a critical alert of the preview namespace is mailed, never paged", ["alertname=KubePodNotReady", "severity=critical", "namespace=preview"], "email"],
    ["a critical alert labelled with the preview environment is mailed", ["alertname=ApplicationErrorRatioHigh", "severity=critical", "environment=preview"], "email"],
    ["while production's still pages", ["alertname=ApplicationErrorRatioHigh", "severity=critical", "environment=production"], "pager"],
  ])("%s", (_, labels, receiver) => {
    const out = execFileSync(amtool.path!, ["config", "routes", "test", "--config.file=alertmanager.yaml", `--verify.receivers=${receiver}`, ...labels], { cwd: dir, encoding: "utf8" });
    expect(out.trim()).toBe(receiver);
  });
});

describe("previews fields", () => {
  it.each([
    ["applications[0].repository", (raw: any) => (raw.applications[0].repository = "https://github.com/acme/web.git")],
    ["previews.path", (raw: any) => (raw.previews.path = "deploy/../../etc")],
  ])("refuse what would leave the repository or name it twice: %s", (at, change) => {
    expect(() => previewsConfig(change)).toThrow();
    expect(
      problemOf((raw) => {
        raw.previews = { environment: "develop", quota: { requestsCpu: "4", requestsMemory: "8Gi", pods: 40 } };
        raw.applications[0].repository = "https://github.com/acme/web";
        raw.applications[0].previews = true;
        change(raw);
      }).path,
    ).toBe(at);
  });
});

describe("previews with several clusters", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize(
      previewsConfig((raw) => {
        raw.clusters = [
          { name: "main", environments: ["develop", "staging"] },
          { name: "prod", environments: ["production"], clouds: { aws: { network: { vpcCidr: "10.41.0.0/16" } }, azure: { network: { vnetCidr: "10.51.0.0/16", nodesSubnetCidr: "10.51.0.0/20", postgresSubnetCidr: "10.51.16.0/24" } } } },
        ];
      }),
      { only: "aws" },
    );
  });
  afterAll(() => synth.cleanup());

  it("live in the cluster of the environment they borrow: its add-ons hold the preview domain and namespaces, production's cluster nothing of them", () => {
    const text = (id: string) => JSON.stringify(synth.stack(id));
    expect(text("aws-addons")).toContain(PREVIEWS.deliveryNamespace);
    expect(text("aws-addons")).toContain(previewDomain("apps.example.com"));
    expect(text("aws-prod-addons")).not.toContain(PREVIEWS.deliveryNamespace);
    expect(text("aws-prod-addons")).not.toContain(previewDomain("apps.example.com"));
    expect(text("aws-develop")).toContain("ResourceSetInputProvider");
    expect(text("aws-production")).not.toContain("ResourceSetInputProvider");
  });
});
