import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { IN_CLUSTER, type WorkloadIdentity } from "../contract";

export interface ApplicationServiceAccountProps {
  readonly namespace: string;
  /** The cloud identity allowed to read this environment's database credentials and pull its images. */
  readonly identity: WorkloadIdentity;
  /** @default IN_CLUSTER.applicationServiceAccount */
  readonly name?: string;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * The service account applications and the environment's SecretStore act as.
 * Pods also need `identity.podLabels` (some workload identity webhooks select pods by them);
 * the GitOps delivery patches them into every Knative Service it applies.
 */
export class ApplicationServiceAccount extends Construct {
  readonly name: string;
  readonly serviceAccount: ServiceAccountV1;

  constructor(scope: Construct, id: string, props: ApplicationServiceAccountProps) {
    super(scope, id);
    this.name = props.name ?? IN_CLUSTER.applicationServiceAccount;
    this.serviceAccount = new ServiceAccountV1(this, "service-account", {
      metadata: { name: this.name, namespace: props.namespace, annotations: props.identity.serviceAccountAnnotations },
      // Applications do not call the Kubernetes API; workload identity webhooks mount their own token.
      automountServiceAccountToken: false,
      dependsOn: props.dependsOn,
    });
  }
}
