import { LimitRangeV1 } from "@cdktf/provider-kubernetes/lib/limit-range-v1";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { ResourceQuotaV1 } from "@cdktf/provider-kubernetes/lib/resource-quota-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { EnvironmentConfig } from "../../config";
import type { RbacSubject } from "../contract";
import { CiNamespaceAccess } from "../kubernetes/ci-access";
import type { PodSecurityLevel } from "../../config/stages";

export interface EnvironmentNamespaceProps {
  readonly name: string;
  /** Labels of the namespace, next to the Pod Security ones. */
  readonly labels: Record<string, string>;
  /** Level the API server enforces. */
  readonly podSecurityEnforce: PodSecurityLevel;
  /** Limits sums are optional: without them the quota bounds requests and pods only. */
  readonly quota: Omit<EnvironmentConfig["quota"], "limitsCpu" | "limitsMemory"> & Partial<Pick<EnvironmentConfig["quota"], "limitsCpu" | "limitsMemory">>;
  readonly limitRange: EnvironmentConfig["limitRange"];
  /**
   * The CI identity that deploys the environment, bound the environment
   * deployer role here before anything else is created in the namespace.
   * @default - no binding: the deploying identity is a cluster administrator
   */
  readonly deployer?: RbacSubject;
}

/**
 * An environment's namespace with its Pod Security admission levels, a
 * ResourceQuota and the LimitRange that gives containers without requests
 * and limits the defaults the quota needs to admit them.
 */
export class EnvironmentNamespace extends Construct {
  readonly namespace: NamespaceV1;
  readonly name: string;
  /** What the namespace's other objects wait for: the namespace, and the deployer's binding. */
  readonly dependables: ITerraformDependable[];

  constructor(scope: Construct, id: string, props: EnvironmentNamespaceProps) {
    super(scope, id);
    this.name = props.name;
    this.namespace = new NamespaceV1(this, "namespace", {
      metadata: {
        name: props.name,
        labels: {
          ...props.labels,
          "pod-security.kubernetes.io/enforce": props.podSecurityEnforce,
          // Warnings show what `restricted` would reject before any stage enforces it.
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/audit": "restricted",
        },
      },
    });
    this.dependables = [this.namespace];
    if (props.deployer) {
      const access = new CiNamespaceAccess(this, "ci-deployer", { namespace: this.name, deployer: props.deployer, dependsOn: [this.namespace] });
      this.dependables.push(access.binding);
    }
    const metadata = { name: props.name, namespace: this.name };
    const { quota, limitRange } = props;
    new ResourceQuotaV1(this, "quota", {
      metadata,
      spec: {
        hard: {
          "requests.cpu": quota.requestsCpu,
          "requests.memory": quota.requestsMemory,
          ...(quota.limitsCpu !== undefined && { "limits.cpu": quota.limitsCpu }),
          ...(quota.limitsMemory !== undefined && { "limits.memory": quota.limitsMemory }),
          pods: String(quota.pods),
        },
      },
      dependsOn: this.dependables,
    });
    new LimitRangeV1(this, "limit-range", {
      metadata,
      spec: {
        limit: [
          {
            type: "Container",
            defaultRequest: { cpu: limitRange.defaultRequestCpu, memory: limitRange.defaultRequestMemory },
            default: { cpu: limitRange.defaultLimitCpu, memory: limitRange.defaultLimitMemory },
          },
        ],
      },
      dependsOn: this.dependables,
    });
  }
}
