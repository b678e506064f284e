import { DataAzurermDnsZone } from "@cdktf/provider-azurerm/lib/data-azurerm-dns-zone";
import { DnsZone } from "@cdktf/provider-azurerm/lib/dns-zone";
import { Construct } from "constructs";

export interface AzurePublicZoneProps {
  /** The zone's domain name. */
  readonly name: string;
  /** Resource group the zone is created in, or holds the existing zone. */
  readonly resourceGroupName: string;
  /** Look the zone up instead of creating it. @default false */
  readonly existing?: boolean;
}

/**
 * The Azure DNS public zone routes are published in. A created zone is
 * protected: a new zone gets new name servers, so losing it takes every
 * environment off the internet until the registrar's delegation is changed.
 */
export class AzurePublicZone extends Construct {
  readonly name: string;
  readonly id: string;
  readonly resourceGroupName: string;
  /** Name servers to delegate to; undefined for an existing zone. */
  readonly nameServers?: string[];

  constructor(scope: Construct, id: string, props: AzurePublicZoneProps) {
    super(scope, id);
    this.name = props.name;
    this.resourceGroupName = props.resourceGroupName;
    if (props.existing) {
      const zone = new DataAzurermDnsZone(this, "zone", { name: props.name, resourceGroupName: props.resourceGroupName });
      this.id = zone.id;
      return;
    }
    const zone = new DnsZone(this, "zone", {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      lifecycle: { preventDestroy: true },
    });
    this.id = zone.id;
    this.nameServers = zone.nameServers;
  }
}
