import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, DefaultTokenResolver, StringConcat, TerraformStack, Tokenization } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EXAMPLE_CONFIG_PATH, loadConfig, type EnvironmentConfig } from "../config";
import { BUILD_TAG_PATTERN } from "../constructs/environment/image-automation";
import { buildPlatform } from "../stacks/app";
import type { EnvironmentStack } from "../stacks/environment-stack";
import { crdValidator } from "./support/crd-schemas";
import { sharedDataDir, skipNote } from "./support/environment";
import { onlyResource, resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

const config = loadConfig(EXAMPLE_CONFIG_PATH);
const CLOUDS = ["aws", "azure"] as const;
const ENVIRONMENTS = config.environments.map((env) => env.name);
const STACK_IDS = CLOUDS.flatMap((cloud) => ENVIRONMENTS.map((env) => `${cloud}-${env}`));
const environment = (name: string): EnvironmentConfig => config.environments.find((env) => env.name === name)!;

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec: any };

/** The Kubernetes objects a stack's Helm releases apply, parsed from their values. */
function manifestsOf(stack: TerraformJson): Manifest[] {
  return Object.values(resourcesOf(stack, "helm_release")).flatMap((release) => release.values.flatMap((text: string) => parse(text).manifests as Manifest[]));
}

function manifest(stack: TerraformJson, kind: string, name?: string): Manifest {
  const found = manifestsOf(stack).filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? `/${name}` : ""}, found ${found.length}`);
  return found[0];
}

function policiesOf(stack: TerraformJson): Record<string, any> {
  return Object.fromEntries(Object.values(resourcesOf(stack, "kubernetes_network_policy_v1")).map((p) => [p.metadata.name, p]));
}

describe("<cloud>-<env> environment stacks", () => {
  let synth: Synthesized;
  const stacks: Record<string, TerraformJson> = {};
  /** The same program built in this process, to compare what the stacks emit with the contract they were given. */
  const builtDir = mkdtempSync(path.join(tmpdir(), "environment-stacks-"));
  const builtApp = new App({ outdir: builtDir });
  let built: EnvironmentStack[] = [];
  beforeAll(() => {
    buildPlatform(builtApp, config);
    builtApp.synth();
    built = builtApp.node.children.filter((s) => s instanceof TerraformStack) as EnvironmentStack[];
  });
  const builtJson = (id: string): TerraformJson => JSON.parse(readFileSync(path.join(builtDir, "stacks", id, "cdk.tf.json"), "utf8"));
  afterAll(() => rmSync(builtDir, { recursive: true, force: true }));
  /** A contract value as the stack `scope` writes it: a literal, a local reference or a remote-state output. */
  const resolveIn = (scope: TerraformStack, value: unknown) => Tokenization.resolve(value, { scope, resolver: new DefaultTokenResolver(new StringConcat()) });

  beforeAll(() => {
    synth = synthesize(config);
    for (const id of STACK_IDS) stacks[id] = synth.stack(id);
  });
  afterAll(() => synth.cleanup());

  it.each(STACK_IDS)("%s matches the reviewed snapshot", async (id) => {
    await expect(JSON.stringify(stacks[id], null, 2)).toMatchFileSnapshot(`./__snapshots__/${id}.tf.json`);
  });

  it.each(STACK_IDS)("%s uses only the kubernetes and helm providers and comes after the add-ons", (id) => {
    const [cloud, env] = id.split("-");
    expect(Object.keys(stacks[id].provider ?? {}).sort()).toEqual(["helm", "kubernetes"]);
    expect(synth.manifest.stacks[id].dependencies).toContain(`${cloud}-addons`);
    expect(synth.manifest.stacks[id].dependencies).toContain(`${cloud}-${env}-data`);
  });

  it.each(STACK_IDS)("%s writes its objects as plain YAML, without anchors or aliases", (id) => {
    for (const release of Object.values(resourcesOf(stacks[id], "helm_release"))) {
      expect(release.values[0]).not.toMatch(/(:|-) [&*]a[0-9]+\b/);
    }
  });

  describe("namespace", () => {
    it.each(STACK_IDS)("%s is named for the environment and labelled with it", (id) => {
      const env = id.split("-")[1];
      const namespace = onlyResource(stacks[id], "kubernetes_namespace_v1");
      expect(namespace.metadata.name).toBe(env);
      expect(namespace.metadata.labels).toMatchObject({ environment: env, stage: environment(env).stage });
    });

    it.each(CLOUDS)("%s: production is blue and staging green; develop has no colour", (cloud) => {
      const colour = (env: string) => onlyResource(stacks[`${cloud}-${env}`], "kubernetes_namespace_v1").metadata.labels["deployment-colour"];
      expect(colour("production")).toBe("blue");
      expect(colour("staging")).toBe("green");
      expect(colour("develop")).toBeUndefined();
    });

    it.each(CLOUDS)("%s: production enforces the restricted Pod Security level, the others baseline", (cloud) => {
      const levels = (env: string) => {
        const labels = onlyResource(stacks[`${cloud}-${env}`], "kubernetes_namespace_v1").metadata.labels;
        return [labels["pod-security.kubernetes.io/enforce"], labels["pod-security.kubernetes.io/warn"], labels["pod-security.kubernetes.io/audit"]];
      };
      expect(levels("production")).toEqual(["restricted", "restricted", "restricted"]);
      expect(levels("staging")).toEqual(["baseline", "restricted", "restricted"]);
      expect(levels("develop")).toEqual(["baseline", "restricted", "restricted"]);
    });

    it.each(STACK_IDS)("%s has the ResourceQuota of its config", (id) => {
      const { quota } = environment(id.split("-")[1]);
      const resourceQuota = onlyResource(stacks[id], "kubernetes_resource_quota_v1");
      expect(resourceQuota.metadata.namespace).toBe(id.split("-")[1]);
      expect(resourceQuota.spec.hard).toEqual({
        "requests.cpu": quota.requestsCpu,
        "requests.memory": quota.requestsMemory,
        "limits.cpu": quota.limitsCpu,
        "limits.memory": quota.limitsMemory,
        pods: String(quota.pods),
      });
    });

    it.each(STACK_IDS)("%s gives containers the default requests and limits of its config", (id) => {
      const { limitRange } = environment(id.split("-")[1]);
      const limit = onlyResource(stacks[id], "kubernetes_limit_range_v1").spec.limit;
      expect(limit).toEqual([
        {
          type: "Container",
          default_request: { cpu: limitRange.defaultRequestCpu, memory: limitRange.defaultRequestMemory },
          default: { cpu: limitRange.defaultLimitCpu, memory: limitRange.defaultLimitMemory },
        },
      ]);
    });
  });

  describe("network policies", () => {
    it.each(STACK_IDS)("%s denies all ingress and egress by default", (id) => {
      const deny = policiesOf(stacks[id])["default-deny"];
      expect(deny.metadata.namespace).toBe(id.split("-")[1]);
      expect(deny.spec).toEqual({ pod_selector: {}, policy_types: ["Ingress", "Egress"] });
    });

    it.each(STACK_IDS)("%s admits traffic only from the Knative gateway and activator and from monitoring", (id) => {
      const ingress = Object.values(policiesOf(stacks[id]))
        .filter((p) => p.spec.ingress)
        .flatMap((p) => p.spec.ingress.flatMap((rule: any) => rule.from.map((from: any) => from.namespace_selector.match_expressions[0].values)));
      expect(ingress).toEqual([["knative-serving", "kourier-system"], ["monitoring"]]);
    });

    it.each(STACK_IDS)("%s lets pods out only to cluster DNS, the environment's database and what its applications' object storage needs", (id) => {
      const policies = policiesOf(stacks[id]);
      const egress = Object.values(policies).flatMap((p) => p.spec.egress ?? []);
      const stack = built.find((s) => s.node.id === id)!;
      const storage = Object.values(stack.applications.endpoints).flatMap((endpoint) => endpoint.objectStorage?.egress ?? []);
      expect(egress).toHaveLength(2 + storage.length);
      expect(policies["allow-object-storage"]?.spec.egress ?? []).toEqual(storage.map(({ cidr, port }) => ({ to: [{ ip_block: { cidr } }], ports: [{ protocol: "TCP", port: String(port) }] })));
      const [dns, database] = [policies["allow-dns"].spec.egress[0], policies["allow-database"].spec.egress[0]];
      expect(dns.to).toEqual([{ namespace_selector: { match_expressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["kube-system"] }] } }]);
      expect(dns.ports).toEqual([
        { protocol: "UDP", port: "53" },
        { protocol: "TCP", port: "53" },
      ]);
      expect(database.to.length).toBeGreaterThan(0);
      for (const to of database.to) expect(Object.keys(to)).toEqual(["ip_block"]);
    });

    it.each(CLOUDS)("on %s, each environment's database rule allows exactly the contract's database ranges and port", (cloud) => {
      for (const env of ENVIRONMENTS) {
        const stack = built.find((s) => s.node.id === `${cloud}-${env}`)!;
        const rule = policiesOf(builtJson(stack.node.id))["allow-database"].spec.egress[0];
        expect(rule.to.map((to: any) => to.ip_block.cidr), stack.node.id).toEqual(resolveIn(stack, stack.database.cidrs));
        expect(stack.database.port).toBe(5432);
        expect(rule.ports, stack.node.id).toEqual([{ protocol: "TCP", port: String(stack.database.port) }]);
      }
    });

    it("on aws, the database ranges are the platform outputs of the database subnets' address blocks", () => {
      const platform = builtApp.node.findChild("aws-platform") as TerraformStack;
      const outputs = builtJson("aws-platform").output!;
      for (const env of ENVIRONMENTS) {
        const stack = built.find((s) => s.node.id === `aws-${env}`)!;
        const cidrs: string[] = policiesOf(builtJson(stack.node.id))["allow-database"].spec.egress[0].to.map((to: any) => to.ip_block.cidr);
        const fromPlatform = cidrs.map((cidr) => outputs[cidr.replace(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-aws-platform\.outputs\.(.+)\}$/, "$1")]?.value);
        expect(fromPlatform).toEqual(resolveIn(platform, stack.database.cidrs));
        expect(fromPlatform.every((value) => /^\$\{aws_subnet\.[^.]+\.cidr_block\}$/.test(value))).toBe(true);
      }
    });
  });

  describe("application identity and database secret", () => {
    it.each(STACK_IDS)("%s has the app service account, without an API token", (id) => {
      const accounts = Object.values(resourcesOf(stacks[id], "kubernetes_service_account_v1"));
      const app = accounts.find((sa) => sa.metadata.name === "app");
      expect(app).toMatchObject({ metadata: { namespace: id.split("-")[1] }, automount_service_account_token: false });
    });

    it("the service account carries the cloud's workload identity", () => {
      const annotations = (id: string) => Object.values(resourcesOf(stacks[id], "kubernetes_service_account_v1")).find((sa) => sa.metadata.name === "app").metadata.annotations;
      expect(Object.keys(annotations("aws-production"))).toEqual(["eks.amazonaws.com/role-arn"]);
      expect(Object.keys(annotations("azure-production"))).toEqual(["azure.workload.identity/client-id"]);
    });

    it.each(STACK_IDS)("%s reads its database credentials through a SecretStore acting as the app service account", (id) => {
      const store = manifest(stacks[id], "SecretStore");
      expect(JSON.stringify(store.spec.provider)).toContain('"serviceAccountRef":{"name":"app"}');
      const external = manifest(stacks[id], "ExternalSecret", "database");
      expect(external.spec.secretStoreRef).toEqual({ kind: "SecretStore", name: store.metadata.name });
      expect(external.metadata.namespace).toBe(id.split("-")[1]);
    });

    it.each(STACK_IDS)("%s produces a secret with host, port, database, user and password, the password only by reference", (id) => {
      const { target, data } = manifest(stacks[id], "ExternalSecret", "database").spec;
      expect(target.name).toBe("database");
      expect(Object.keys(target.template.data).sort()).toEqual(["database", "host", "password", "port", "user"]);
      expect(target.template.data).toMatchObject({ port: "5432", database: environment(id.split("-")[1]).database.name, password: "{{ .password }}" });
      expect(target.template.data.host).toMatch(/^\$\{data\.terraform_remote_state\./);
      const password = data.find((d: any) => d.secretKey === "password");
      expect(password.remoteRef.key).toMatch(/^\$\{data\.terraform_remote_state\./);
    });
  });

  describe("Flux delivery", () => {
    it.each(STACK_IDS)("%s syncs its own path from the configured repository and branch", (id) => {
      const env = environment(id.split("-")[1]);
      const source = manifest(stacks[id], "GitRepository");
      expect(source.spec).toMatchObject({ url: config.gitops.url, ref: { branch: env.gitops.branch }, secretRef: { name: config.gitops.secretName } });
      const sync = manifest(stacks[id], "Kustomization");
      expect(sync.spec).toMatchObject({
        sourceRef: { kind: "GitRepository", name: source.metadata.name },
        path: `./deploy/${env.name}`,
        prune: true,
        targetNamespace: env.name,
      });
    });

    it.each(CLOUDS)("%s: each Kustomization's service account is bound only in its own namespace", (cloud) => {
      for (const env of ENVIRONMENTS) {
        const stack = stacks[`${cloud}-${env}`];
        const sync = manifest(stack, "Kustomization");
        expect(sync.metadata.namespace).toBe(env);
        const account = sync.spec.serviceAccountName;
        const bindings = Object.values(resourcesOf(stack, "kubernetes_role_binding_v1")).filter((b) => b.subject.some((s: any) => s.name === account));
        expect(bindings).toHaveLength(1);
        expect(bindings[0].metadata.namespace).toBe(env);
        expect(bindings[0].subject).toEqual([{ kind: "ServiceAccount", name: account, namespace: env }]);
        expect(bindings[0].role_ref).toEqual({ api_group: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" });
        expect(resourcesOf(stack, "kubernetes_cluster_role_binding_v1")).toEqual({});
        expect(resourcesOf(stack, "kubernetes_cluster_role_binding")).toEqual({});
      }
    });

    it.each(STACK_IDS)("%s substitutes environment, domain, registry, database secret and minimum scale, all as strings", (id) => {
      const env = environment(id.split("-")[1]);
      const substitute = manifest(stacks[id], "Kustomization").spec.postBuild.substitute;
      expect(substitute).toMatchObject({
        ENVIRONMENT: env.name,
        DOMAIN: env.stage === "production" ? config.domain.base : `${env.name}.${config.domain.base}`,
        DATABASE_SECRET: "database",
        KNATIVE_MIN_SCALE: env.stage === "production" ? "1" : "0",
        SERVICE_ACCOUNT: "app",
      });
      expect(substitute.REGISTRY).toMatch(/^\$\{/);
      expect(Object.keys(substitute)).toEqual(expect.arrayContaining(env.applications.map((app) => `IMAGE_${app.toUpperCase()}`)));
      for (const value of Object.values(substitute)) expect(typeof value).toBe("string");
    });

    it.each(STACK_IDS)("%s labels every synced object with its environment", (id) => {
      const env = id.split("-")[1];
      expect(manifest(stacks[id], "Kustomization").spec.commonMetadata.labels.environment).toBe(env);
    });

    it("exposes each environment's domain as an output", () => {
      expect(stacks["aws-develop"].output?.domain.value).toBe(`develop.${config.domain.base}`);
      expect(stacks["azure-staging"].output?.domain.value).toBe(`staging.${config.domain.base}`);
      expect(stacks["aws-production"].output?.domain.value).toBe(config.domain.base);
    });

    it("merges the identity's pod labels into every Knative Service", () => {
      const labels = (id: string) => parse(manifest(stacks[id], "Kustomization").spec.patches[0].patch).spec.template.metadata.labels;
      expect(labels("azure-develop")).toEqual({ "azure.workload.identity/use": "true" });
      expect(labels("aws-develop")).toEqual({});
    });
  });

  describe("image automation", () => {
    it.each(STACK_IDS)("%s scans one repository per application with the cloud's registry identity", (id) => {
      const env = environment(id.split("-")[1]);
      const repositories = manifestsOf(stacks[id]).filter((m) => m.kind === "ImageRepository");
      expect(repositories.map((r) => r.metadata.name)).toEqual(env.applications);
      for (const repository of repositories) {
        expect(repository.spec.provider).toBe(id.split("-")[0]);
        expect(repository.spec.image).toMatch(/^\$\{/);
        expect(repository.spec.secretRef).toBeUndefined();
      }
    });

    it.each(CLOUDS)("%s: production follows its semver range and has no image update automation", (cloud) => {
      const stack = stacks[`${cloud}-production`];
      for (const policy of manifestsOf(stack).filter((m) => m.kind === "ImagePolicy")) {
        expect(policy.spec.policy).toEqual({ semver: { range: environment("production").imagePolicy.semverRange } });
        expect(policy.spec.filterTags).toBeUndefined();
      }
      expect(manifestsOf(stack).filter((m) => m.kind === "ImageUpdateAutomation")).toEqual([]);
    });

    it.each(CLOUDS.flatMap((cloud) => ["develop", "staging"].map((env) => `${cloud}-${env}`)))("%s picks the newest <sha>-<timestamp> build", (id) => {
      const policies = manifestsOf(stacks[id]).filter((m) => m.kind === "ImagePolicy");
      expect(policies).toHaveLength(environment(id.split("-")[1]).applications.length);
      for (const policy of policies) {
        expect(policy.spec).toEqual({
          imageRepositoryRef: { name: policy.metadata.name },
          filterTags: { pattern: BUILD_TAG_PATTERN, extract: "$ts" },
          policy: { numerical: { order: "asc" } },
        });
      }
      const pattern = new RegExp(BUILD_TAG_PATTERN.replace("?P<", "?<"));
      expect(pattern.exec("3f2a9c1-1732240000")?.groups?.ts).toBe("1732240000");
      expect(pattern.test("v1.2.3")).toBe(false);
    });

    it.each(CLOUDS.flatMap((cloud) => ["develop", "staging"].map((env) => `${cloud}-${env}`)))("%s commits new tags back to its GitOps path", (id) => {
      const env = environment(id.split("-")[1]);
      const automation = manifest(stacks[id], "ImageUpdateAutomation");
      expect(automation.spec).toMatchObject({
        sourceRef: { kind: "GitRepository", name: manifest(stacks[id], "GitRepository").metadata.name },
        git: { checkout: { ref: { branch: env.gitops.branch } }, push: { branch: config.gitops.automationBranch ?? env.gitops.branch } },
        update: { path: `./${env.gitops.path}`, strategy: "Setters" },
      });
    });
  });

  describe("secrets", () => {
    const SECRET_KEY = /(password|secret_string|client_secret|private_key|token)$/i;

    /** Every string under a key that names a secret, in Terraform JSON and in the applied objects. */
    function secretValues(node: unknown, key = ""): string[] {
      if (Array.isArray(node)) return node.flatMap((item) => secretValues(item, key));
      if (node !== null && typeof node === "object") return Object.entries(node).flatMap(([k, v]) => secretValues(v, k));
      return typeof node === "string" && SECRET_KEY.test(key) ? [node] : [];
    }

    it.each(STACK_IDS)("%s creates no Kubernetes secret and reads no secret value", (id) => {
      const types = Object.keys(stacks[id].resource ?? {});
      expect(types.filter((type) => /secret|random_password/.test(type))).toEqual([]);
      expect(Object.keys(stacks[id].data ?? {})).toEqual(["terraform_remote_state"]);
    });

    it.each(STACK_IDS)("%s names secrets only by template or reference", (id) => {
      const values = [...secretValues(stacks[id]), ...secretValues(manifestsOf(stacks[id]))];
      expect(values.length).toBeGreaterThan(0);
      for (const value of values) expect(value).toMatch(/^(\{\{ \.[a-z]+ \}\}|\$\{[^}]+\})$/);
    });

    it("no stack in cdktf.out carries a private key or a cloud access key", () => {
      const text = synth.allText();
      expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text).not.toMatch(/\bAKIA[0-9A-Z]{16}\b/);
      expect(text).not.toMatch(/AccountKey=[A-Za-z0-9+/=]{20,}/);
    });
  });

  describe("no cloud branch", () => {
    /**
     * Where an environment stack is allowed to differ between clouds, each
     * fed by one part of the contract (or by the cloud's state backend).
     */
    const CONTRACT_FED: [RegExp, string][] = [
      [/^terraform\.backend\./, "deployment.useState"],
      [/^\/\/\.metadata\.backend$/, "deployment.useState"],
      // S3-native locking is an override of the backend block.
      [/^\/\/\.metadata\.overrides\.stack\[\d+\]$/, "deployment.useState"],
      [/^resource\.kubernetes_role_binding_v1\.namespace_ci-deployer_binding_[0-9A-F]+\.subject\[0\]\.(kind|name)$/, "platform.ci.deploy"],
      [/^data\.terraform_remote_state\./, "cross-stack references to the cloud's stacks"],
      [/^provider\.(kubernetes|helm)\[0\]\./, "platform.cluster"],
      [/^resource\.kubernetes_network_policy_v1\.network-policies_allow-database_[0-9A-F]+\.spec\.egress\[0\]\.to\[/, "database.cidrs"],
      [/^resource\.kubernetes_service_account_v1\.app-service-account[A-Za-z0-9_-]*\.metadata\.annotations\./, "database.applicationIdentity.serviceAccountAnnotations"],
      [/^manifests\.ImageRepository\/[a-z-]+\.spec\.image$/, "platform.registry.repositories"],
      [/^manifests\.Kustomization\/apps\.spec\.postBuild\.substitute\.(IMAGE_[A-Z_]+|REGISTRY)$/, "platform.registry"],
      [/^manifests\.SecretStore\/database\.spec\.provider\./, "database.secretStore"],
      [/^manifests\.ExternalSecret\/database\.spec\.data\[/, "database.credentials"],
      [/^manifests\.ExternalSecret\/database\.spec\.target\.template\.data\.user$/, "database.credentials.username"],
      [/^manifests\.Kustomization\/apps\.spec\.patches\[0\]\.patch$/, "database.applicationIdentity.podLabels"],
      [/^manifests\.ImageRepository\/[a-z-]+\.spec\.provider$/, "platform.registry.fluxProvider"],
      [/^resource\.kubernetes_network_policy_v1\.network-policies_allow-object-storage_[0-9A-F]+\.spec\.egress\[/, "applications[].objectStorage.egress"],
      [/^resource\.kubernetes_service_account_v1\.applications_[a-z0-9-]+_service-account_[0-9A-F]+\.metadata\.annotations\./, "applications[].identity"],
      [/^resource\.kubernetes_config_map_v1\.applications_[a-z0-9-]+-object-storage_[0-9A-F]+\.data\./, "applications[].objectStorage"],
      [/^manifests\.Receiver\/registry\.spec\.type$/, "platform.registry.webhookReceiver"],
    ];

    /** Leaf path to value, with Terraform references and the stack's own id replaced. */
    function flatten(id: string, stack: TerraformJson): Map<string, unknown> {
      const leaves = new Map<string, unknown>();
      const walk = (node: unknown, at: string) => {
        if (Array.isArray(node)) return node.forEach((item, i) => walk(item, `${at}[${i}]`));
        if (node !== null && typeof node === "object") return Object.entries(node).forEach(([k, v]) => walk(v, at ? `${at}.${k.split(id).join("<stack>")}` : k));
        leaves.set(at, typeof node === "string" ? node.replace(/\$\{[^}]*\}/g, "${ref}").split(id).join("<stack>") : node);
      };
      const { resource, ...rest } = stack;
      const releases = resource?.helm_release ?? {};
      walk({ ...rest, resource: { ...resource, helm_release: Object.fromEntries(Object.entries(releases).map(([k, r]) => [k, { ...r, values: undefined }])) } }, "");
      for (const m of manifestsOf(stack)) walk(m, `manifests.${m.kind}/${m.metadata.name}`);
      return leaves;
    }

    function differences(a: Map<string, unknown>, b: Map<string, unknown>): string[] {
      const paths = new Set([...a.keys(), ...b.keys()]);
      return [...paths].filter((p) => a.get(p) !== b.get(p)).sort();
    }

    it.each(ENVIRONMENTS)("%s: the aws and azure stacks differ only where the contract feeds them", (env) => {
      const diff = differences(flatten(`aws-${env}`, stacks[`aws-${env}`]), flatten(`azure-${env}`, stacks[`azure-${env}`]));
      const unexplained = diff.filter((p) => !CONTRACT_FED.some(([pattern]) => pattern.test(p)));
      expect(unexplained).toEqual([]);
      // The comparison sees the differences the contract does make.
      expect(diff).toContain(`manifests.ImageRepository/${environment(env).applications[0]}.spec.provider`);
      expect(diff.some((p) => p.startsWith("manifests.SecretStore/database.spec.provider."))).toBe(true);
    });

    it("the environment class and its constructs name no cloud", () => {
      const root = path.join(__dirname, "..");
      const files = ["stacks/environment-stack.ts", ...readdirSync(path.join(root, "constructs/environment")).map((f) => `constructs/environment/${f}`)];
      expect(files.length).toBeGreaterThan(5);
      for (const file of files) {
        const text = readFileSync(path.join(root, file), "utf8");
        expect({ file, clouds: text.match(/\b(aws|azure|eks|aks|ecr|acr|rds|gcp|amazon|microsoft)\b/gi) ?? [] }).toEqual({ file, clouds: [] });
        expect({ file, readsCloud: /\.cloud\b/.test(text) }).toEqual({ file, readsCloud: false });
      }
    });
  });

  const shared = sharedDataDir();
  describe.skipIf(!shared.available)(`custom resources against the CRD schemas${skipNote(shared)}`, () => {
    it.each(STACK_IDS)("%s applies only objects its CRDs accept", (id) => {
      const validator = crdValidator(path.join(shared.dir!, "crd-schemas"));
      const manifests = manifestsOf(stacks[id]);
      const kinds = new Set(manifests.map((m) => `${m.apiVersion}/${m.kind}`));
      const expected = ["external-secrets.io/v1/SecretStore", "external-secrets.io/v1/ExternalSecret", "source.toolkit.fluxcd.io/v1/GitRepository", "kustomize.toolkit.fluxcd.io/v1/Kustomization", "image.toolkit.fluxcd.io/v1/ImageRepository", "image.toolkit.fluxcd.io/v1/ImagePolicy"];
      expect([...kinds]).toEqual(expect.arrayContaining(expected));
      // Core objects have no CRD schema, nor has the token's Password generator (its CRD is not published with the others).
      const unchecked = ["generators.external-secrets.io/v1alpha1/Password", "rbac.authorization.k8s.io/v1/Role", "rbac.authorization.k8s.io/v1/RoleBinding"];
      for (const m of manifests.filter((m) => !unchecked.includes(`${m.apiVersion}/${m.kind}`))) {
        expect({ object: `${m.kind}/${m.metadata.name}`, errors: validator.validate(m) }).toEqual({ object: `${m.kind}/${m.metadata.name}`, errors: [] });
      }
    });

    it("the schemas reject an ImagePolicy without its repository and with an unknown order", () => {
      const validator = crdValidator(path.join(shared.dir!, "crd-schemas"));
      const policy = structuredClone(manifest(stacks["aws-develop"], "ImagePolicy", "web"));
      delete policy.spec.imageRepositoryRef;
      policy.spec.policy.numerical.order = "newest";
      expect(validator.validate(policy)).toEqual(["/spec: must have required property 'imageRepositoryRef'", "/spec/policy/numerical/order: must be equal to one of the allowed values"]);
    });
  });
});
