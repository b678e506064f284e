import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../config";
import { DEFAULT_FLUX_VERSION, FLUX_OPERATOR_DISTRIBUTIONS } from "../config/flux";
import { alertRuleGroups, RESOURCE_METRIC } from "../constructs/addons/alert-rules";
import { platformResourceState, WATCHED_RESOURCES } from "../constructs/addons/kube-state-metrics";
import { CHARTS } from "../constructs/addons/charts";
import { FLUX, FLUX_CONTROLLERS, OPERATOR_KEEP, fluxInstance } from "../constructs/addons/flux";
import { IN_CLUSTER } from "../constructs/contract";
import { manifestsOf, synthesizeAddons, type AddonsSynth } from "./addons-fixtures";
import { skipNote, sharedDataDir } from "./support/environment";
import { CrdValidator, crdValidator } from "./support/crd-schemas";
import { kindEnum, operatorPatchedNotificationValidator } from "./support/operator-crds";
import { configWith, resourcesOf, synthesize, type Synthesized } from "./support/synth";
import { problemOf } from "./support/config-problems";

/** The operator's facts at the pinned version (sources in the file). */
const upstream = JSON.parse(readFileSync(path.join(__dirname, "upstream", "flux-operator.json"), "utf8"));
const shared = sharedDataDir();

describe("the Flux Operator facts", () => {
  it("are read at the chart version the platform pins", () => {
    expect(CHARTS["flux-operator"]).toEqual({ repository: "oci://ghcr.io/controlplaneio-fluxcd/charts", chart: upstream.chart, version: upstream.chartVersion });
  });

  it("list the Flux releases config/flux.ts accepts, the default among them", () => {
    expect([...FLUX_OPERATOR_DISTRIBUTIONS]).toEqual(upstream.operator.distributions.versions);
    expect(FLUX_OPERATOR_DISTRIBUTIONS).toContain(DEFAULT_FLUX_VERSION);
    // The release the community chart installed: the move changes the installer, not Flux.
    expect(DEFAULT_FLUX_VERSION).toBe(upstream.distribution.version);
  });
});

describe("flux.version", () => {
  it("is one config change: the FluxInstance installs exactly the configured release", () => {
    expect((fluxInstance("2.8.7", { serviceAccountAnnotations: {}, podLabels: {} }).spec as any).distribution.version).toBe("2.8.7");
  });

  it.each([
    ["2.8.x", "an exact Flux release such as 2.8.5, not a range"],
    ["2.9.4", "not a Flux release the pinned Flux Operator installs (2.2.3 to 2.8.7, see config/flux.ts); a newer one needs a newer flux-operator chart in constructs/addons/charts.ts"],
    // Missing from the operator's embedded manifests.
    ["2.8.4", "not a Flux release the pinned Flux Operator installs (2.2.3 to 2.8.7, see config/flux.ts); a newer one needs a newer flux-operator chart in constructs/addons/charts.ts"],
  ])("refuses %s", (version, message) => {
    expect(problemOf((raw) => (raw.flux = { version }))).toEqual({ path: "flux.version", value: version, message });
  });

  it("defaults to the release installed before the operator when the config names none", () => {
    expect(() => problemOf((raw) => delete raw.flux)).toThrow("the configuration was accepted");
    expect(configWith((raw) => delete raw.flux)).not.toHaveProperty("flux");
  });
});

describe("the FluxInstance against the manifests the operator builds Flux from", () => {
  const instance = fluxInstance(DEFAULT_FLUX_VERSION, { serviceAccountAnnotations: { "azure.workload.identity/client-id": "id" }, podLabels: { "azure.workload.identity/use": "true" } }) as any;
  const patches: any[] = instance.spec.kustomize.patches;
  const controllers = upstream.distribution.controllers;

  it("installs exactly the controllers the platform uses, each a Deployment the distribution has", () => {
    expect(instance.spec.components).toEqual(Object.keys(controllers));
    expect(Object.keys(controllers)).toEqual([...FLUX_CONTROLLERS]);
  });

  it("targets only objects the distribution has, by the names it gives them", () => {
    for (const { target } of patches) {
      if (target.kind === "Deployment") expect(Object.keys(controllers), target.name).toContain(target.name);
      if (target.kind === "ServiceAccount") expect(Object.values(controllers).map((c: any) => c.serviceAccount)).toContain(target.name);
    }
  });

  it("replaces the resources of the manager container, the first and only one", () => {
    for (const entry of patches.filter((p) => p.patch.includes("/resources"))) {
      const [operation] = parse(entry.patch);
      expect(operation.path).toBe("/spec/template/spec/containers/0/resources");
      expect(controllers[entry.target.name].container).toBe("manager");
    }
  });

  it("keeps every CRD with the annotation the operator's uninstall and pruning skip", () => {
    expect(OPERATOR_KEEP).toEqual({ [upstream.operator.prune.annotation]: upstream.operator.prune.disabled });
    const crds = patches.filter((p) => p.target.kind === "CustomResourceDefinition");
    expect(crds).toHaveLength(1);
    // No name: every CRD the instance applies.
    expect(crds[0].target).toEqual({ kind: "CustomResourceDefinition" });
    expect(parse(crds[0].patch).metadata.annotations).toEqual(OPERATOR_KEEP);
  });
});

describe("the image reflector's workload identity", () => {
  let synth: Synthesized;
  beforeAll(() => (synth = synthesize()));
  afterAll(() => synth.cleanup());

  const reflector = upstream.distribution.controllers["image-reflector-controller"];

  it("is granted to the service account the operator creates for the controller", () => {
    expect(IN_CLUSTER.flux.imageReflectorServiceAccount).toBe(reflector.serviceAccount);
    expect(IN_CLUSTER.flux.namespace).toBe(FLUX.namespace);
  });

  it("on AWS: Pod Identity associates the registry role with that account by name", () => {
    const associations = Object.values(resourcesOf(synth.stack("aws-platform"), "aws_eks_pod_identity_association")).filter((a) => a.namespace === FLUX.namespace);
    expect(associations.map((a) => a.service_account)).toEqual([reflector.serviceAccount]);
  });

  it("on Azure: the federated credential trusts that account, and the patches annotate it and label its pods", () => {
    const credentials = Object.values(resourcesOf(synth.stack("azure-platform"), "azurerm_federated_identity_credential")).filter((c) => c.subject.includes(`:${FLUX.namespace}:`));
    expect(credentials.map((c) => c.subject)).toEqual([`system:serviceaccount:${FLUX.namespace}:${reflector.serviceAccount}`]);
    const instance = manifestsOf(synth.stack("azure-addons")).find((m) => m.kind === "FluxInstance");
    const patches: any[] = instance.spec.kustomize.patches;
    const account = parse(patches.find((p) => p.target.kind === "ServiceAccount" && p.target.name === reflector.serviceAccount).patch);
    expect(Object.keys(account.metadata.annotations)).toEqual(["azure.workload.identity/client-id"]);
    // The client id of the identity the credential belongs to, from the platform stack.
    expect(account.metadata.annotations["azure.workload.identity/client-id"]).toMatch(/^\$\{data\.terraform_remote_state\.[\w-]+\.outputs\.[\w-]+flux-image-reflector_identity_\w+client_id\}$/);
    const deployment = patches.find((p) => p.target.kind === "Deployment" && p.target.name === "image-reflector-controller" && !p.patch.includes("/resources"));
    expect(parse(deployment.patch).spec.template.metadata.labels).toEqual({ "azure.workload.identity/use": "true" });
  });
});

describe("the Flux PodMonitors against the pods upstream runs", () => {
  let synth: AddonsSynth;
  beforeAll(() => (synth = synthesizeAddons()));

  const monitor = (name: string) => manifestsOf(synth.aws).find((m) => m.kind === "PodMonitor" && m.metadata.name === name);

  it("select every controller by its app label, on its metrics port", () => {
    const controllers = monitor("flux-controllers");
    expect(controllers.spec.namespaceSelector.matchNames).toEqual([FLUX.namespace]);
    const [expression] = controllers.spec.selector.matchExpressions;
    expect(expression).toMatchObject({ key: "app", operator: "In" });
    for (const [name, facts] of Object.entries<any>(upstream.distribution.controllers)) {
      expect(expression.values, name).toContain(facts.podLabels.app);
      expect(facts.containerPorts, name).toContain(controllers.spec.podMetricsEndpoints[0].port);
    }
  });

  it("select the operator by its chart's labels, on its metrics port, which Flux's network policy lets Prometheus reach", () => {
    const operator = monitor("flux-operator");
    expect(upstream.chartFacts.podLabels).toMatchObject(operator.spec.selector.matchLabels);
    expect(upstream.chartFacts.containerPorts).toContain(operator.spec.podMetricsEndpoints[0].port);
    expect(upstream.chartFacts.metricsPort).toBe(upstream.distribution.networkPolicies.scrapePort);
  });
});

describe("the FluxInstance ready check against the operator's CLI", () => {
  const objects = (fluxInstanceReady: any[]) => Object.fromEntries(fluxInstanceReady.map((m) => [m.kind, m]));
  let synth: AddonsSynth;
  beforeAll(() => (synth = synthesizeAddons()));

  it("runs the CLI released with the operator, waiting for the one instance, with the one verb the wait uses", () => {
    const { Job: job, Role: role } = objects(manifestsOf(synth.aws).filter((m) => m.metadata.name === "flux-instance-ready"));
    const container = job.spec.template.spec.containers[0];
    expect(container.image).toBe(`${upstream.operator.waitCommand.image}:v${upstream.chartVersion}`);
    expect(container.args.slice(0, 3)).toEqual([...upstream.operator.waitCommand.args, FLUX.instance]);
    expect(role.rules.flatMap((rule: any) => rule.verbs)).toEqual(upstream.operator.waitCommand.verbs);
  });
});

describe("what later features build on", () => {
  it("names the notification-controller's Services as the distribution does", () => {
    expect(upstream.distribution.services[FLUX.webhookReceiver.service]).toMatchObject({ port: FLUX.webhookReceiver.port, targetPort: "http-webhook" });
    expect(upstream.distribution.services[FLUX.notification.service]).toMatchObject({ port: FLUX.notification.port });
  });
});

/**
 * Pull-request previews will point Receivers and Alerts at ResourceSets and
 * ResourceSetInputProviders. The notification CRDs as Flux ships them (and
 * as the community chart installed them) refuse those kinds; the operator
 * patches them in. The shared schemas are the unpatched upstream ones; the
 * operator's patch is applied to a copy, as its template writes it.
 */
describe.skipIf(!shared.available)(`Receiver and Alert kinds for previews${skipNote(shared)}`, () => {
  const patchFacts = upstream.operator.notificationPatch;
  let patched: CrdValidator;
  let unpatched: CrdValidator;
  let dispose: () => void;

  beforeAll(() => {
    const source = path.join(shared.dir!, "crd-schemas");
    ({ validator: patched, dispose } = operatorPatchedNotificationValidator(source));
    unpatched = crdValidator(source);
  });
  afterAll(() => dispose());

  it("the operator's patch addresses a kind enum in every version it names", () => {
    for (const [crd, target] of Object.entries<any>(patchFacts.targets)) {
      for (const index of target.versionIndexes) {
        const version = upstream.distribution.crdVersionOrder[crd][index];
        const schema = JSON.parse(readFileSync(path.join(shared.dir!, "crd-schemas", "notification.toolkit.fluxcd.io", `${target.kind}_${version}.json`), "utf8"));
        expect(kindEnum(schema, target.field), `${crd} ${version}`).toEqual(expect.arrayContaining(["GitRepository", "Kustomization"]));
        expect(kindEnum(schema, target.field), `${crd} ${version}`).not.toContain("ResourceSet");
      }
    }
    // Flux 2.8's CRDs have two versions each, both patched.
    expect(DEFAULT_FLUX_VERSION.split(".").slice(0, 2)).toEqual(["2", "8"]);
  });

  const receiver = (apiVersion: string) => ({
    apiVersion,
    kind: "Receiver",
    metadata: { name: "previews", namespace: FLUX.namespace },
    spec: {
      type: "github",
      events: ["pull_request"],
      secretRef: { name: "webhook-token" },
      resources: [{ kind: "ResourceSetInputProvider", name: "pull-requests" }],
    },
  });
  const alert = (apiVersion: string) => ({
    apiVersion,
    kind: "Alert",
    metadata: { name: "previews", namespace: FLUX.namespace },
    spec: {
      providerRef: { name: "github-status" },
      eventSources: [
        { kind: "ResourceSet", name: "previews" },
        { kind: "ResourceSetInputProvider", name: "pull-requests" },
        { kind: "FluxInstance", name: FLUX.instance },
      ],
    },
  });

  it.each(["notification.toolkit.fluxcd.io/v1", "notification.toolkit.fluxcd.io/v1beta2"])("a %s Receiver of a ResourceSetInputProvider: refused as Flux ships the CRD, accepted once the operator patches it", (apiVersion) => {
    expect(unpatched.validate(receiver(apiVersion))).toEqual([expect.stringMatching(/^\/spec\/resources\/0\/kind: must be equal to one of the allowed values$/)]);
    expect(patched.validate(receiver(apiVersion))).toEqual([]);
  });

  it.each(["notification.toolkit.fluxcd.io/v1beta3", "notification.toolkit.fluxcd.io/v1beta2"])("a %s Alert on ResourceSets: refused as Flux ships the CRD, accepted once the operator patches it", (apiVersion) => {
    expect(unpatched.validate(alert(apiVersion))).toEqual([0, 1, 2].map((i) => `/spec/eventSources/${i}/kind: must be equal to one of the allowed values`));
    expect(patched.validate(alert(apiVersion))).toEqual([]);
  });

  it("still refuses a kind nobody added", () => {
    const other = alert("notification.toolkit.fluxcd.io/v1beta3");
    other.spec.eventSources = [{ kind: "Deployment", name: "web" }];
    expect(patched.validate(other)).toEqual(["/spec/eventSources/0/kind: must be equal to one of the allowed values"]);
  });
});

describe.skipIf(!shared.available)(`the FluxInstance against the operator's CRD${skipNote(shared)}`, () => {
  it.each([
    ["with a workload identity", { serviceAccountAnnotations: { "azure.workload.identity/client-id": "id" }, podLabels: { "azure.workload.identity/use": "true" } }],
    ["without one", { serviceAccountAnnotations: {}, podLabels: {} }],
  ])("is valid %s", (_, identity) => {
    const validator = crdValidator(path.join(shared.dir!, "crd-schemas"));
    expect(validator.validate(fluxInstance(DEFAULT_FLUX_VERSION, identity))).toEqual([]);
    // The shared schema is v0.58.1's, which adds a rule on sharding only: the pinned v0.49.0 accepts the same instance.
    expect((fluxInstance(DEFAULT_FLUX_VERSION, identity).spec as any).sharding).toBeUndefined();
    const broken = fluxInstance(DEFAULT_FLUX_VERSION, identity) as any;
    broken.spec.components = [...broken.spec.components, "image-automation"];
    delete broken.spec.distribution.registry;
    expect(validator.validate(broken)).toEqual(["/spec/components/6: must be equal to one of the allowed values", "/spec/distribution: must have required property 'registry'"]);
  });
});

/**
 * Every alert about Flux reads `platform_resource_info`, which
 * kube-state-metrics publishes only for the kinds its custom-resource
 * configuration lists, and only where those kinds are served.
 */
describe.skipIf(!shared.available)(`every Flux health alert has a metric behind it${skipNote(shared)}`, () => {
  const config = loadConfig();
  const rules = alertRuleGroups({ environments: config.environments, node: config.alerts.node }).flatMap((group) => group.rules);
  const fluxRules = rules.filter((rule) => rule.alert.startsWith("Flux"));
  const state = platformResourceState() as any;
  const published = state.customResourceState.config.spec.resources.map((r: any) => r.groupVersionKind);

  /** The `customresource_group` regex and `customresource_kind` a rule selects, unescaped from PromQL. */
  const selection = (expr: string) => {
    const group = /customresource_group=~"((?:[^"\\]|\\.)*)"/.exec(expr)?.[1];
    const kind = /customresource_kind="([^"]*)"/.exec(expr)?.[1];
    return { group: group === undefined ? undefined : new RegExp(`^(?:${group.replace(/\\\\/g, "\\")})$`), kind };
  };
  const selected = (expr: string) => {
    const { group, kind } = selection(expr);
    return published.filter((gvk: any) => group?.test(gvk.group) && (kind === undefined || gvk.kind === kind));
  };

  it("covers the Flux objects and the FluxInstance", () => {
    expect(fluxRules.map((rule) => rule.alert).sort()).toEqual(["FluxInstanceNotReady", "FluxResourceNotReady"]);
  });

  it.each(["FluxResourceNotReady", "FluxInstanceNotReady"])("%s selects kinds kube-state-metrics publishes, may list and the CRDs serve", (alert) => {
    const rule = fluxRules.find((r) => r.alert === alert)!;
    expect(rule.expr).toContain(`${RESOURCE_METRIC}{`);
    const kinds = selected(rule.expr);
    expect(kinds.length, alert).toBeGreaterThan(0);
    for (const gvk of kinds) {
      const listed = state.rbac.extraRules.find((r: any) => r.apiGroups.includes(gvk.group));
      const plural = WATCHED_RESOURCES.find((w) => w.kind === gvk.kind && w.group === gvk.group)!.plural;
      expect(listed?.resources, `${gvk.group} ${gvk.kind}`).toContain(plural);
      expect(existsSync(path.join(shared.dir!, "crd-schemas", gvk.group, `${gvk.kind}_${gvk.version}.json`)), `${gvk.group}/${gvk.version} ${gvk.kind}`).toBe(true);
    }
  });

  it("leaves no published Flux kind without an alert", () => {
    const flux = published.filter((gvk: any) => /fluxcd\.(io|controlplane\.io)$/.test(gvk.group));
    const covered = new Set(fluxRules.flatMap((rule) => selected(rule.expr)));
    expect(flux.filter((gvk: any) => !covered.has(gvk))).toEqual([]);
    expect(flux.map((gvk: any) => gvk.kind)).toContain("FluxInstance");
  });

  it("would notice an alert on a kind nobody publishes", () => {
    expect(selected(`${RESOURCE_METRIC}{customresource_group=~"fluxcd\\\\.controlplane\\\\.io", customresource_kind="ResourceSet", ready="False"} == 1`)).toEqual([]);
  });
});

describe("the Flux releases' values", () => {
  let synth: AddonsSynth;
  beforeAll(() => (synth = synthesizeAddons()));

  it("are plain YAML, without anchors or aliases", () => {
    for (const release of Object.values<any>(synth.aws.resource!.helm_release).filter((r) => r.name.startsWith("flux"))) {
      expect(release.values[0], release.name).not.toMatch(/(^|\s)[&*]a\d+\b/m);
    }
  });
});
