import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcPeeringConnection } from "@cdktf/provider-aws/lib/vpc-peering-connection";
import { Fn } from "cdktf";
import { Construct } from "constructs";

/** Tag by which Karpenter's EC2NodeClass finds the cluster's node subnets and security group. */
export const KARPENTER_DISCOVERY_TAG = "karpenter.sh/discovery";

export interface NetworkProps {
  readonly name: string;
  readonly cidr: string;
  /** Zone names; one public and one private subnet in each. */
  readonly availabilityZones: string[];
  /** One NAT gateway in every zone, or one shared by all. */
  readonly natGateways: "single" | "per-zone";
  /** EKS cluster name, for the load-balancer and Karpenter discovery tags. */
  readonly clusterName: string;
  /**
   * The private route tables' routes are resources of their own instead of
   * inline: other stacks add routes to them (the tools cluster's network, to
   * which every other cluster's platform adds the way back over its peering).
   * @default false
   */
  readonly routesApart?: boolean;
  /**
   * A VPC of the same account and region to peer with, and route the private
   * subnets to: the tools cluster's, reaching this cluster's internal load
   * balancers. The database subnets get no route to it.
   * @default - no peering
   */
  readonly peer?: { readonly name: string; readonly vpcId: string; readonly cidr: string };
}

/**
 * A VPC with a public, a private and a database subnet per zone. The address
 * plan, for a VPC of prefix /p: private subnets (nodes and pods) take the
 * first /(p+3) blocks; database and public subnets take /(p+6) blocks of the
 * last two /(p+3) blocks, so up to six zones fit without overlap. Database
 * subnets have no route out of the VPC, and their own ranges let network
 * policies allow database traffic without allowing every pod.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnets: Subnet[];
  readonly privateSubnets: Subnet[];
  readonly databaseSubnets: Subnet[];
  /** The private subnets' route tables, one per zone. */
  readonly privateRouteTables: RouteTable[] = [];
  /** The peering with `peer`, when there is one. */
  readonly peering?: VpcPeeringConnection;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { name, cidr, availabilityZones, clusterName } = props;

    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: name },
    });
    // AWS gives every VPC a default group that admits its own members and all
    // egress; nothing here uses it, so it must not be usable by accident.
    // Managing it without rules removes them.
    new DefaultSecurityGroup(this, "default-security-group", {
      vpcId: this.vpc.id,
      tags: { Name: `${name}-default-unused` },
    });
    const igw = new InternetGateway(this, "igw", { vpcId: this.vpc.id, tags: { Name: name } });

    const publicRoutes = new RouteTable(this, "public-routes", {
      vpcId: this.vpc.id,
      route: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      tags: { Name: `${name}-public` },
    });

    this.publicSubnets = availabilityZones.map((zone, i) => {
      const subnet = new Subnet(this, `public-${zone}`, {
        vpcId: this.vpc.id,
        availabilityZone: zone,
        cidrBlock: Fn.cidrsubnet(cidr, 6, 56 + i),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${name}-public-${zone}`, "kubernetes.io/role/elb": "1", [`kubernetes.io/cluster/${clusterName}`]: "shared" },
      });
      new RouteTableAssociation(this, `public-${zone}-routes`, { subnetId: subnet.id, routeTableId: publicRoutes.id });
      return subnet;
    });

    const natCount = props.natGateways === "per-zone" ? availabilityZones.length : 1;
    const nats = this.publicSubnets.slice(0, natCount).map((subnet, i) => {
      const zone = availabilityZones[i];
      const ip = new Eip(this, `nat-ip-${zone}`, { domain: "vpc", tags: { Name: `${name}-nat-${zone}` } });
      return new NatGateway(this, `nat-${zone}`, {
        allocationId: ip.allocationId,
        subnetId: subnet.id,
        tags: { Name: `${name}-${zone}` },
        dependsOn: [igw],
      });
    });

    if (props.peer) {
      this.peering = new VpcPeeringConnection(this, "peering", {
        vpcId: this.vpc.id,
        peerVpcId: props.peer.vpcId,
        // Same account and region: accepted on creation.
        autoAccept: true,
        tags: { Name: `${name}-${props.peer.name}` },
      });
    }
    this.privateSubnets = availabilityZones.map((zone, i) => {
      const subnet = new Subnet(this, `private-${zone}`, {
        vpcId: this.vpc.id,
        availabilityZone: zone,
        cidrBlock: Fn.cidrsubnet(cidr, 3, i),
        tags: {
          Name: `${name}-private-${zone}`,
          "kubernetes.io/role/internal-elb": "1",
          [`kubernetes.io/cluster/${clusterName}`]: "shared",
          // Where Karpenter launches nodes (the EC2NodeClass selects subnets by this tag).
          [KARPENTER_DISCOVERY_TAG]: clusterName,
        },
      });
      const natGatewayId = nats[i % nats.length].id;
      const peering = this.peering && { cidrBlock: props.peer!.cidr, vpcPeeringConnectionId: this.peering.id };
      const routes = new RouteTable(this, `private-${zone}-routes`, {
        vpcId: this.vpc.id,
        // Without the argument the table's routes are not this resource's: the separate ones below and other stacks' stay.
        route: props.routesApart ? undefined : [{ cidrBlock: "0.0.0.0/0", natGatewayId }, ...(peering ? [peering] : [])],
        tags: { Name: `${name}-private-${zone}` },
      });
      if (props.routesApart) new Route(this, `private-${zone}-nat-route`, { routeTableId: routes.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId });
      new RouteTableAssociation(this, `private-${zone}-association`, { subnetId: subnet.id, routeTableId: routes.id });
      this.privateRouteTables.push(routes);
      return subnet;
    });

    const databaseRoutes = new RouteTable(this, "database-routes", { vpcId: this.vpc.id, tags: { Name: `${name}-database` } });
    this.databaseSubnets = availabilityZones.map((zone, i) => {
      const subnet = new Subnet(this, `database-${zone}`, {
        vpcId: this.vpc.id,
        availabilityZone: zone,
        cidrBlock: Fn.cidrsubnet(cidr, 6, 48 + i),
        tags: { Name: `${name}-database-${zone}` },
      });
      new RouteTableAssociation(this, `database-${zone}-association`, { subnetId: subnet.id, routeTableId: databaseRoutes.id });
      return subnet;
    });
  }

  get databaseSubnetIds(): string[] {
    return this.databaseSubnets.map((subnet) => subnet.id);
  }

  get databaseSubnetCidrs(): string[] {
    return this.databaseSubnets.map((subnet) => subnet.cidrBlock);
  }

  get privateSubnetIds(): string[] {
    return this.privateSubnets.map((subnet) => subnet.id);
  }
}
