import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../config";
import { MIGRATION_COMPONENT_LABEL } from "../constructs/addons/alert-rules";
import { CHARTS } from "../constructs/addons/charts";
import { manifestsOf, releaseValues, synthesizeAddons, type AddonsSynth } from "./addons-fixtures";
import { crdValidator, undeclaredFields } from "./support/crd-schemas";
import { sharedDataDir, skipNote } from "./support/environment";
import { kubernetesValidator } from "./support/kubernetes-schema";

/** The example a user copies into the GitOps repository: the migration Job and the Knative Service. */
const EXAMPLE = path.join(__dirname, "..", "docs", "examples", "api-with-migration.yaml");
const JOB_SCHEMA = path.join(__dirname, "upstream", "kubernetes-v1.33.0-batch-v1-job.json");
const FEATURE_DEFAULTS = JSON.parse(readFileSync(path.join(__dirname, "upstream", "knative-serving-1.23.0-features.json"), "utf8"));

const documents = parseAllDocuments(readFileSync(EXAMPLE, "utf8")).map((doc) => doc.toJS());
const job = documents.find((d) => d.kind === "Job");
const service = documents.find((d) => d.kind === "Service");

/** Knative feature flags the fields an object sets are behind, as its CRD schema describes them. */
function featureFlags(value: unknown, schema: any): string[] {
  const own = [...String(schema?.description ?? "").matchAll(/feature flag - ([a-z0-9.-]+)/g)].map((m) => m[1]);
  if (value === null || typeof value !== "object") return own;
  if (Array.isArray(value)) return [...own, ...value.flatMap((item) => featureFlags(item, schema?.items))];
  return [...own, ...Object.entries(value).flatMap(([key, v]) => featureFlags(v, schema?.properties?.[key] ?? schema?.additionalProperties))];
}

describe("the migration example", () => {
  it("is a migration Job and a Knative Service, both labelled for the migration alerts", () => {
    expect(documents.map((d) => `${d.apiVersion}/${d.kind}`)).toEqual(["batch/v1/Job", "serving.knative.dev/v1/Service"]);
    const label = { [MIGRATION_COMPONENT_LABEL.key]: MIGRATION_COMPONENT_LABEL.value };
    expect(job.metadata.labels).toMatchObject(label);
    expect(job.spec.template.metadata.labels).toMatchObject(label);
    expect(service.spec.template.metadata.labels).toMatchObject(label);
    // The revision waits in an init container; the Job runs once and is never restarted in place.
    expect(service.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(["wait-for-migration"]);
    expect(job.spec.template.spec.restartPolicy).toBe("Never");
  });

  it(`is a valid batch/v1 Job of Kubernetes ${JSON.parse(readFileSync(JOB_SCHEMA, "utf8")).kubernetesVersion}, the clusters' version`, () => {
    const fragment = JSON.parse(readFileSync(JOB_SCHEMA, "utf8"));
    const config = loadConfig();
    for (const cloud of [config.clouds.aws, config.clouds.azure]) expect(fragment.kubernetesVersion).toMatch(new RegExp(`^v${cloud!.cluster.version.replace(".", "\\.")}\\.`));
    const validate = kubernetesValidator(JOB_SCHEMA);
    expect(validate(job)).toEqual([]);
    // The check can fail: a misspelt field and a missing container list.
    const broken = structuredClone(job);
    broken.spec.backOffLimit = 2;
    delete broken.spec.template.spec.containers;
    expect(validate(broken)).toEqual(expect.arrayContaining(["/spec: must NOT have additional properties (backOffLimit)", "/spec/template/spec: must have required property 'containers'"]));
  });

  const shared = sharedDataDir();
  describe.skipIf(!shared.available)(`against the Knative Service CRD${skipNote(shared)}`, () => {
    let synth: AddonsSynth;
    const schemaFile = () => path.join(shared.dir!, "crd-schemas", "serving.knative.dev", "Service_v1.json");
    beforeAll(() => (synth = synthesizeAddons()));

    it("is a valid Knative Service that declares only known fields", () => {
      expect(crdValidator(path.join(shared.dir!, "crd-schemas")).validate(service)).toEqual([]);
      expect(undeclaredFields(service, JSON.parse(readFileSync(schemaFile(), "utf8")))).toEqual([]);
    });

    it.each(["aws", "azure"] as const)("uses only Knative features the %s platform enables", (cloud) => {
      expect(FEATURE_DEFAULTS.chartVersion).toBe(CHARTS["knative-operator"].version);
      const needed = [...new Set(featureFlags(service, JSON.parse(readFileSync(schemaFile(), "utf8"))))];
      expect(needed).toContain("kubernetes.podspec-init-containers");
      const serving = manifestsOf(synth[cloud]).find((m) => m.kind === "KnativeServing");
      const features = { ...FEATURE_DEFAULTS.defaults, ...serving.spec.config.features };
      for (const flag of needed) expect(`${flag}: ${features[flag]}`).toBe(`${flag}: enabled`);
      // Off in Serving 1.23 unless the platform turns it on.
      expect(FEATURE_DEFAULTS.defaults["kubernetes.podspec-init-containers"]).toBe("disabled");
      expect(releaseValues(synth[cloud])["kube-prometheus-stack"]["kube-state-metrics"].metricLabelsAllowlist).toEqual([
        `jobs=[${MIGRATION_COMPONENT_LABEL.key}]`,
        `pods=[${MIGRATION_COMPONENT_LABEL.key}]`,
      ]);
    });
  });
});
