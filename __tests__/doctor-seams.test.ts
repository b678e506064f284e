import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { RECEIVER_OBJECTS } from "../constructs/environment/receiver";
import { FIXTURES, NOW, runScenario } from "./support/doctor-fakes";
import { crdValidator } from "./support/crd-schemas";
import { sharedDataDir, skipNote } from "./support/environment";
import { configWith, synthesize, validateConfig } from "./support/synth";
import { FLUX_CONTROLLERS } from "../constructs/addons/flux";
import { GITOPS_OBJECTS } from "../constructs/environment/gitops-delivery";
import { KNATIVE_SERVING_NAMESPACE, KOURIER_SERVICE } from "../constructs/addons/knative";
import { routesCertificate } from "../constructs/addons/cert-manager";
import { CLUSTER_SECRET_STORE } from "../constructs/addons/external-secrets";
import { MONITORING_NAMESPACE } from "../constructs/addons/monitoring";
import { LOKI_URL } from "../constructs/addons/loki";
import { ALERTMANAGER_URL } from "../constructs/addons/monitoring";
import { QUEUE_PROXY_JOB } from "../constructs/addons/alert-rules";
import { HEALTH_CHECK_REGION } from "../constructs/aws/uptime-checks";
import { cronIntervalHours } from "../tools/doctor/cloud";
import { eksToken } from "../tools/doctor/clouds/aws";
import { coversHost } from "../tools/doctor/checks/ingress";
import { parseCli } from "../tools/doctor/cli";
import { NAMES } from "../tools/doctor/names";
import { outputsFromFile, outputsFromState, stateOutputs, type StateReaders } from "../tools/doctor/outputs";
import { exitCode, fail, ok, renderJson, renderMarkdown, renderText, warn } from "../tools/doctor/report";

const ROOT = path.resolve(__dirname, "..");

describe("the names the doctor looks for are the ones the program creates", () => {
  it("Flux, GitOps, routes, secrets and monitoring names match the constructs' own", () => {
    expect(NAMES.flux.controllers).toEqual([...FLUX_CONTROLLERS]);
    expect(NAMES.gitops).toEqual({ source: GITOPS_OBJECTS.source, sync: GITOPS_OBJECTS.sync });
    const certificate = routesCertificate({ namespace: KNATIVE_SERVING_NAMESPACE, dnsNames: ["a.example.com"], issuer: "letsencrypt-production" });
    expect(NAMES.routes).toEqual({ namespace: certificate.metadata.namespace, certificate: certificate.metadata.name, gateway: KOURIER_SERVICE });
    expect(NAMES.secrets.clusterStore).toBe(CLUSTER_SECRET_STORE);
    expect(NAMES.monitoring.namespace).toBe(MONITORING_NAMESPACE);
    expect(NAMES.monitoring.scaleToZeroMonitors).toEqual([QUEUE_PROXY_JOB]);
    expect(`http://${NAMES.monitoring.alertmanager.service}.${NAMES.monitoring.namespace}.svc.cluster.local:${NAMES.monitoring.alertmanager.port}`).toBe(ALERTMANAGER_URL);
    expect(`http://${NAMES.monitoring.loki.service}.${NAMES.monitoring.namespace}.svc.cluster.local:${NAMES.monitoring.loki.port}`).toBe(LOKI_URL);
  });

  it("each environment's database SecretStore and ExternalSecret carry the names the doctor reads", () => {
    const releases = Object.values<any>(synthesize().stack("aws-develop").resource!.helm_release);
    const manifests = releases.flatMap((release) => (release.values ?? []).flatMap((values: string) => parseYaml(values)?.manifests ?? []));
    const names = (kind: string) => manifests.filter((m: any) => m.kind === kind).map((m: any) => m.metadata.name);
    expect(names("SecretStore")).toEqual([NAMES.secrets.databaseStore]);
    // Beside the webhook token's, generated in the cluster, which the doctor does not read.
    expect(names("ExternalSecret").filter((name: string) => name !== RECEIVER_OBJECTS.token)).toEqual([NAMES.secrets.databaseSecret]);
  });

  it("the heartbeat alarm is read in the region its construct puts it in", () => {
    expect(HEALTH_CHECK_REGION).toBe("us-east-1");
    expect(readFileSync(path.join(ROOT, "tools/doctor/clouds/aws.ts"), "utf8")).toContain(`region: "${HEALTH_CHECK_REGION}"`);
  });

  it("every stack output a probe requires is one the synthesized stacks have", () => {
    const synthesized = synthesize();
    for (const [cloud, file] of [["aws", "tools/doctor/clouds/aws.ts"], ["azure", "tools/doctor/clouds/azure.ts"]] as const) {
      const source = readFileSync(path.join(ROOT, file), "utf8");
      const platform = [...source.matchAll(/requireOutput\(outputs\.platform, platform, "(\w+)"\)/g)].map((m) => m[1]);
      const data = [...source.matchAll(/dataOutput\(environment, "(\w+)"\)/g)].map((m) => m[1]);
      expect(platform.length + data.length).toBeGreaterThan(4);
      expect(Object.keys(synthesized.stack(`${cloud}-platform`).output ?? {})).toEqual(expect.arrayContaining(platform));
      expect(Object.keys(synthesized.stack(`${cloud}-production-data`).output ?? {})).toEqual(expect.arrayContaining(data));
    }
  });

  it("no output the doctor reads holds a secret, and the one sensitive output (the AKS CA, from a sensitive attribute) is marked so", () => {
    const outputs = synthesize().stack("azure-platform").output as Record<string, { value: string; sensitive?: boolean }>;
    expect(outputs.cluster_ca_certificate).toMatchObject({ sensitive: true, value: expect.stringContaining("kube_config[0].cluster_ca_certificate") });
  });
});

describe("stack outputs", () => {
  const state = (outputs: Record<string, unknown>) => JSON.stringify({ version: 4, terraform_version: "1.11.4", serial: 3, lineage: "x", outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { value: v, type: "string" }])), resources: [] });

  it("reads outputs from a Terraform state, and refuses what is not one", () => {
    expect(stateOutputs(state({ cluster_name: "acme-platform" }))).toEqual({ cluster_name: "acme-platform" });
    expect(() => stateOutputs(JSON.stringify({ version: 3 }))).toThrow("not a Terraform state of format version 4 (version 3)");
  });

  it("reads a cdktf --outputs-file and terraform output -json per stack alike", async () => {
    const cdktf = outputsFromFile(JSON.stringify({ "aws-platform": { cluster_name: "acme-platform" } }), "a.json");
    const terraform = outputsFromFile(JSON.stringify({ "aws-platform": { cluster_name: { sensitive: false, type: "string", value: "acme-platform" } } }), "b.json");
    expect(await cdktf("aws-platform")).toEqual({ cluster_name: "acme-platform" });
    expect(await terraform("aws-platform")).toEqual({ cluster_name: "acme-platform" });
    expect(await cdktf("aws-develop-data")).toBeUndefined();
    expect(() => outputsFromFile("[]", "c.json")).toThrow("c.json: expected an object of stacks, each an object of outputs");
  });

  it("reads each stack's state exactly where its synthesized backend keeps it (S3, Azure Blob Storage, local)", async () => {
    const raw = configWith((c) => {
      c.clouds.aws.stateBackend = { bucket: "acme-tfstate", region: "eu-central-1", keyPrefix: "platform/main" };
      c.clouds.azure.stateBackend = { resourceGroupName: "tfstate", storageAccountName: "acmetfstate", containerName: "tfstate", keyPrefix: "platform" };
    });
    const remote = validateConfig(raw);
    const asked: string[] = [];
    const readers: StateReaders = {
      s3: async ({ bucket, key, region }) => (asked.push(`s3 ${region} ${bucket} ${key}`), state({ cluster_name: "from-s3" })),
      azureBlob: async ({ account, container, key }) => (asked.push(`blob ${account} ${container} ${key}`), state({ cluster_name: "from-blob" })),
      file: async (file) => (asked.push(`file ${file}`), undefined),
    };
    expect(await outputsFromState(remote, readers, ROOT)("aws-production-data")).toEqual({ cluster_name: "from-s3" });
    expect(await outputsFromState(remote, readers, ROOT)("azure-platform")).toEqual({ cluster_name: "from-blob" });
    const localRaw = configWith((c) => {
      delete c.ci;
      delete c.clouds.aws.stateBackend;
      delete c.clouds.azure.stateBackend;
    });
    const local = validateConfig(localRaw);
    expect(await outputsFromState(local, readers, ROOT)("aws-platform")).toBeUndefined();
    const synthesized = synthesize(remote);
    const s3 = synthesized.stack("aws-production-data").terraform!.backend.s3;
    const blob = synthesized.stack("azure-platform").terraform!.backend.azurerm;
    const localBackend = synthesize(local).stack("aws-platform").terraform!.backend.local;
    expect(asked).toEqual([
      `s3 ${s3.region} ${s3.bucket} ${s3.key}`,
      `blob ${blob.storage_account_name} ${blob.container_name} ${blob.key}`,
      `file ${path.resolve(ROOT, "cdktf.out/stacks/aws-platform", localBackend.path)}`,
    ]);
  });
});

describe("the doctor changes nothing", () => {
  it("asks AWS only Describe, Get and List calls", () => {
    const source = readFileSync(path.join(ROOT, "tools/doctor/clouds/aws.ts"), "utf8") + readFileSync(path.join(ROOT, "tools/doctor/cli.ts"), "utf8");
    const commands = [...new Set([...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]))];
    expect(commands.length).toBeGreaterThan(6);
    expect(commands.filter((c) => !/^(Describe|Get|List)/.test(c))).toEqual([]);
  });

  it("reads Kubernetes with GET only and Azure with GET, but for one log query", async () => {
    const source = readFileSync(path.join(ROOT, "tools/doctor/kubernetes.ts"), "utf8");
    expect([...source.matchAll(/method: "(\w+)"/g)].map((m) => m[1])).toEqual(["GET"]);
    const { calls } = await runScenario({}, "azure");
    expect(calls.azure.filter((c) => c.method !== "GET").map((c) => c.url)).toEqual([expect.stringMatching(/^https:\/\/api\.loganalytics\.io\/v1\/subscriptions\/.*\/query$/)]);
    expect(calls.kubernetes.length).toBeGreaterThan(20);
  });

  it("is never part of npm run synth: the synth bundle holds no doctor code and none of its clients", () => {
    const inputs = path.join(ROOT, "node_modules/.cache/platform-kit/synth-bundle.inputs.json");
    expect(existsSync(inputs)).toBe(true);
    const files: string[] = JSON.parse(readFileSync(inputs, "utf8")).files;
    expect(files.some((f) => f.includes(`${path.sep}stacks${path.sep}`))).toBe(true);
    expect(files.filter((f) => /tools[\\/]doctor|@kubernetes|@aws-sdk|@azure[\\/]|@smithy/.test(f))).toEqual([]);
  });
});

describe("pieces", () => {
  it("an EKS token is a presigned STS GetCallerIdentity naming the cluster, valid 60 s", async () => {
    const token = await eksToken("acme-platform", "eu-west-1", { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "secret" }, NOW);
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(token.slice("k8s-aws-v1.".length), "base64url").toString("utf8"));
    expect(url.host).toBe("sts.eu-west-1.amazonaws.com");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: "GetCallerIdentity",
      Version: "2011-06-15",
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": "AKIAIOSFODNN7EXAMPLE/20261204/eu-west-1/sts/aws4_request",
      "X-Amz-Date": "20261204T120000Z",
      "X-Amz-Expires": "60",
      "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
    });
  });

  it("a wildcard certificate name covers one label only", () => {
    const san = "DNS:apps.example.com, DNS:*.apps.example.com";
    expect(coversHost(san, "web.apps.example.com")).toBe(true);
    expect(coversHost(san, "apps.example.com")).toBe(true);
    expect(coversHost(san, "web.develop.apps.example.com")).toBe(false);
    expect(coversHost(san, "example.com")).toBe(false);
  });

  it("AWS Backup schedules: hourly, daily, monthly", () => {
    expect([cronIntervalHours("cron(0 * * * ? *)"), cronIntervalHours("cron(0 0 * * ? *)"), cronIntervalHours("cron(0 0 1 * ? *)")]).toEqual([1, 24, 744]);
  });

  it("bad options are one line naming the option, the value and what is allowed", () => {
    expect(() => parseCli(["--only", "gitops,dns"])).toThrow('--only: "dns" is not allowed: cluster, gitops, ingress, monitoring, data, secrets');
    expect(() => parseCli(["--cloud", "gcp"])).toThrow('--cloud: "gcp" is not allowed: aws or azure');
    expect(() => parseCli(["--timeout", "0"])).toThrow('--timeout: "0" is not allowed: a positive number');
    expect(parseCli(["--help"])).toBe("help");
    expect(parseCli(["--json", "--resolver", "9.9.9.9"])).toMatchObject({ json: true, resolvers: ["9.9.9.9"], timeoutMs: 20_000, heartbeatMinutes: 15 });
  });

  it("renders a table, markdown with escaped cells and JSON; exit code 1 only when something failed", () => {
    const reports = [{ cloud: "aws", cluster: "acme-platform", findings: [ok("cluster", "nodes Ready", "3/3 Ready"), warn("gitops", "develop: sync", "a | b", "wait"), fail("ingress", "certificate", "expired", "renew")] }];
    expect(renderText(reports)).toContain("aws: acme-platform  (1 failed, 1 warnings, 1 ok, 0 skipped)");
    expect(renderMarkdown(reports)).toContain("| gitops | develop: sync | ⚠️ warn | a \\| b | wait |");
    expect(JSON.parse(renderJson(reports, NOW))).toMatchObject({ checkedAt: NOW.toISOString(), exitCode: 1, clusters: [{ cloud: "aws", findings: [{}, {}, {}] }] });
    expect(exitCode([{ ...reports[0], findings: reports[0].findings.slice(0, 2) }])).toBe(0);
    expect(exitCode(reports)).toBe(1);
  });
});

const shared = sharedDataDir();
describe.skipIf(!shared.available)(`recorded custom resources validate against the CRD schemas of the deployed versions${skipNote(shared)}`, () => {
  it("every custom resource in the Kubernetes recordings, status included", () => {
    const validator = crdValidator(path.join(shared.dir!, "crd-schemas"));
    const objects: { file: string; object: any }[] = [];
    for (const file of readdirSync(path.join(FIXTURES, "kubernetes"))) {
      for (const value of Object.values<any>(JSON.parse(readFileSync(path.join(FIXTURES, "kubernetes", file), "utf8")))) {
        for (const object of Array.isArray(value?.items) ? value.items : [value]) {
          const group = String(object?.apiVersion ?? "").split("/")[0];
          if (group.includes(".") && existsSync(path.join(shared.dir!, "crd-schemas", group))) objects.push({ file, object });
        }
      }
    }
    expect(new Set(objects.map((o) => o.object.kind))).toEqual(
      new Set(["NodePool", "NodeClaim", "EC2NodeClass", "GitRepository", "Kustomization", "ImageRepository", "ImagePolicy", "SecretStore", "ExternalSecret", "Certificate", "ServiceMonitor", "PodMonitor", "PrometheusRule", "ClusterSecretStore", "FluxInstance"]),
    );
    const errors = objects.flatMap(({ file, object }) => validator.validate(object).map((e) => `${file} ${object.kind}/${object.metadata?.name}: ${e}`));
    expect(errors).toEqual([]);
  });

  it("the Prometheus, Alertmanager and Loki ports are the charts' defaults", () => {
    const values = (chart: string) => parseYaml(readFileSync(path.join(shared.dir!, "charts", chart, "values.yaml"), "utf8"));
    const kps = values("kube-prometheus-stack-88.5.3");
    expect(NAMES.monitoring.prometheus.port).toBe(kps.prometheus.service.port);
    expect(NAMES.monitoring.alertmanager.port).toBe(kps.alertmanager.service.port);
    expect(NAMES.monitoring.loki.port).toBe(values("loki-7.3.0").loki.server.http_listen_port);
  });
});
