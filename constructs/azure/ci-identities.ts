import { DataAzurermRoleDefinition } from "@cdktf/provider-azurerm/lib/data-azurerm-role-definition";
import { FederatedIdentityCredential } from "@cdktf/provider-azurerm/lib/federated-identity-credential";
import { ManagementLock } from "@cdktf/provider-azurerm/lib/management-lock";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import { RoleDefinition } from "@cdktf/provider-azurerm/lib/role-definition";
import { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import { Lazy, type TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { CI_IDENTITIES, ciIdentityName, ciSubjects, subjectFormat, type CiConfig, type CiIdentityKind } from "../../config/ci";
import { ciStateAccess, stateKey, type CiStateAccess } from "../common/ci-state";
import { assignRole, ROLES } from "./role-assignment";
import { TOKEN_EXCHANGE_AUDIENCE } from "./workload-identity";

/** GitHub's OIDC issuer. */
export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

/** Actions on management locks: the production data stack locks its server and backups. */
export const LOCK_ACTIONS = ["Microsoft.Authorization/locks/read", "Microsoft.Authorization/locks/write", "Microsoft.Authorization/locks/delete"];

const BLOB = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs";
/** The blob data actions that change a blob: writing it (and leasing it: the backend's lock), appending, deleting. */
export const BLOB_WRITE_ACTIONS = [`${BLOB}/write`, `${BLOB}/add/action`, `${BLOB}/delete`];

/**
 * An Azure ABAC condition that lets a role change only these blobs (by path
 * in the container), leaving its reads alone.
 */
export function blobWriteCondition(paths: readonly string[]): string {
  const actions = BLOB_WRITE_ACTIONS.map((action) => `!(ActionMatches{'${action}'})`).join(" AND ");
  const allowed = paths.length === 0 ? "false" : paths.map((path) => `@Resource[${BLOB}:path] StringEquals '${path}'`).join(" OR ");
  return `((${actions}) OR (${allowed}))`;
}

/**
 * An Azure ABAC condition that lets a Role Based Access Control
 * Administrator create and delete assignments of these roles only, to these
 * kinds of principal only: never Owner, never a role that assigns roles.
 */
export function roleAssignmentCondition(roleDefinitionIds: readonly string[], principalTypes: readonly string[]): string {
  const roles = `{${roleDefinitionIds.join(", ")}}`;
  const types = `{${principalTypes.map((type) => `'${type}'`).join(", ")}}`;
  const clause = (source: "Request" | "Resource", action: string) =>
    `((!(ActionMatches{'Microsoft.Authorization/roleAssignments/${action}'})) OR (@${source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals ${roles} AND @${source}[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase ${types}))`;
  return `${clause("Request", "write")} AND ${clause("Resource", "delete")}`;
}

/** One role of a CI identity: where, and what narrows it. */
export interface CiGrant {
  /** Names the role assignment. */
  readonly id: string;
  /** A built-in role, or `locks` for the custom role on management locks. */
  readonly role: (typeof ROLES)[keyof typeof ROLES] | "locks";
  readonly scope: "subscription" | "state container";
  /** What narrows the role, in words (docs/workflows.md). */
  readonly condition?: "own state blobs" | "own stacks' roles";
}

/**
 * Every role each identity gets, at the narrowest scope Azure allows: the
 * platform's resource groups do not exist before the stacks that create
 * them run, so what reads or writes them is granted on the subscription.
 */
export const AZURE_CI_GRANTS: Record<CiIdentityKind, readonly CiGrant[]> = {
  plan: [
    { id: "reader", role: ROLES.reader, scope: "subscription" },
    { id: "state-reader", role: ROLES.storageBlobDataReader, scope: "state container" },
  ],
  review: [
    { id: "reader", role: ROLES.reader, scope: "subscription" },
    { id: "state-reader", role: ROLES.storageBlobDataReader, scope: "state container" },
  ],
  deploy: [
    { id: "contributor", role: ROLES.contributor, scope: "subscription" },
    { id: "role-assignments", role: ROLES.roleBasedAccessControlAdministrator, scope: "subscription", condition: "own stacks' roles" },
    { id: "state-writer", role: ROLES.storageBlobDataContributor, scope: "state container", condition: "own state blobs" },
  ],
  production: [
    { id: "contributor", role: ROLES.contributor, scope: "subscription" },
    { id: "role-assignments", role: ROLES.roleBasedAccessControlAdministrator, scope: "subscription", condition: "own stacks' roles" },
    { id: "state-writer", role: ROLES.storageBlobDataContributor, scope: "state container", condition: "own state blobs" },
    { id: "locks", role: "locks", scope: "subscription" },
  ],
};

export interface AzureCiIdentitiesProps {
  readonly project: string;
  readonly ci: CiConfig;
  readonly location: string;
  readonly resourceGroupName: string;
  /** `/subscriptions/<id>`: where the platform's stacks create their resource groups. */
  readonly subscriptionScope: string;
  readonly stateContainerScope: string;
  readonly keyPrefix: string;
  /** Every stack the workflows plan and apply; read when synthesizing. */
  readonly stacks: () => readonly TerraformStack[];
  readonly productionEnvironments: readonly string[];
  /** Stack parts of every cluster's platform and add-ons (`clusterStackParts`), applied by the production identity. */
  readonly clusterStacks?: readonly string[];
}

/**
 * The four CI identities: user-assigned managed identities with federated
 * credentials for one kind of GitHub job each (no secret anywhere), and
 * their roles. Plan and review read the subscription and the state; deploy
 * and production manage resources in the subscription (Resource Manager
 * cannot scope them to resource groups their own stacks create), may assign
 * only the roles their stacks assign, and may write only their stacks'
 * state blobs. Production alone may manage delete locks, so the deploy
 * identity cannot lift the locks on production's data, on the state
 * storage, or on these identities, whose ReadOnly locks keep anyone with
 * Contributor from adding a federated credential to them.
 */
export class AzureCiIdentities extends Construct {
  readonly identities: Record<CiIdentityKind, UserAssignedIdentity>;
  private readonly props: AzureCiIdentitiesProps;
  private readonly roleDefinitions = new Map<string, DataAzurermRoleDefinition>();

  constructor(scope: Construct, id: string, props: AzureCiIdentitiesProps) {
    super(scope, id);
    this.props = props;
    const { project, ci, location, resourceGroupName, subscriptionScope, stateContainerScope } = props;

    // Every role a CI-applied stack assigns, resolved to its id for the conditions.
    for (const role of assignedRoles(props.stacks())) {
      this.roleDefinitions.set(role, new DataAzurermRoleDefinition(this, `role-${slug(role)}`, { name: role, scope: subscriptionScope }));
    }
    const locks = new RoleDefinition(this, "locks-role", {
      name: `${project} CI management locks`,
      scope: subscriptionScope,
      description: "Create and remove delete locks: the production data stack locks its database and backups.",
      permissions: [{ actions: LOCK_ACTIONS }],
      assignableScopes: [subscriptionScope],
    });

    const formats = subjectFormat(ci) === "both" ? ["immutable", "name"] : [subjectFormat(ci)];
    this.identities = Object.fromEntries(
      CI_IDENTITIES.map((kind) => {
        const identity = new UserAssignedIdentity(this, kind, { name: ciIdentityName(project, kind), location, resourceGroupName });
        const subjects = ciSubjects(ci, kind);
        const credentials = formats.map(
          (format, i) =>
            new FederatedIdentityCredential(this, `${kind}-github-${format}`, {
              name: `github-${format}`,
              resourceGroupName,
              parentId: identity.id,
              issuer: GITHUB_ISSUER,
              subject: subjects[i],
              audience: [TOKEN_EXCHANGE_AUDIENCE],
            }),
        );
        new ManagementLock(this, `${kind}-lock`, {
          name: "protect-ci-identity",
          scope: identity.id,
          lockLevel: "ReadOnly",
          notes: "Nobody with Contributor may add a federated credential. Remove deliberately: see docs/bootstrap.md.",
          dependsOn: credentials,
        });

        for (const grant of AZURE_CI_GRANTS[kind]) {
          const on = grant.scope === "subscription" ? subscriptionScope : stateContainerScope;
          const condition =
            grant.condition === "own state blobs"
              ? Lazy.stringValue({ produce: () => this.stateCondition(kind) })
              : grant.condition === "own stacks' roles"
                ? Lazy.stringValue({ produce: () => this.roleCondition(kind) })
                : undefined;
          if (grant.role === "locks") {
            new RoleAssignment(this, `${kind}-${grant.id}`, { principalId: identity.principalId, roleDefinitionId: locks.roleDefinitionResourceId, scope: on, principalType: "ServicePrincipal", skipServicePrincipalAadCheck: true });
          } else {
            assignRole(this, `${kind}-${grant.id}`, { principalId: identity.principalId, role: grant.role, on, principalType: "ServicePrincipal", condition });
          }
        }
        return [kind, identity];
      }),
    ) as Record<CiIdentityKind, UserAssignedIdentity>;
  }

  /** The state each identity may touch, from the stacks' dependencies. */
  stateAccess(): Record<CiIdentityKind, CiStateAccess> {
    return ciStateAccess(this.props.stacks(), this.props.productionEnvironments, this.props.clusterStacks);
  }

  /** Roles the stacks an identity applies assign, by name. */
  assignableRoles(kind: CiIdentityKind): string[] {
    const applies = this.stateAccess()[kind].applies;
    return assignedRoles(this.props.stacks().filter((stack) => applies.includes(stack.node.id)));
  }

  /** Kinds of principal those stacks assign roles to. */
  assignablePrincipalTypes(kind: CiIdentityKind): string[] {
    const applies = this.stateAccess()[kind].applies;
    return [...new Set(roleAssignments(this.props.stacks().filter((stack) => applies.includes(stack.node.id))).map((assignment) => assignment.principalTypeInput ?? "ServicePrincipal"))].sort();
  }

  private roleCondition(kind: CiIdentityKind): string {
    const ids = this.assignableRoles(kind).map((role) => this.roleDefinitions.get(role)!.roleDefinitionId);
    return roleAssignmentCondition(ids, this.assignablePrincipalTypes(kind));
  }

  private stateCondition(kind: CiIdentityKind): string {
    return blobWriteCondition(this.stateAccess()[kind].applies.map((id) => stateKey(this.props.keyPrefix, id)));
  }

  clientId(kind: CiIdentityKind): string {
    return this.identities[kind].clientId;
  }
}

/** Every role assignment in these stacks. */
function roleAssignments(stacks: readonly TerraformStack[]): RoleAssignment[] {
  return stacks.flatMap((stack) => stack.node.findAll().filter((node): node is RoleAssignment => node instanceof RoleAssignment));
}

/** The built-in roles these stacks assign, by name. */
function assignedRoles(stacks: readonly TerraformStack[]): string[] {
  return [...new Set(roleAssignments(stacks).flatMap((assignment) => assignment.roleDefinitionNameInput ?? []))].sort();
}

const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
