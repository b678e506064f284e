import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, TerraformLocal, TerraformStack } from "cdktf";
import { parse } from "yaml";
import { loadConfig, type PlatformConfig } from "../config";
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
export function synthesizeAddons(config: PlatformConfig = loadConfig()): AddonsSynth {
  const outdir = mkdtempSync(path.join(tmpdir(), "addons-synth-"));
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
  return {
    aws: read("aws-addons"),
    azure: read("azure-addons"),
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
    alertHeartbeat: platform.alertHeartbeat,
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
