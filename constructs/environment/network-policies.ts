import { NetworkPolicyV1, type NetworkPolicyV1Spec } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { portString } from "../common/port";

export interface NetworkPoliciesProps {
  readonly namespace: string;
  /** Address ranges of the environment's database; none for a namespace without one. */
  readonly databaseCidrs: string[];
  readonly databasePort: number;
  /**
   * Namespaces of the Knative data path: the Kourier gateway and the
   * activator, which holds requests while a revision scales from zero.
   * @default ["knative-serving", "kourier-system"] - the operator runs Kourier in knative-serving; a chart install uses kourier-system
   */
  readonly gatewayNamespaces?: string[];
  /** @default ["monitoring"] */
  readonly monitoringNamespaces?: string[];
  /** @default ["kube-system"] */
  readonly dnsNamespaces?: string[];
  /**
   * Where the applications' object storage and the credentials of their
   * identities are reached: `allow-object-storage`.
   * @default - none: no application of the environment has object storage
   */
  readonly objectStorageEgress?: { readonly cidr: string; readonly port: number }[];
  readonly dependsOn?: ITerraformDependable[];
}

/** Selects namespaces by the name label the API server sets on every namespace. */
function namespaces(names: string[]) {
  return { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: names }] } };
}

/**
 * Deny by default, in both directions, then allow exactly what a Knative web
 * application needs. Applications that call other services add their own
 * NetworkPolicy next to their manifests; policies are additive.
 */
export class NetworkPolicies extends Construct {
  /** Policy name to policy, for tests and for dependencies. */
  readonly policies: Record<string, NetworkPolicyV1> = {};

  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    const gateways = props.gatewayNamespaces ?? ["knative-serving", "kourier-system"];
    const monitoring = props.monitoringNamespaces ?? ["monitoring"];
    const dns = props.dnsNamespaces ?? ["kube-system"];
    // The provider takes ports as strings so that named ports fit too.
    const databasePort = portString(props.databasePort);
    const everyPod = {};

    const add = (name: string, spec: NetworkPolicyV1Spec) => {
      this.policies[name] = new NetworkPolicyV1(this, name, {
        metadata: { name, namespace: props.namespace },
        spec,
        dependsOn: props.dependsOn,
      });
    };

    add("default-deny", { podSelector: everyPod, policyTypes: ["Ingress", "Egress"] });
    add("allow-knative-gateway", { podSelector: everyPod, policyTypes: ["Ingress"], ingress: [{ from: [namespaces(gateways)] }] });
    add("allow-monitoring", { podSelector: everyPod, policyTypes: ["Ingress"], ingress: [{ from: [namespaces(monitoring)] }] });
    add("allow-dns", {
      podSelector: everyPod,
      policyTypes: ["Egress"],
      egress: [
        {
          to: [namespaces(dns)],
          ports: [
            { protocol: "UDP", port: "53" },
            { protocol: "TCP", port: "53" },
          ],
        },
      ],
    });
    // An empty `to` would allow every destination: no database, no rule.
    if (props.databaseCidrs.length > 0) {
      add("allow-database", {
        podSelector: everyPod,
        policyTypes: ["Egress"],
        egress: [{ to: props.databaseCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: databasePort }] }],
      });
    }
    const storage = props.objectStorageEgress ?? [];
    if (storage.length > 0) {
      // Object storage is a public endpoint of the cloud with no fixed addresses: HTTPS anywhere.
      add("allow-object-storage", {
        podSelector: everyPod,
        policyTypes: ["Egress"],
        egress: storage.map(({ cidr, port }) => ({ to: [{ ipBlock: { cidr } }], ports: [{ protocol: "TCP", port: portString(port) }] })),
      });
    }
  }
}
