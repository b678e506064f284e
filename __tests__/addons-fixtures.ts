import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, TerraformLocal, TerraformStack } from "cdktf";
import { parse } from "yaml";
import { loadConfig, type PlatformConfig } from "../config";
import { IN_CLUSTER, type ClusterPlatform } from "../constructs/contract";
import { AddonsStack } from "../stacks/addons-stack";
import { buildAws } from "../stacks/aws";
import type { TerraformJson } from "./support/synth";

/**
 * A platform with Azure-shaped contract values: kubelogin exec credentials,
 * the built-in managed-csi class, Key Vault as the secret store and the
 * workload identity webhook's annotation and label.
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
  podCidrs: ["10.244.0.0/16", "10.50.0.0/18"],
};

export interface AddonsSynth {
  readonly aws: TerraformJson;
  readonly azure: TerraformJson;
  readonly awsStack: AddonsStack;
  readonly azureStack: AddonsStack;
  /** The AWS platform's contract values, resolved as the aws-addons stack sees them. */
  readonly awsContract: unknown;
  readonly azureContract: unknown;
  cleanup(): void;
}

/**
 * aws-addons on the real AWS platform stack and azure-addons on the
 * Azure-shaped contract, synthesized in one app from the default config.
 */
export function synthesizeAddons(config: PlatformConfig = loadConfig(), azurePlatform: ClusterPlatform = azureShapedPlatform): AddonsSynth {
  const outdir = mkdtempSync(path.join(tmpdir(), "addons-synth-"));
  const app = new App({ outdir, skipValidation: false });
  const aws = buildAws(app, config, config.clouds.aws!);
  const awsStack = new AddonsStack(app, "aws-addons", { config, platform: aws.platform, useState: aws.useState });
  const azureStack = new AddonsStack(app, "azure-addons", { config, platform: azurePlatform });
  // Each contract resolved in a stack of its own: cross-stack references
  // resolve to the same remote-state reads in every consuming stack.
  for (const [cloud, platform] of [["aws", aws.platform], ["azure", azurePlatform]] as const) {
    const probe = new TerraformStack(app, `${cloud}-contract`);
    new TerraformLocal(probe, "contract", contractOf(platform));
  }
  app.synth();
  const read = (id: string): TerraformJson => JSON.parse(readFileSync(path.join(outdir, "stacks", id, "cdk.tf.json"), "utf8"));
  return {
    aws: read("aws-addons"),
    azure: read("azure-addons"),
    awsStack,
    azureStack,
    awsContract: read("aws-contract").locals?.contract,
    azureContract: read("azure-contract").locals?.contract,
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The contract's values as plain data. */
export function contractOf(platform: ClusterPlatform): Record<string, unknown> {
  return {
    cloud: platform.cloud,
    cluster: platform.cluster,
    storageClass: platform.storageClass,
    registry: platform.registry,
    identities: platform.identities,
    clusterSecretStore: platform.clusterSecretStore,
    podCidrs: platform.podCidrs,
  };
}

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
