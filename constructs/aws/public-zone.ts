import { DataAwsRoute53Zone } from "@cdktf/provider-aws/lib/data-aws-route53-zone";
import { Route53Zone } from "@cdktf/provider-aws/lib/route53-zone";
import { Construct } from "constructs";
import type { PolicyStatement } from "./iam";

export interface PublicZoneProps {
  /** The zone's domain name. */
  readonly name: string;
  /** Look the zone up instead of creating it. @default false */
  readonly existing?: boolean;
  readonly comment?: string;
}

/**
 * The Route 53 public hosted zone routes are published in. A created zone is
 * protected: its name servers are what the registrar delegates to, and a new
 * zone gets new ones, so losing it takes every environment off the internet
 * until the delegation is changed by hand.
 */
export class PublicZone extends Construct {
  readonly name: string;
  readonly zoneId: string;
  /** Name servers to delegate to; undefined for an existing zone, whose delegation is already in place. */
  readonly nameServers?: string[];

  constructor(scope: Construct, id: string, props: PublicZoneProps) {
    super(scope, id);
    this.name = props.name;
    if (props.existing) {
      const zone = new DataAwsRoute53Zone(this, "zone", { name: props.name, privateZone: false });
      this.zoneId = zone.zoneId;
      return;
    }
    const zone = new Route53Zone(this, "zone", {
      name: props.name,
      comment: props.comment,
      // Records external-dns and cert-manager left behind must not be swept away with it.
      forceDestroy: false,
      lifecycle: { preventDestroy: true },
    });
    this.zoneId = zone.zoneId;
    this.nameServers = zone.nameServers;
  }

  /** `arn:aws:route53:::hostedzone/<id>`: the only zone the statements below reach. */
  get arn(): string {
    return zoneArn(this.zoneId);
  }

  /** What external-dns needs to keep the zone's records in step with the cluster. */
  recordManagerStatements(): PolicyStatement[] {
    return externalDnsStatements(this.zoneId);
  }

  /** What cert-manager needs to answer ACME DNS-01 challenges in the zone. */
  acmeChallengeStatements(): PolicyStatement[] {
    return acmeChallengeStatements(this.zoneId);
  }
}

export const zoneArn = (zoneId: string): string => `arn:aws:route53:::hostedzone/${zoneId}`;

/**
 * Records of the one zone. Listing hosted zones cannot be scoped to a zone in
 * IAM; external-dns lists them to find the zone its filter names.
 */
export function externalDnsStatements(zoneId: string): PolicyStatement[] {
  return [
    { Sid: "ChangeRecordsOfTheZone", Effect: "Allow", Action: ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"], Resource: zoneArn(zoneId) },
    { Sid: "FindTheZone", Effect: "Allow", Action: ["route53:ListHostedZones"], Resource: "*" },
  ];
}

/**
 * TXT records named `_acme-challenge.*` of the one zone, nothing else. A
 * change's status (`GetChange`) has no zone in its ARN.
 */
export function acmeChallengeStatements(zoneId: string): PolicyStatement[] {
  return [
    {
      Sid: "AnswerChallengesInTheZone",
      Effect: "Allow",
      Action: ["route53:ChangeResourceRecordSets"],
      Resource: zoneArn(zoneId),
      Condition: {
        "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"] },
        "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"] },
      },
    },
    { Sid: "ReadRecordsOfTheZone", Effect: "Allow", Action: ["route53:ListResourceRecordSets"], Resource: zoneArn(zoneId) },
    { Sid: "WaitForChanges", Effect: "Allow", Action: ["route53:GetChange"], Resource: "arn:aws:route53:::change/*" },
  ];
}

/**
 * Records of one cluster in the private zone: names under `<suffix>` only
 * (`*.<cluster>.internal.<base domain>`, the TXT ownership records
 * included), so that no cluster can take another's names over.
 */
export function privateMonitoringStatements(zoneId: string, suffix: string): PolicyStatement[] {
  return [
    {
      Sid: "ChangeOwnNamesInThePrivateZone",
      Effect: "Allow",
      Action: ["route53:ChangeResourceRecordSets"],
      Resource: zoneArn(zoneId),
      Condition: { "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": [`*.${suffix}`] } },
    },
    { Sid: "ReadThePrivateZone", Effect: "Allow", Action: ["route53:ListResourceRecordSets"], Resource: zoneArn(zoneId) },
  ];
}
