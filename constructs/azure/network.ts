import { PrivateDnsZone } from "@cdktf/provider-azurerm/lib/private-dns-zone";
import { PrivateDnsZoneVirtualNetworkLink } from "@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link";
import { Subnet } from "@cdktf/provider-azurerm/lib/subnet";
import { VirtualNetwork } from "@cdktf/provider-azurerm/lib/virtual-network";
import { Construct } from "constructs";
import { parseIpv4Network } from "../../config/cidr";
import { POSTGRES_PORT } from "../common/postgres";
import { LOKI_PORT } from "../addons/logs";
import { PROMETHEUS_PORT } from "../addons/monitoring";
import { SubnetSecurityGroup } from "./subnet-security-group";

export const POSTGRES_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers";

export interface AzureNetworkProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly vnetCidr: string;
  readonly nodesSubnetCidr: string;
  readonly postgresSubnetCidr: string;
  /** The cluster's pod range (Azure CNI overlay), admitted to PostgreSQL beside the nodes subnet. */
  readonly podCidr: string;
  /**
   * The tools cluster's VNet range, admitted to Prometheus and Loki behind
   * their internal load balancer and to nothing else on the nodes.
   * @default - no tools cluster
   */
  readonly monitoringReader?: string;
}

/**
 * The private addresses of a cluster's internal load balancers for
 * Prometheus and Loki: the last two of the nodes subnet Azure hands out
 * (it keeps the last address), far from the nodes, which take the lowest
 * free ones. Fixed, so that the private zone's records are written with
 * the cluster's platform, not by a controller.
 */
export function monitoringAddresses(nodesSubnetCidr: string): { prometheus: string; loki: string } {
  const network = parseIpv4Network(nodesSubnetCidr);
  if (!network) throw new Error(`nodesSubnetCidr ${nodesSubnetCidr} is not an IPv4 network`);
  const address = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".");
  return { prometheus: address(network.last - 2), loki: address(network.last - 1) };
}

/**
 * A VNet with a subnet for the cluster's nodes and one delegated to
 * PostgreSQL Flexible Server, plus the private DNS zone every server in the
 * platform registers in. Address ranges are validated by the config schema.
 * Each subnet has a network security group: the nodes admit the ingress
 * gateway's HTTP and HTTPS from the internet besides Azure's defaults
 * (VNet and load-balancer probes); PostgreSQL admits 5432 from the nodes and
 * pods only, and nothing else from the VNet but its own subnet (HA replication).
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
      // Lets storage accounts (the log store's) and the Key Vault firewall admit this subnet alone.
      serviceEndpoints: ["Microsoft.KeyVault", "Microsoft.Storage"],
    });
    new SubnetSecurityGroup(this, "nodes-security", {
      name: `${props.name}-nodes`,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      subnet: this.nodesSubnet,
      inbound: [
        {
          name: "ingress-gateway-from-internet",
          priority: 100,
          access: "Allow",
          protocol: "Tcp",
          sources: ["Internet"],
          ports: ["80", "443"],
          description: "The ingress gateway's public load balancer; the subnet NSG applies on top of the one AKS manages",
        },
        ...(props.monitoringReader
          ? [
              {
                name: "monitoring-from-tools-cluster",
                priority: 110,
                access: "Allow" as const,
                protocol: "Tcp" as const,
                sources: [props.monitoringReader],
                ports: [String(PROMETHEUS_PORT), String(LOKI_PORT)],
                description: "The tools cluster's Grafana and Prometheus read Prometheus and Loki over the peering",
              },
              {
                name: "nothing-else-from-tools-cluster",
                priority: 3900,
                access: "Deny" as const,
                protocol: "*" as const,
                sources: [props.monitoringReader],
                ports: ["*"],
                description: "The peering admits the tools cluster to monitoring only, not to the nodes",
              },
            ]
          : []),
      ],
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

    new SubnetSecurityGroup(this, "postgres-security", {
      name: `${props.name}-postgres`,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      subnet: this.postgresSubnet,
      inbound: [
        {
          name: "postgres-from-nodes-and-pods",
          priority: 100,
          access: "Allow",
          protocol: "Tcp",
          sources: [props.nodesSubnetCidr, props.podCidr],
          ports: [String(POSTGRES_PORT)],
          description: "PostgreSQL from the cluster's nodes and pods only",
        },
        {
          name: "within-subnet",
          priority: 200,
          access: "Allow",
          protocol: "*",
          sources: [props.postgresSubnetCidr],
          ports: ["*"],
          description: "Replication between a server and its high-availability standby",
        },
        {
          name: "deny-rest-of-vnet",
          priority: 4000,
          access: "Deny",
          protocol: "*",
          sources: ["VirtualNetwork"],
          ports: ["*"],
          description: "Overrides Azure's default AllowVnetInBound",
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
