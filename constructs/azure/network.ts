import { PrivateDnsZone } from "@cdktf/provider-azurerm/lib/private-dns-zone";
import { PrivateDnsZoneVirtualNetworkLink } from "@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link";
import { Subnet } from "@cdktf/provider-azurerm/lib/subnet";
import { VirtualNetwork } from "@cdktf/provider-azurerm/lib/virtual-network";
import { Construct } from "constructs";

export const POSTGRES_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers";

export interface AzureNetworkProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly vnetCidr: string;
  readonly nodesSubnetCidr: string;
  readonly postgresSubnetCidr: string;
}

/**
 * A VNet with a subnet for the cluster's nodes and one delegated to
 * PostgreSQL Flexible Server, plus the private DNS zone every server in the
 * platform registers in. Address ranges are validated by the config schema.
 */
export class AzureNetwork extends Construct {
  readonly vnet: VirtualNetwork;
  readonly nodesSubnet: Subnet;
  readonly postgresSubnet: Subnet;
  readonly postgresDnsZone: PrivateDnsZone;
  readonly nodesSubnetCidr: string;
  readonly postgresSubnetCidr: string;

  constructor(scope: Construct, id: string, props: AzureNetworkProps) {
    super(scope, id);
    this.nodesSubnetCidr = props.nodesSubnetCidr;
    this.postgresSubnetCidr = props.postgresSubnetCidr;

    this.vnet = new VirtualNetwork(this, "vnet", {
      name: `${props.name}-vnet`,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      addressSpace: [props.vnetCidr],
    });

    this.nodesSubnet = new Subnet(this, "nodes", {
      name: "nodes",
      resourceGroupName: props.resourceGroupName,
      virtualNetworkName: this.vnet.name,
      addressPrefixes: [props.nodesSubnetCidr],
      // Outbound goes through the cluster's load balancer, never implicit SNAT.
      defaultOutboundAccessEnabled: false,
      // Lets storage accounts admit this subnet alone (the log store's does).
      serviceEndpoints: ["Microsoft.Storage"],
    });

    this.postgresSubnet = new Subnet(this, "postgres", {
      name: "postgres",
      resourceGroupName: props.resourceGroupName,
      virtualNetworkName: this.vnet.name,
      addressPrefixes: [props.postgresSubnetCidr],
      delegation: [
        {
          name: "postgres-flexible-server",
          serviceDelegation: { name: POSTGRES_DELEGATION, actions: ["Microsoft.Network/virtualNetworks/subnets/join/action"] },
        },
      ],
    });

    // Flexible Server requires the zone name to end in this suffix.
    this.postgresDnsZone = new PrivateDnsZone(this, "postgres-dns", {
      name: `${props.name}.private.postgres.database.azure.com`,
      resourceGroupName: props.resourceGroupName,
    });
    new PrivateDnsZoneVirtualNetworkLink(this, "postgres-dns-link", {
      name: `${props.name}-vnet`,
      resourceGroupName: props.resourceGroupName,
      privateDnsZoneName: this.postgresDnsZone.name,
      virtualNetworkId: this.vnet.id,
      registrationEnabled: false,
    });
  }
}
