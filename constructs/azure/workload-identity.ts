import type { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import { FederatedIdentityCredential } from "@cdktf/provider-azurerm/lib/federated-identity-credential";
import { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import { Construct } from "constructs";
import type { WorkloadIdentity as ContractIdentity } from "../contract";
import { assignRole, type RoleName } from "./role-assignment";

/** The audience Microsoft Entra ID expects in federated service account tokens. */
export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

export interface ServiceAccountIdentityProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  /** The cluster's OIDC issuer URL. */
  readonly issuer: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/**
 * A user-assigned managed identity that exactly one Kubernetes service account
 * may act as, through Microsoft Entra Workload ID: no client secret anywhere.
 */
export class ServiceAccountIdentity extends Construct {
  readonly identity: UserAssignedIdentity;

  constructor(scope: Construct, id: string, props: ServiceAccountIdentityProps) {
    super(scope, id);
    this.identity = new UserAssignedIdentity(this, "identity", {
      name: props.name,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
    });
    new FederatedIdentityCredential(this, "federation", {
      name: `${props.namespace}-${props.serviceAccount}`,
      resourceGroupName: props.resourceGroupName,
      parentId: this.identity.id,
      issuer: props.issuer,
      subject: `system:serviceaccount:${props.namespace}:${props.serviceAccount}`,
      audience: [TOKEN_EXCHANGE_AUDIENCE],
    });
  }

  /** Grants this identity a built-in role on a resource. */
  grant(id: string, role: RoleName, on: string): RoleAssignment {
    return assignRole(this, id, { principalId: this.identity.principalId, role, on, principalType: "ServicePrincipal" });
  }

  /** What the service account and its pods carry for the workload identity webhook. */
  get workloadIdentity(): ContractIdentity {
    return {
      serviceAccountAnnotations: { "azure.workload.identity/client-id": this.identity.clientId },
      podLabels: { "azure.workload.identity/use": "true" },
    };
  }
}
