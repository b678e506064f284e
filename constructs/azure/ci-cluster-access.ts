import { DataAzurermUserAssignedIdentity } from "@cdktf/provider-azurerm/lib/data-azurerm-user-assigned-identity";
import { Construct } from "constructs";
import { ciIdentityName, type CiIdentityKind } from "../../config/ci";
import type { CiSubjects } from "../contract";
import { assignRole, ROLES } from "./role-assignment";

export interface AksCiAccessProps {
  readonly project: string;
  /** The resource group azure-bootstrap keeps the CI identities in (`stateBackend.resourceGroupName`). */
  readonly identitiesResourceGroup: string;
  readonly clusterId: string;
  /** Namespaces of the non-production environments. */
  readonly deployNamespaces: readonly string[];
}

/**
 * The CI identities azure-bootstrap creates, found by name, and their access
 * to the cluster: the production identity administers it (it applies the
 * add-ons and the production environments); the deploy identity is an
 * administrator of the non-production namespaces only, through Azure RBAC
 * at namespace scope, and gets the rest from Kubernetes RBAC by its object
 * id; the review identity gets only Kubernetes RBAC, from the add-ons. The
 * plan identity, which any pull request's code can use, gets nothing here.
 */
export class AksCiAccess extends Construct {
  readonly identities: Record<Exclude<CiIdentityKind, "plan">, DataAzurermUserAssignedIdentity>;

  constructor(scope: Construct, id: string, props: AksCiAccessProps) {
    super(scope, id);
    const find = (kind: CiIdentityKind) =>
      new DataAzurermUserAssignedIdentity(this, kind, { name: ciIdentityName(props.project, kind), resourceGroupName: props.identitiesResourceGroup });
    this.identities = { review: find("review"), deploy: find("deploy"), production: find("production") };

    for (const namespace of props.deployNamespaces) {
      assignRole(this, `deploy-namespace-${namespace}`, {
        principalId: this.identities.deploy.principalId,
        role: ROLES.aksRbacAdmin,
        on: `${props.clusterId}/namespaces/${namespace}`,
        principalType: "ServicePrincipal",
      });
    }
  }

  /** Principal (object) id of an identity: what Azure RBAC and the cluster's Kubernetes RBAC name it by. */
  principalId(kind: Exclude<CiIdentityKind, "plan">): string {
    return this.identities[kind].principalId;
  }

  get subjects(): CiSubjects {
    return {
      deploy: { kind: "User", name: this.principalId("deploy") },
      review: { kind: "User", name: this.principalId("review") },
    };
  }
}
