import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, TerraformLocal, TerraformStack } from "cdktf";
import { parse } from "yaml";
import { EXAMPLE_CONFIG_PATH, loadConfig, type PlatformConfig } from "../config";
import { IN_CLUSTER, type ClusterPlatform } from "../constructs/contract";
import { AddonsStack } from "../stacks/addons-stack";
import { buildAws } from "../stacks/aws";
import { buildAzure } from "../stacks/azure";
import type { TerraformJson } from "./support/synth";

/**
 * A hand-made platform with Azure-shaped contract values (kubelogin exec
 * credentials, the built-in managed-csi class, Key Vault as the secret store,
 * the workload identity webhook's annotation and label), for tests of the
 * add-ons stack on its own, without a platform stack behind it.
 */
export const azureShapedPlatform: ClusterPlatform = {
  cloud: "azure",
  cluster: {
    name: "acme-platform",
    host: "https://acme-platform-4f1c2d.hcp.westeurope.azmk8s.io:443",
    clusterCaCertificate: "-----BEGIN CERTIFICATE-----\nMIIBfixture\n-----END CERTIFICATE-----\n",
    exec: {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "kubelogin",
      args: ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"],
    },
  },
  storageClass: { name: "managed-csi" },
  registry: {
    loginServer: "acmeplatformacr.azurecr.io",
    repositories: { web: "acmeplatformacr.azurecr.io/web", api: "acmeplatformacr.azurecr.io/api" },
    fluxProvider: "azure",
    webhookReceiver: "acr",
  },
  identities: {
    fluxImageReflector: {
      serviceAccountAnnotations: { "azure.workload.identity/client-id": "00000000-0000-4000-8000-0000000000f1" },
      podLabels: { "azure.workload.identity/use": "true" },
    },
    externalSecrets: {
      serviceAccountAnnotations: { "azure.workload.identity/client-id": "00000000-0000-4000-8000-0000000000e5" },
      podLabels: { "azure.workload.identity/use": "true" },
    },
  },
  clusterSecretStore: {
    azurekv: {
      authType: "WorkloadIdentity",
      vaultUrl: "https://acme-platform-kv.vault.azure.net/",
      serviceAccountRef: { name: IN_CLUSTER.externalSecrets.serviceAccount, namespace: IN_CLUSTER.externalSecrets.namespace },
    },
  },
  capacity: { resourceMetricsBuiltIn: true },
  logStore: {
    objectStore: "azure",
    lokiStorage: {
      type: "azure",
      bucketNames: { chunks: "loki", ruler: "loki", admin: "loki" },
      azure: { accountName: "acmeplatformlogs", useFederatedToken: true },
    },
    identity: {
      serviceAccountAnnotations: { "azure.workload.identity/client-id": "00000000-0000-4000-8000-00000000010a" },
      podLabels: { "azure.workload.identity/use": "true" },
    },
  },
  ingressGateway: { loadBalancerAnnotations: {} },
  dns: {
    zoneName: "apps.example.com",
    externalDns: {
      provider: "azure",
      args: ["--azure-config-file=/etc/external-dns/azure.json"],
      env: [],
      ownerId: "aks/westeurope/acme-platform",
      configFiles: { "azure.json": '{"tenantId":"00000000-0000-4000-8000-0000000000a1","subscriptionId":"00000000-0000-4000-8000-0000000000a2","resourceGroup":"acme-platform","useWorkloadIdentityExtension":true}' },
      identity: {
        serviceAccountAnnotations: { "azure.workload.identity/client-id": "00000000-0000-4000-8000-0000000000d5" },
        podLabels: { "azure.workload.identity/use": "true" },
      },
    },
    certManager: {
      dns01: {
        azureDNS: {
          subscriptionID: "00000000-0000-4000-8000-0000000000a2",
          resourceGroupName: "acme-platform",
          hostedZoneName: "apps.example.com",
          environment: "AzurePublicCloud",
          managedIdentity: { clientID: "00000000-0000-4000-8000-0000000000c3" },
        },
      },
      identity: {
        serviceAccountAnnotations: { "azure.workload.identity/client-id": "00000000-0000-4000-8000-0000000000c3" },
        podLabels: { "azure.workload.identity/use": "true" },
      },
    },
  },
};

export interface AddonsSynth {
  readonly aws: TerraformJson;
  readonly azure: TerraformJson;
  /** Each platform's contract values, resolved as its add-ons stack sees them. */
  readonly awsContract: any;
  readonly azureContract: any;
  cleanup(): void;
}

/**
 * aws-addons and azure-addons on the real platform stacks, synthesized in
 * one app, with each platform's contract resolved beside them.
 */
export function synthesizeAddons(config: PlatformConfig = loadConfig(EXAMPLE_CONFIG_PATH)): AddonsSynth {
  // Test files share a worker's modules: each configuration is synthesized once per worker.
  const key = JSON.stringify(config);
  const known = addonsSynths.get(key);
  if (known) return known;
  const outdir = mkdtempSync(path.join(tmpdir(), "addons-synth-"));
  process.once("exit", () => rmSync(outdir, { recursive: true, force: true }));
  const app = new App({ outdir, skipValidation: false });
  const deployments = [buildAws(app, config, config.clouds.aws!), buildAzure(app, config, config.clouds.azure!)];
  for (const deployment of deployments) {
    new AddonsStack(app, `${deployment.cloud}-addons`, { config, platform: deployment.platform, useState: deployment.useState });
    // The contract resolved in a stack of its own: cross-stack references
    // resolve to the same remote-state reads in every consuming stack.
    const probe = new TerraformStack(app, `${deployment.cloud}-contract`);
    new TerraformLocal(probe, "contract", contractOf(deployment.platform));
  }
  app.synth();
  const read = (id: string): TerraformJson => JSON.parse(readFileSync(path.join(outdir, "stacks", id, "cdk.tf.json"), "utf8"));
  const result: AddonsSynth = {
    aws: read("aws-addons"),
    azure: read("azure-addons"),
    awsContract: read("aws-contract").locals?.contract,
    azureContract: read("azure-contract").locals?.contract,
    // Shared by every test file of the worker: removed when the worker exits.
    cleanup: () => undefined,
  };
  addonsSynths.set(key, result);
  return result;
}

const addonsSynths = new Map<string, AddonsSynth>();

/** The contract's values as plain data. */
export function contractOf(platform: ClusterPlatform): Record<string, unknown> {
  return {
    cloud: platform.cloud,
    cluster: platform.cluster,
    storageClass: platform.storageClass,
    registry: platform.registry,
    identities: platform.identities,
    clusterSecretStore: platform.clusterSecretStore,
    capacity: platform.capacity,
    logStore: platform.logStore,
    dns: platform.dns,
    ingressGateway: platform.ingressGateway,
    alertHeartbeat: platform.alertHeartbeat,
    ci: platform.ci,
    registryWebhooks: platform.registryWebhooks,
  };
}

/** Charts the add-ons install only where the platform's capacity slot asks for them (EKS, not AKS). */
export const CAPACITY_CHARTS: readonly string[] = ["karpenter", "karpenter-crd", "metrics-server"];

/**
 * Charts only a tools cluster installs (__tests__/tools-cluster.test.ts):
 * the default program has none, and their upstream data is a fixture in
 * __tests__/upstream rather than the shared charts.
 */
export const TOOLS_CHARTS: readonly string[] = ["gha-runner-scale-set-controller", "gha-runner-scale-set", "grafana"];

/** Parsed values of every helm_release, by release name. */
export function releaseValues(stack: TerraformJson): Record<string, any> {
  const releases = Object.values(stack.resource?.helm_release ?? {});
  return Object.fromEntries(releases.map((release: any) => [release.name, parse(release.values[0])]));
}

/** The helm_release with this release name. */
export function release(stack: TerraformJson, name: string): any {
  const found = Object.values(stack.resource?.helm_release ?? {}).filter((r: any) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one helm_release named ${name}, found ${found.length}`);
  return found[0];
}

/** Every Kubernetes object applied through the local manifests chart. */
export function manifestsOf(stack: TerraformJson): any[] {
  return Object.values(stack.resource?.helm_release ?? {})
    .filter((r: any) => String(r.chart).startsWith("./assets/"))
    .flatMap((r: any) => parse(r.values[0]).manifests);
}
