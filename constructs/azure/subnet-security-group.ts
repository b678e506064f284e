import { NetworkSecurityGroup } from "@cdktf/provider-azurerm/lib/network-security-group";
import { NetworkSecurityRule } from "@cdktf/provider-azurerm/lib/network-security-rule";
import type { Subnet } from "@cdktf/provider-azurerm/lib/subnet";
import { SubnetNetworkSecurityGroupAssociation } from "@cdktf/provider-azurerm/lib/subnet-network-security-group-association";
import { Construct } from "constructs";

/** One inbound rule; Azure evaluates them by ascending priority, before its own defaults (65000+). */
export interface InboundRule {
  readonly name: string;
  readonly priority: number;
  readonly access: "Allow" | "Deny";
  readonly protocol: "Tcp" | "Udp" | "*";
  /** Address prefixes or service tags (`Internet`, `VirtualNetwork`). */
  readonly sources: string[];
  /** `*` or port numbers. */
  readonly ports: string[];
  readonly description: string;
}

export interface SubnetSecurityGroupProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly subnet: Subnet;
  readonly inbound: InboundRule[];
}

/**
 * A network security group on one subnet, with its inbound rules as separate
 * resources so that a rule change never rewrites the group. Outbound keeps
 * Azure's defaults.
 */
export class SubnetSecurityGroup extends Construct {
  readonly group: NetworkSecurityGroup;

  constructor(scope: Construct, id: string, props: SubnetSecurityGroupProps) {
    super(scope, id);
    this.group = new NetworkSecurityGroup(this, "group", {
      name: props.name,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
    });
    for (const rule of props.inbound) {
      new NetworkSecurityRule(this, `rule-${rule.name}`, {
        name: rule.name,
        networkSecurityGroupName: this.group.name,
        resourceGroupName: props.resourceGroupName,
        priority: rule.priority,
        direction: "Inbound",
        access: rule.access,
        protocol: rule.protocol,
        sourcePortRange: "*",
        ...(rule.sources.length === 1 ? { sourceAddressPrefix: rule.sources[0] } : { sourceAddressPrefixes: rule.sources }),
        ...(rule.ports.length === 1 ? { destinationPortRange: rule.ports[0] } : { destinationPortRanges: rule.ports }),
        destinationAddressPrefix: "*",
        description: rule.description,
      });
    }
    new SubnetNetworkSecurityGroupAssociation(this, "association", {
      subnetId: props.subnet.id,
      networkSecurityGroupId: this.group.id,
    });
  }
}
