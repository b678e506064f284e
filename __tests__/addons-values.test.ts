import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EXAMPLE_CONFIG_PATH, loadConfig } from "../config";
import { CHARTS } from "../constructs/addons/charts";
import { HelmAddon } from "../constructs/addons/helm-addon";
import { DEFAULT_VALUES_DIR, mergeValues, userValues } from "../constructs/addons/values";
import { AddonsStack } from "../stacks/addons-stack";
import { CAPACITY_CHARTS, TOOLS_CHARTS, azureShapedPlatform, manifestsOf, releaseValues, synthesizeAddons, type AddonsSynth } from "./addons-fixtures";
import { crdValidator, undeclaredFields, type CrdValidator } from "./support/crd-schemas";
import { sharedDataDir, skipNote } from "./support/environment";
import type { TerraformJson } from "./support/synth";

describe("values merging", () => {
  it("merges nested maps with later layers winning", () => {
    expect(mergeValues({ a: { b: 1, c: 2 } }, { a: { c: 3, d: 4 } })).toEqual({ a: { b: 1, c: 3, d: 4 } });
  });

  it("replaces lists instead of concatenating them", () => {
    expect(mergeValues({ receivers: [{ name: "null" }, { name: "email" }] }, { receivers: [{ name: "pager" }] })).toEqual({ receivers: [{ name: "pager" }] });
  });

  it("leaves its inputs untouched", () => {
    const computed = { a: { b: 1 } };
    mergeValues(computed, { a: { b: 2 } });
    expect(computed).toEqual({ a: { b: 1 } });
  });

  describe("values files", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), "helm-values-"));
      writeFileSync(path.join(dir, "flux.yaml"), "logLevel: debug\nweb:\n  enabled: true\n");
      writeFileSync(path.join(dir, "flux.azure.yaml"), "logLevel: error\n");
      writeFileSync(path.join(dir, "flux.aws.yaml"), "logLevel: trace\n");
      writeFileSync(path.join(dir, "broken.yaml"), "a: [\n");
      writeFileSync(path.join(dir, "listed.yaml"), "- a\n- b\n");
      writeFileSync(path.join(dir, "kube-prometheus-stack.yaml"), "prometheus:\n  prometheusSpec:\n    storageSpec:\n      volumeClaimTemplate:\n        spec:\n          storageClassName: premium\n");
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("reads the release's file, then only its own cloud's overlay", () => {
      expect(userValues(dir, "flux", "azure")).toEqual([{ logLevel: "debug", web: { enabled: true } }, { logLevel: "error" }]);
    });

    it("reads nothing for a release without files", () => {
      expect(userValues(dir, "external-secrets", "azure")).toEqual([]);
    });

    it("names the file that is not valid YAML", () => {
      expect(() => userValues(dir, "broken", "azure")).toThrow(`${path.join(dir, "broken.yaml")}: not valid YAML`);
    });

    it("rejects a file that is not a mapping", () => {
      expect(() => userValues(dir, "listed", "azure")).toThrow(`${path.join(dir, "listed.yaml")}: must hold a mapping of values at the top level, found a list`);
    });

    it("lets what a user writes win over computed values, overlay last", () => {
      const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), "addons-out-")) });
      const stack = new AddonsStack(app, "azure-addons", { config: loadConfig(EXAMPLE_CONFIG_PATH), platform: azureShapedPlatform, valuesDir: dir });
      expect(stack.flux.values).toMatchObject({ logLevel: "error", web: { enabled: true }, fullnameOverride: "flux-operator" });
      const prometheus = stack.monitoring.stack.values as any;
      expect(prometheus.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec).toEqual({ storageClassName: "premium", accessModes: ["ReadWriteOnce"] });
      rmSync(app.outdir, { recursive: true, force: true });
    });
  });

  it("refuses a release name Helm would reject", () => {
    const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), "addons-out-")) });
    const stack = new AddonsStack(app, "azure-addons", { config: loadConfig(EXAMPLE_CONFIG_PATH), platform: azureShapedPlatform });
    const name = "a".repeat(54);
    expect(() => new HelmAddon(stack, "long", { chart: "flux-operator", releaseName: name, namespace: "x", cloud: "c" })).toThrow(
      `azure-addons/long: Helm release name '${name}' is 54 characters; the limit is 53`,
    );
    rmSync(app.outdir, { recursive: true, force: true });
  });
});

describe("helm-values/", () => {
  let synth: AddonsSynth;
  beforeAll(() => (synth = synthesizeAddons()));
  afterAll(() => synth.cleanup());

  it("holds files only for releases the add-ons install, and overlays only for known clouds", () => {
    const releases = [...Object.values<any>(synth.aws.resource!.helm_release).map((r) => r.name)];
    const clouds = Object.keys(loadConfig(EXAMPLE_CONFIG_PATH).clouds);
    for (const file of readdirSync(DEFAULT_VALUES_DIR)) {
      const [release, ...rest] = file.split(".");
      expect(releases, file).toContain(release);
      expect(rest.length === 1 || (rest.length === 2 && clouds.includes(rest[0])), file).toBe(true);
      expect(rest[rest.length - 1], file).toBe("yaml");
    }
  });
});

/**
 * Parents under which a chart takes any key (maps rendered as they are),
 * besides the keys its defaults list. `**.` matches at any depth.
 */
const FREE_FORM: Record<string, string[]> = {
  "flux-operator": ["resources", "commonLabels", "commonAnnotations"],
  "external-secrets": ["resources", "podLabels", "serviceAccount.annotations", "crds.annotations"],
  // Maps the chart renders as given (the defaults hold one example key, or none).
  karpenter: ["nodeSelector", "controller.resources"],
  "karpenter-crd": [],
  "metrics-server": ["resources"],
  "knative-operator": ["**.resources"],
  "external-dns": ["**.resources", "podLabels", "serviceAccount.annotations"],
  // The service account's name and annotations are comments in the defaults.
  "cert-manager": ["**.resources", "podLabels", "serviceAccount.name", "serviceAccount.annotations"],
  "kube-prometheus-stack": [
    "**.resources",
    // Alertmanager's own configuration file.
    "alertmanager.config",
    // PersistentVolumeClaim templates, shown only as comments in the defaults.
    "prometheus.prometheusSpec.storageSpec",
    "alertmanager.alertmanagerSpec.storage",
    // A value of the grafana sub-chart, shown as a comment in the parent's defaults.
    "grafana.persistence",
    // Values of the kube-state-metrics sub-chart, not repeated in the parent's defaults.
    "kube-state-metrics.metricLabelsAllowlist",
    "kube-state-metrics.rbac",
    "kube-state-metrics.customResourceState",
    // Pod labels of the Alertmanager pods, a free map in the operator's CRD.
    "alertmanager.alertmanagerSpec.podMetadata",
  ],
  loki: [
    "**.resources",
    "**.podLabels",
    "serviceAccount.annotations",
    // Loki's own configuration blocks, rendered into its config file as they are.
    "loki.limits_config",
    "loki.compactor",
    "loki.rulerConfig",
    "loki.analytics",
    "loki.schemaConfig",
    // Only the chosen backend's settings; bucket names are a comment in the defaults.
    "loki.storage.bucketNames",
  ],
  alloy: ["**.resources", "alloy.securityContext", "controller.tolerations"],
};

function isFreeForm(at: string, patterns: string[]): boolean {
  return patterns.some((pattern) => (pattern.startsWith("**.") ? at === pattern.slice(3) || at.endsWith(`.${pattern.slice(3)}`) : at === pattern));
}

/** Key paths in `values` that the chart's defaults do not have. */
function unknownKeys(values: unknown, defaults: unknown, freeForm: string[], at = ""): string[] {
  if (values === null || typeof values !== "object" || Array.isArray(values)) return [];
  return Object.entries(values).flatMap(([key, value]) => {
    const here = at ? `${at}.${key}` : key;
    const upstream = defaults !== null && typeof defaults === "object" ? (defaults as Record<string, unknown>)[key] : undefined;
    if (isFreeForm(here, freeForm)) return [];
    if (upstream === undefined && !(defaults !== null && typeof defaults === "object" && key in defaults)) return [here];
    return unknownKeys(value, upstream, freeForm, here);
  });
}

const shared = sharedDataDir();

describe.skipIf(!shared.available)(`values against the charts' upstream defaults${skipNote(shared)}`, () => {
  let synth: AddonsSynth;
  beforeAll(() => (synth = synthesizeAddons()));
  afterAll(() => synth.cleanup());

  const upstreamDefaults = (chart: string, version: string): unknown => {
    const file = path.join(shared.dir!, "charts", `${chart}-${version}`, "values.yaml");
    // The knative-operator chart source keeps a placeholder its release fills in.
    return parse(readFileSync(file, "utf8").replace(/\{\{\s*tag\s*\}\}/g, '""'));
  };

  it("has the defaults of every pinned chart", () => {
    for (const pin of Object.values(CHARTS).filter((pin) => !TOOLS_CHARTS.includes(pin.chart))) {
      expect(existsSync(path.join(shared.dir!, "charts", `${pin.chart}-${pin.version}`, "values.yaml")), pin.chart).toBe(true);
    }
  });

  it.each(["aws", "azure"] as const)("every key the %s releases set exists in its chart", (cloud) => {
    const stack: TerraformJson = cloud === "aws" ? synth.aws : synth.azure;
    const values = releaseValues(stack);
    const charted = Object.values<any>(stack.resource!.helm_release).filter((r) => r.repository !== undefined);
    // The capacity charts (Karpenter, metrics-server) only where the platform asks for them; a chart may serve more than one release.
    expect(new Set(charted.map((r) => r.chart)).size).toBe(Object.keys(CHARTS).length - TOOLS_CHARTS.length - (cloud === "azure" ? CAPACITY_CHARTS.length : 0));
    for (const release of charted) {
      expect(unknownKeys(values[release.name], upstreamDefaults(release.chart, release.version), FREE_FORM[release.chart]), release.name).toEqual([]);
    }
  });

  it("catches a misspelt key, and keys under a map the defaults leave empty", () => {
    const defaults = upstreamDefaults("kube-prometheus-stack", CHARTS["kube-prometheus-stack"].version);
    expect(unknownKeys({ prometheus: { prometheusSpec: { retentoin: "1d", retention: "1d" } }, grafana: { admin: { existingSecrett: "x" } } }, defaults, FREE_FORM["kube-prometheus-stack"])).toEqual([
      "prometheus.prometheusSpec.retentoin",
      "grafana.admin.existingSecrett",
    ]);
    expect(unknownKeys({ commonLabels: { team: "platform" } }, defaults, [])).toEqual(["commonLabels.team"]);
  });
});

describe.skipIf(!shared.available)(`custom resources against their CRD schemas${skipNote(shared)}`, () => {
  let synth: AddonsSynth;
  let validator: CrdValidator;
  beforeAll(() => {
    synth = synthesizeAddons();
    validator = crdValidator(path.join(shared.dir!, "crd-schemas"));
  });
  afterAll(() => synth.cleanup());

  const schemaFile = (manifest: { apiVersion: string; kind: string }) => {
    const [group, version] = manifest.apiVersion.split("/");
    return path.join(shared.dir!, "crd-schemas", group, `${manifest.kind}_${version}.json`);
  };

  it.each(["aws", "azure"] as const)("every %s resource with a published schema is valid and declares only known fields", (cloud) => {
    const manifests = manifestsOf(cloud === "aws" ? synth.aws : synth.azure);
    const checked = manifests.filter((m) => existsSync(schemaFile(m)));
    const capacity = cloud === "aws" ? ["EC2NodeClass/default", "NodePool/general"] : [];
    expect(checked.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      ...capacity,
      "Certificate/routes",
      "ClusterIssuer/letsencrypt-production",
      "ClusterIssuer/letsencrypt-staging",
      "ClusterSecretStore/platform",
      "ExternalSecret/alertmanager-smtp",
      "ExternalSecret/grafana-admin",
      "FluxInstance/flux",
      "KnativeServing/knative-serving",
      "PodMonitor/flux-controllers",
      "PodMonitor/flux-operator",
      "PrometheusRule/certificates",
      "PrometheusRule/loki",
      "PodMonitor/external-secrets",
      "PodMonitor/knative-activator",
      "PodMonitor/knative-kourier-gateway",
      "PodMonitor/knative-queue-proxy",
      "PrometheusRule/platform-application-errors",
      "PrometheusRule/platform-health",
      "PrometheusRule/platform-nodes",
      "PrometheusRule/platform-workloads",
      "PrometheusRule/platform-webhooks",
      "DomainMapping/hooks.apps.example.com",
      "DomainMapping/hooks.develop.apps.example.com",
      "DomainMapping/hooks.staging.apps.example.com",
      "Service/receiver",
    ].sort());
    for (const manifest of checked) {
      const label = `${manifest.kind}/${manifest.metadata.name}`;
      expect(validator.validate(manifest), label).toEqual([]);
      expect(undeclaredFields(manifest, JSON.parse(readFileSync(schemaFile(manifest), "utf8"))), label).toEqual([]);
    }
  });

  it("leaves unchecked only the Password generator and Knative's ClusterDomainClaim, whose CRD schemas are not published with the others, and core objects", () => {
    const unchecked = manifestsOf(synth.aws).filter((m) => !existsSync(schemaFile(m)));
    expect([...new Set(unchecked.map((m) => `${m.apiVersion}/${m.kind}`))].sort()).toEqual(
      [
        "v1/ConfigMap",
        "v1/ServiceAccount",
        "rbac.authorization.k8s.io/v1/Role",
        "rbac.authorization.k8s.io/v1/RoleBinding",
        "batch/v1/Job",
        "batch/v1/CronJob",
        "networking.k8s.io/v1/NetworkPolicy",
        "generators.external-secrets.io/v1alpha1/Password",
        "networking.internal.knative.dev/v1alpha1/ClusterDomainClaim",
      ].sort(),
    );
  });

  it("rejects a KnativeServing with a misspelt or mistyped field", () => {
    const serving = structuredClone(manifestsOf(synth.aws).find((m) => m.kind === "KnativeServing"));
    serving.spec.ingres = serving.spec.ingress;
    serving.spec["high-availability"].replicas = "two";
    const schema = JSON.parse(readFileSync(schemaFile(serving), "utf8"));
    expect(undeclaredFields(serving, schema)).toEqual([".spec.ingres"]);
    expect(validator.validate(serving)).toEqual(["/spec/high-availability/replicas: must be integer"]);
  });
});
