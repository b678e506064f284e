import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { watchdogSinkReceiver } from "../constructs/addons/watchdog-sink";
import { IN_CLUSTER } from "../constructs/contract";
import { synthesizeAddons, type AddonsSynth } from "./addons-fixtures";
import type { TerraformJson } from "./support/synth";

const root = path.join(__dirname, "..");
const addonSources = [
  ...readdirSync(path.join(root, "constructs", "addons"))
    .filter((file) => file.endsWith(".ts"))
    .map((file) => path.join("constructs", "addons", file)),
  path.join("stacks", "addons-stack.ts"),
];

/** Lines of a source file that decide by cloud. */
function cloudBranches(source: string): string[] {
  const rules = [
    /["'`](aws|azure|gcp)["'`]/i, // a cloud named as a value
    /\bcloud\s*(===|!==|==|!=)/, // a comparison of the cloud label
    /(===|!==|==|!=)\s*[\w.]*\bcloud\b/,
    /switch\s*\([^)]*\bcloud\b/,
    /from\s+["'][^"']*\/(aws|azure)\//, // an import of one cloud's constructs
  ];
  return source.split("\n").filter((line) => rules.some((rule) => rule.test(line)));
}

describe("add-on source code", () => {
  it("covers every add-on file", () => {
    expect(addonSources.length).toBeGreaterThanOrEqual(8);
  });

  it.each(addonSources)("%s does not branch on the cloud", (file) => {
    expect(cloudBranches(readFileSync(path.join(root, file), "utf8"))).toEqual([]);
  });

  it("recognizes the branches it forbids", () => {
    expect(cloudBranches(['if (platform.cloud === "aws") {', "const x = cloud !== other;", 'import { X } from "../aws/x";', "switch (props.cloud) {"].join("\n"))).toHaveLength(4);
    expect(cloudBranches('const overlay = `${release}.${cloud}.yaml`;')).toEqual([]);
  });
});

/** Paths (with the contract field that explains them) where two stacks differ. */
interface Comparison {
  readonly explained: string[];
  readonly unexplained: string[];
}

/** Every path in a contract at which a value sits, by that value. */
function contractPaths(contract: unknown): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const walk = (node: unknown, at: string) => {
    out.push([at, node]);
    if (node !== null && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) walk(value, at ? `${at}.${key}` : key);
    }
  };
  walk(contract, "");
  return out.filter(([at]) => at !== "");
}

/**
 * Compares two add-on stacks. Wherever they differ, the value on each side
 * must be one and the same field of that side's contract (an exec command, a
 * secret store provider, an identity's annotations); anything else is a
 * difference the add-on code made up on its own.
 */
function compareThroughContracts(a: unknown, aContract: unknown, b: unknown, bContract: unknown): Comparison {
  const aFields = contractPaths(aContract);
  const bFields = contractPaths(bContract);
  const fieldsEqualTo = (fields: Array<[string, unknown]>, value: unknown) => fields.filter(([, v]) => isDeepStrictEqual(v, value)).map(([at]) => at);
  const explained: string[] = [];
  const unexplained: string[] = [];
  const walk = (x: unknown, y: unknown, at: string) => {
    if (isDeepStrictEqual(x, y)) return;
    const shared = fieldsEqualTo(aFields, x).filter((field) => fieldsEqualTo(bFields, y).includes(field));
    if (shared.length > 0) {
      explained.push(`${at} <- ${shared.join(" | ")}`);
      return;
    }
    const bothObjects = x !== null && y !== null && typeof x === "object" && typeof y === "object" && Array.isArray(x) === Array.isArray(y);
    // A contract list at the head of a longer list (the provider's flags, then the add-on's own).
    if (bothObjects && Array.isArray(x) && Array.isArray(y)) {
      const heads = aFields.filter(([field, value]) => {
        const other = bFields.find(([f]) => f === field)?.[1];
        return Array.isArray(value) && Array.isArray(other) && isDeepStrictEqual(x.slice(0, value.length), value) && isDeepStrictEqual(y.slice(0, other.length), other);
      });
      const [head] = heads.filter(([, value]) => (value as unknown[]).length > 0);
      if (head && x.length !== y.length) {
        const other = bFields.find(([f]) => f === head[0])![1] as unknown[];
        explained.push(`${at}[0..] <- ${head[0]}`);
        walk(x.slice((head[1] as unknown[]).length), y.slice(other.length), `${at}[${head[0]}..]`);
        return;
      }
    }
    // A contract map spread into an object: the entries that differ are that map's on each side.
    if (bothObjects && !Array.isArray(x)) {
      const differing = [...new Set([...Object.keys(x as object), ...Object.keys(y as object)])].filter((key) => !isDeepStrictEqual((x as any)[key], (y as any)[key]));
      const pick = (node: any) => Object.fromEntries(differing.filter((key) => key in node).map((key) => [key, node[key]]));
      const spread = fieldsEqualTo(aFields, pick(x)).filter((field) => fieldsEqualTo(bFields, pick(y)).includes(field) && Object.keys(pick(x)).length + Object.keys(pick(y)).length > 0);
      if (spread.length > 0 && differing.some((key) => !(key in (x as object)) || !(key in (y as object)))) {
        explained.push(`${at}{${differing.join(",")}} <- ${spread.join(" | ")}`);
        return;
      }
    }
    if (!bothObjects || (Array.isArray(x) && (x as unknown[]).length !== (y as unknown[]).length)) {
      unexplained.push(`${at}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
      return;
    }
    const keys = new Set([...Object.keys(x as object), ...Object.keys(y as object)]);
    for (const key of keys) walk((x as any)[key], (y as any)[key], `${at}/${key}`);
  };
  walk(a, b, "");
  return { explained, unexplained };
}

/**
 * The parts of a stack the add-on code writes, with Helm values parsed. The
 * backend and the remote-state reads are the deployment's plumbing, and a
 * storage class exists exactly when the contract names a provisioner; both
 * are checked on their own.
 */
function addonContent(stack: TerraformJson, contract: any): unknown {
  const copy = structuredClone(stack) as any;
  const dropped = new Set<string>();
  for (const [id, storageClass] of Object.entries<any>(copy.resource?.kubernetes_storage_class_v1 ?? {})) {
    if (storageClass.storage_provisioner === contract.storageClass.provisioner && storageClass.metadata.name === contract.storageClass.name) {
      delete copy.resource.kubernetes_storage_class_v1[id];
      dropped.add(`kubernetes_storage_class_v1.${id}`);
    }
  }
  if (copy.resource?.kubernetes_storage_class_v1 && Object.keys(copy.resource.kubernetes_storage_class_v1).length === 0) {
    delete copy.resource.kubernetes_storage_class_v1;
  }
  // Capacity releases exist exactly when the contract asks for them: the node
  // autoscaler it describes (CRD chart, controller, pools), metrics-server
  // where the cloud serves no resource metrics.
  const capacity = contract.capacity;
  const autoscaler = capacity.nodeAutoscaler;
  const asked = (release: any): boolean =>
    (autoscaler !== undefined &&
      ((release.name === autoscaler.releaseName && release.chart === autoscaler.chart) ||
        (release.name === `${autoscaler.releaseName}-crd` && release.chart === autoscaler.crdChart) ||
        (release.name === `${autoscaler.releaseName}-node-pools` && isDeepStrictEqual(parse(release.values[0]).manifests, autoscaler.manifests)))) ||
    (!capacity.resourceMetricsBuiltIn && release.name === "metrics-server") ||
    // The Watchdog's sink exists exactly when the contract reads it from the container logs.
    (contract.alertHeartbeat?.containerLog === true && release.name === IN_CLUSTER.watchdogSink.name);
  for (const [id, release] of Object.entries<any>(copy.resource?.helm_release ?? {})) {
    if (asked(release)) {
      delete copy.resource.helm_release[id];
      dropped.add(`helm_release.${id}`);
    }
  }
  const strip = (node: any): any => {
    if (Array.isArray(node)) return node.filter((item) => !dropped.has(item)).map(strip);
    if (node === null || typeof node !== "object") return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key]) => key !== "//")
        .map(([key, value]) => [key, strip(value)] as const)
        // A dependency only on dropped releases leaves nothing to compare.
        .filter(([key, value]) => !(key === "depends_on" && Array.isArray(value) && value.length === 0)),
    );
  };
  for (const release of Object.values<any>(copy.resource?.helm_release ?? {})) {
    release.values = release.values.map((text: string) => parse(text));
    // A FluxInstance's kustomize patches are YAML documents in strings.
    for (const manifest of release.values[0]?.manifests ?? []) {
      if (manifest.kind !== "FluxInstance") continue;
      for (const entry of manifest.spec.kustomize?.patches ?? []) entry.patch = parse(entry.patch);
    }
  }
  // Likewise the Watchdog's receiver exists exactly when the contract names a
  // heartbeat, and is the contract's receiver word for word, or the sink's.
  for (const release of Object.values<any>(copy.resource?.helm_release ?? {})) {
    const config = release.values[0]?.alertmanager?.config;
    if (!config || !contract.alertHeartbeat) continue;
    const { name: _, ...receiver } = config.receivers.find((r: any) => r.name === "heartbeat");
    const expected = contract.alertHeartbeat.receiver ?? (contract.alertHeartbeat.containerLog ? watchdogSinkReceiver() : undefined);
    if (!isDeepStrictEqual(receiver, expected)) continue;
    config.receivers = config.receivers.filter((r: any) => r.name !== "heartbeat");
    for (const route of config.route.routes) if (route.receiver === "heartbeat") route.receiver = "null";
  }
  return { provider: strip(copy.provider), resource: strip(copy.resource), requiredProviders: copy.terraform.required_providers };
}

describe("aws-addons and azure-addons", () => {
  let synth: AddonsSynth;
  let comparison: Comparison;

  beforeAll(() => {
    synth = synthesizeAddons();
    comparison = compareThroughContracts(addonContent(synth.aws, synth.awsContract), synth.awsContract, addonContent(synth.azure, synth.azureContract), synth.azureContract);
  });
  afterAll(() => synth.cleanup());

  it("differ only in values their contracts give them", () => {
    expect(comparison.unexplained).toEqual([]);
  });

  it("do differ, where the contracts differ", () => {
    const fields = comparison.explained.map((line) => line.split(" <- ")[1]);
    for (const field of ["cluster.exec.command", "cluster.exec.args", "cluster.host", "storageClass.name", "clusterSecretStore", "identities.fluxImageReflector.podLabels", "identities.fluxImageReflector.serviceAccountAnnotations", "identities.externalSecrets.serviceAccountAnnotations", "logStore.objectStore", "logStore.identity.podLabels", "dns.externalDns.args", "ingressGateway.loadBalancerAnnotations"]) {
      expect(fields.some((explained) => explained.split(" | ").includes(field)), field).toBe(true);
    }
  });

  it("differ by the storage class resource only because one contract names a provisioner", () => {
    expect(Object.keys(synth.aws.resource?.kubernetes_storage_class_v1 ?? {})).toHaveLength(1);
    expect((synth.awsContract as any).storageClass.provisioner).toBe("ebs.csi.aws.com");
    expect((synth.azureContract as any).storageClass.provisioner).toBeUndefined();
  });

  it("differ by the capacity releases only because one contract asks for a node autoscaler and metrics-server", () => {
    const names = (stack: TerraformJson) => Object.values<any>(stack.resource?.helm_release ?? {}).map((r) => r.name);
    expect(names(synth.aws)).toEqual(expect.arrayContaining(["karpenter-crd", "karpenter", "karpenter-node-pools", "metrics-server"]));
    expect((synth.awsContract as any).capacity).toMatchObject({ nodeAutoscaler: { chart: "karpenter", crdChart: "karpenter-crd" }, resourceMetricsBuiltIn: false });
    expect(names(synth.azure).filter((name) => name.startsWith("karpenter") || name === "metrics-server")).toEqual([]);
    expect((synth.azureContract as any).capacity).toEqual({ resourceMetricsBuiltIn: true });
  });

  it("would report a setting that does not come from the contract", () => {
    const tampered = structuredClone(synth.azure) as any;
    const flux = Object.values<any>(tampered.resource.helm_release).find((r) => r.name === "flux");
    flux.timeout = 1200;
    flux.values = [flux.values[0].replace("multitenancy:\n  enabled: true", "multitenancy:\n  enabled: false")];
    const result = compareThroughContracts(addonContent(synth.aws, synth.awsContract), synth.awsContract, addonContent(tampered, synth.azureContract), synth.azureContract);
    expect(result.unexplained).toEqual([
      expect.stringMatching(/^\/resource\/helm_release\/flux_release_\w+\/timeout: 600 vs 1200$/),
      expect.stringMatching(/^\/resource\/helm_release\/flux_release_\w+\/values\/0\/multitenancy\/enabled: true vs false$/),
    ]);
  });
});

describe("what every add-on takes", () => {
  const dir = path.join(__dirname, "..", "constructs", "addons");
  const files = readdirSync(dir).filter((file) => file.endsWith(".ts") && file !== "helm-addon.ts");

  /** Props of an add-on that restate a setting AddonOptions declares once, or pass it on by hand. */
  const restated = (source: string): string[] => [
    ...[...source.matchAll(/^\s+readonly (cloud|valuesDir)\??:/gm)].map((match) => `declares ${match[1]}`),
    ...[...source.matchAll(/\b(cloud|valuesDir): props\.\1\b/g)].map((match) => `passes ${match[1]} by hand`),
  ];

  it.each(files)("%s takes cloud and values directory from AddonOptions, and hands them on with addonBase", (file) => {
    expect(restated(readFileSync(path.join(dir, file), "utf8"))).toEqual([]);
  });

  it("catches a props type that declares its own cloud", () => {
    expect(restated("export interface P extends AddonOptions {\n  readonly cloud: string;\n}\nnew HelmAddon(this, 'x', { cloud: props.cloud });")).toEqual(["declares cloud", "passes cloud by hand"]);
  });
});
