import { HelmProvider } from "@cdktf/provider-helm/lib/provider";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import type { Construct } from "constructs";
import type { ClusterConnection } from "../contract";

export interface ClusterProviders {
  readonly kubernetes: KubernetesProvider;
  readonly helm: HelmProvider;
}

/**
 * kubernetes and helm providers configured from the contract alone: API host,
 * CA and an exec plugin for short-lived tokens. No kubeconfig file, no static
 * token, no client certificate, so nothing that grants access lands in state.
 */
export function useClusterProviders(scope: Construct, cluster: ClusterConnection): ClusterProviders {
  const connection = {
    host: cluster.host,
    clusterCaCertificate: cluster.clusterCaCertificate,
  };
  const exec = { apiVersion: cluster.exec.apiVersion, command: cluster.exec.command, args: cluster.exec.args, env: cluster.exec.env };
  return {
    kubernetes: new KubernetesProvider(scope, "kubernetes", { ...connection, exec: [exec] }),
    helm: new HelmProvider(scope, "helm", { kubernetes: { ...connection, exec } }),
  };
}
