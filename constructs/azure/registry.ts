import { ContainerRegistry } from "@cdktf/provider-azurerm/lib/container-registry";
import { PrivateDnsZone } from "@cdktf/provider-azurerm/lib/private-dns-zone";
import { PrivateDnsZoneVirtualNetworkLink } from "@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link";
import { PrivateEndpoint } from "@cdktf/provider-azurerm/lib/private-endpoint";
import { Construct } from "constructs";
import { assignRole, ROLES } from "./role-assignment";

export interface AcrRegistryProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly sku: "Basic" | "Standard" | "Premium";
  /** Repository prefix, the project name: images are `<loginServer>/<prefix>/<app>`. */
  readonly prefix: string;
  readonly applications: string[];
  /**
   * Premium: days untagged manifests are kept before ACR deletes them.
   * @default - kept forever
   */
  readonly untaggedRetentionDays?: number;
  /**
   * Premium: replicas across the region's availability zones.
   * @default false
   */
  readonly zoneRedundancy?: boolean;
  /**
   * Premium: no public endpoint; the registry is reached through a private
   * endpoint in this subnet of this VNet.
   * @default - public endpoint, authenticated pulls only
   */
  readonly privateAccess?: { readonly subnetId: string; readonly vnetId: string };
}

/**
 * Azure Container Registry with Entra ID authentication only: no admin user,
 * no anonymous pull. The config schema rejects Premium-only options on other SKUs.
 */
export class AcrRegistry extends Construct {
  readonly registry: ContainerRegistry;
  private readonly prefix: string;
  private readonly applications: string[];

  constructor(scope: Construct, id: string, props: AcrRegistryProps) {
    super(scope, id);
    this.prefix = props.prefix;
    this.applications = props.applications;
    const premium = props.sku === "Premium";

    this.registry = new ContainerRegistry(this, "registry", {
      name: props.name,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      sku: props.sku,
      adminEnabled: false,
      anonymousPullEnabled: false,
      retentionPolicyInDays: premium ? props.untaggedRetentionDays : undefined,
      zoneRedundancyEnabled: premium ? (props.zoneRedundancy ?? false) : undefined,
      // Layers are served from a registry-specific domain instead of the shared
      // *.blob.core.windows.net, so a firewall can admit this registry alone.
      dataEndpointEnabled: premium ? true : undefined,
      publicNetworkAccessEnabled: props.privateAccess === undefined,
      // Images outlive clusters; losing the registry loses every deployed version.
      lifecycle: { preventDestroy: true },
    });

    if (props.privateAccess) {
      const zone = new PrivateDnsZone(this, "dns", { name: "privatelink.azurecr.io", resourceGroupName: props.resourceGroupName });
      new PrivateDnsZoneVirtualNetworkLink(this, "dns-link", {
        name: `${props.name}-vnet`,
        resourceGroupName: props.resourceGroupName,
        privateDnsZoneName: zone.name,
        virtualNetworkId: props.privateAccess.vnetId,
      });
      new PrivateEndpoint(this, "endpoint", {
        name: `${props.name}-registry`,
        location: props.location,
        resourceGroupName: props.resourceGroupName,
        subnetId: props.privateAccess.subnetId,
        privateServiceConnection: {
          name: "registry",
          isManualConnection: false,
          privateConnectionResourceId: this.registry.id,
          subresourceNames: ["registry"],
        },
        privateDnsZoneGroup: { name: "registry", privateDnsZoneIds: [zone.id] },
      });
    }
  }

  /** Lets a managed identity pull (and list tags, which AcrPull includes). */
  grantPull(id: string, principalId: string): void {
    assignRole(this, id, { principalId, role: ROLES.acrPull, on: this.registry.id, principalType: "ServicePrincipal" });
  }

  get loginServer(): string {
    return this.registry.loginServer;
  }

  get repositoryUrls(): Record<string, string> {
    return Object.fromEntries(this.applications.map((app) => [app, `${this.registry.loginServer}/${this.prefix}/${app}`]));
  }
}
