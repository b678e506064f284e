import { readFileSync } from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import { beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../config";
import { interruptionQueueStatements, KARPENTER } from "../constructs/aws/karpenter";
import { controllerStatements, SPOT_SERVICE_LINKED_ROLE } from "../constructs/aws/karpenter-controller-policy";
import type { PolicyStatement } from "../constructs/aws/iam";
import { AwsPlatformStack } from "../stacks/aws-platform-stack";
import { problemOf } from "./support/config-problems";
import { crdValidator } from "./support/crd-schemas";
import { sharedDataDir, skipNote } from "./support/environment";
import { sharedOfflinePlans } from "./support/offline-plans";
import { offlineTerraform, plannedTypes, type OfflinePlanResult } from "./support/offline-terraform";
import { configWith } from "./support/synth";

const CLUSTER = "acme-platform";
const scope = {
  clusterName: CLUSTER,
  region: "eu-west-1",
  clusterArn: "arn:aws:eks:eu-west-1:123456789012:cluster/acme-platform",
  queueArn: "arn:aws:sqs:eu-west-1:123456789012:acme-platform-karpenter",
  nodeRoleArn: "arn:aws:iam::123456789012:role/acme-platform-karpenter-node",
  spot: true,
};
const SPOT_ROLE_ARN = `arn:aws:iam::*:role/aws-service-role/spot.amazonaws.com/${SPOT_SERVICE_LINKED_ROLE}`;

const actionsOf = (statement: PolicyStatement): string[] => [statement.Action].flat();
const resourcesOf = (statement: PolicyStatement): string[] => [statement.Resource].flat();
const conditionText = (statement: PolicyStatement): string => JSON.stringify(statement.Condition ?? {});
const READ_ONLY = /^(ec2:Describe|ssm:GetParameter$|pricing:GetProducts$|iam:GetInstanceProfile$|iam:ListInstanceProfiles$|eks:DescribeCluster$|arc-zonal-shift:GetManagedResource$)/;

describe("Karpenter controller policy", () => {
  const statements = controllerStatements(scope);

  it("conditions every write to EC2 or IAM on this cluster's tags or names exactly one resource", () => {
    const ownership = [`kubernetes.io/cluster/${CLUSTER}`, `"aws:ResourceTag/karpenter.sh/discovery":"${CLUSTER}"`];
    const exact = [scope.queueArn, scope.nodeRoleArn, SPOT_ROLE_ARN];
    const unscoped = statements.filter((statement) => {
      if (actionsOf(statement).every((action) => READ_ONLY.test(action))) return false;
      if (resourcesOf(statement).every((resource) => exact.includes(resource))) return false;
      // AMIs, snapshots, capacity reservations and placement groups are read by RunInstances, not created or changed.
      if (resourcesOf(statement).every((resource) => /:(image|snapshot|capacity-reservation|placement-group)\/\*$/.test(resource))) return false;
      return !ownership.some((mark) => conditionText(statement).includes(mark));
    });
    expect(unscoped.map((statement) => statement.Sid)).toEqual([]);
  });

  it("lets it terminate only instances and delete only launch templates of this cluster's node pools", () => {
    const deletion = statements.filter((statement) => actionsOf(statement).some((action) => /Terminate|Delete(LaunchTemplate|InstanceProfile)/.test(action)));
    expect(deletion.map((statement) => statement.Sid).sort()).toEqual(["AllowScopedDeletion", "AllowScopedInstanceProfileActions"]);
    for (const statement of deletion) {
      expect(statement.Condition?.StringEquals).toMatchObject({ [`aws:ResourceTag/kubernetes.io/cluster/${CLUSTER}`]: "owned" });
    }
    expect(statements.find((s) => s.Sid === "AllowScopedDeletion")!.Condition!.StringLike).toEqual({ "aws:ResourceTag/karpenter.sh/nodepool": "*" });
  });

  it("tags what it launches with this cluster's name, and nothing else", () => {
    for (const sid of ["AllowScopedEC2InstanceActionsWithTags", "AllowScopedResourceCreationTagging", "AllowScopedInstanceProfileCreationActions"]) {
      expect(statements.find((s) => s.Sid === sid)!.Condition!.StringEquals, sid).toMatchObject({
        [`aws:RequestTag/kubernetes.io/cluster/${CLUSTER}`]: "owned",
        "aws:RequestTag/eks:eks-cluster-name": CLUSTER,
      });
    }
  });

  it("passes only the node role, only to EC2", () => {
    const passRole = statements.filter((statement) => actionsOf(statement).includes("iam:PassRole"));
    expect(passRole).toEqual([
      expect.objectContaining({ Resource: scope.nodeRoleArn, Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } } }),
    ]);
  });

  it("reads only its own queue and describes only its own cluster, in its own region", () => {
    const queue = statements.filter((statement) => actionsOf(statement).some((action) => action.startsWith("sqs:")));
    expect(queue.flatMap(resourcesOf)).toEqual([scope.queueArn]);
    expect(statements.filter((s) => actionsOf(s).includes("eks:DescribeCluster")).flatMap(resourcesOf)).toEqual([scope.clusterArn]);
    const describes = statements.find((s) => s.Sid === "AllowRegionalReadActions")!;
    expect(describes.Condition).toEqual({ StringEquals: { "aws:RequestedRegion": "eu-west-1" } });
    for (const resource of statements.flatMap(resourcesOf)) {
      if (resource.startsWith("arn:aws:ec2:") || resource.startsWith("arn:aws:ssm:")) expect(resource).toContain(":eu-west-1:");
    }
  });

  it("fits in one inline policy: IAM allows 10,240 characters of inline policy per role", () => {
    const document = JSON.stringify({ Version: "2012-10-17", Statement: statements });
    expect(document.length).toBeLessThan(10_240);
  });

  it("never grants a wildcard action", () => {
    for (const action of statements.flatMap(actionsOf)) expect(action).not.toMatch(/\*/);
  });
});

const REFERENCE = JSON.parse(readFileSync(path.join(__dirname, "upstream", "karpenter-1.14.1-controller-policy.json"), "utf8"));

/** A reference policy's CloudFormation substitutions, resolved for the scope under test. */
function resolveReference(text: string): string {
  const values: Record<string, string> = {
    "AWS::Partition": "aws",
    "AWS::Region": scope.region,
    "AWS::AccountId": "123456789012",
    ClusterName: scope.clusterName,
    "KarpenterNodeRole.Arn": scope.nodeRoleArn,
    "KarpenterInterruptionQueue.Arn": scope.queueArn,
  };
  return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`unknown substitution \${${name}}`);
    return values[name];
  });
}

/** IAM's resource matching: `*` matches any run of characters, `?` one. */
const covers = (pattern: string, resource: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`).test(resource);

describe(`Karpenter controller policy against the reference policy of Karpenter ${REFERENCE.tag}`, () => {
  const statements = controllerStatements(scope);
  const reference: PolicyStatement[] = Object.values<any[]>(REFERENCE.policies).flat().map((statement) => JSON.parse(resolveReference(JSON.stringify(statement))));

  it("reads the reference's every statement", () => {
    expect(reference.map((statement) => statement.Sid)).toHaveLength(18);
    expect(reference.every((statement) => statement.Effect === "Allow")).toBe(true);
  });

  it("grants every action the reference grants, on every resource it grants it on", () => {
    const missing: string[] = [];
    for (const statement of reference) {
      for (const action of actionsOf(statement)) {
        for (const resource of resourcesOf(statement)) {
          const granted = statements.some((own) => own.Effect === "Allow" && actionsOf(own).includes(action) && resourcesOf(own).some((pattern) => covers(pattern, resource)));
          if (!granted) missing.push(`${statement.Sid}: ${action} on ${resource}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it("keeps the reference's statement ids, so a reader can set the two side by side", () => {
    const own = new Set(statements.map((statement) => statement.Sid));
    expect(reference.map((statement) => statement.Sid).filter((sid) => !own.has(sid))).toEqual([]);
  });
});

describe("interruption queue policy", () => {
  const rules = ["arn:aws:events:eu-west-1:123456789012:rule/a", "arn:aws:events:eu-west-1:123456789012:rule/b"];
  const [allow, deny] = interruptionQueueStatements("arn:aws:sqs:eu-west-1:123456789012:q", rules);

  it("lets only EventBridge send, and only from this account's interruption rules", () => {
    expect(allow).toMatchObject({
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sqs:SendMessage",
      Condition: { ArnEquals: { "aws:SourceArn": rules } },
    });
  });

  it("refuses every request that is not over TLS", () => {
    expect(deny).toMatchObject({ Effect: "Deny", Action: "sqs:*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });
});

describe("NodePools from config", () => {
  const platformOf = (change: (raw: any) => void = () => undefined) => {
    const config = validateConfig(configWith(change));
    return new AwsPlatformStack(new App(), "aws-platform", { config, aws: config.clouds.aws! });
  };
  const manifests = (change?: (raw: any) => void) => platformOf(change).capacity.nodeAutoscaler.manifests as any[];

  it("carries the default pool's cost ceiling, capacity types, shapes and disruption settings", () => {
    const pool = manifests().find((m) => m.kind === "NodePool");
    expect(pool.metadata.name).toBe("general");
    expect(pool.spec.limits).toEqual({ cpu: "64", memory: "256Gi" });
    expect(pool.spec.disruption).toEqual({ consolidationPolicy: "WhenEmptyOrUnderutilized", consolidateAfter: "1m", budgets: [{ nodes: "10%" }] });
    expect(pool.spec.template.spec.expireAfter).toBe("720h");
    expect(pool.spec.template.spec.requirements).toEqual(
      expect.arrayContaining([
        { key: "karpenter.sh/capacity-type", operator: "In", values: ["spot", "on-demand"] },
        { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
        { key: "karpenter.k8s.aws/instance-category", operator: "In", values: ["c", "m", "r"] },
        { key: "karpenter.k8s.aws/instance-generation", operator: "Gt", values: ["4"] },
      ]),
    );
  });

  it("makes one NodePool per configured pool, with its own limits, families and taints", () => {
    const pools = manifests((r) =>
      r.clouds.aws.cluster.nodePools.push({
        name: "gpu",
        capacityTypes: ["on-demand"],
        instanceFamilies: ["g6", "g5"],
        limits: { cpu: "32", memory: "128Gi" },
        taints: [{ key: "nvidia.com/gpu", effect: "NoSchedule" }],
        expireAfter: "Never",
        disruptionBudget: "1",
      }),
    ).filter((m) => m.kind === "NodePool");
    expect(pools.map((p) => p.metadata.name)).toEqual(["general", "gpu"]);
    const gpu = pools[1];
    expect(gpu.spec.limits).toEqual({ cpu: "32", memory: "128Gi" });
    expect(gpu.spec.template.spec.taints).toEqual([{ key: "nvidia.com/gpu", effect: "NoSchedule" }]);
    expect(gpu.spec.template.spec.requirements).toContainEqual({ key: "karpenter.k8s.aws/instance-family", operator: "In", values: ["g6", "g5"] });
    expect(JSON.stringify(gpu.spec.template.spec.requirements)).not.toContain("instance-category");
    expect(gpu.spec.disruption.budgets).toEqual([{ nodes: "1" }]);
  });

  it("launches every pool from the one node class: AL2023, the Karpenter node role, IMDSv2 only, encrypted gp3 root", () => {
    const nodeClass = manifests().find((m) => m.kind === "EC2NodeClass");
    expect(nodeClass.spec).toMatchObject({
      role: `${CLUSTER}-karpenter-node`,
      amiSelectorTerms: [{ alias: "al2023@v20260714" }],
      subnetSelectorTerms: [{ tags: { "karpenter.sh/discovery": CLUSTER } }],
      securityGroupSelectorTerms: [{ tags: { "karpenter.sh/discovery": CLUSTER } }],
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: true } }],
      tags: { project: "acme", environment: "platform", "managed-by": "karpenter" },
    });
  });

  it("lets EC2 create the account's Spot service-linked role on the first Spot launch, when a pool may launch Spot", () => {
    const spotStatements = (change?: (raw: any) => void) =>
      platformOf(change).karpenter.controllerPolicy.filter((statement) => actionsOf(statement).includes("iam:CreateServiceLinkedRole"));
    expect(spotStatements()).toEqual([
      {
        Sid: "AllowSpotServiceLinkedRoleCreation",
        Effect: "Allow",
        Action: "iam:CreateServiceLinkedRole",
        Resource: SPOT_ROLE_ARN,
        Condition: { StringEquals: { "iam:AWSServiceName": "spot.amazonaws.com" } },
      },
    ]);
    expect(spotStatements((r) => (r.clouds.aws.cluster.nodePools[0].capacityTypes = ["on-demand"]))).toEqual([]);
  });

  it("pins the AMI release config names, in the alias form the EC2NodeClass CRD's rules accept", () => {
    const [alias] = manifests().find((m) => m.kind === "EC2NodeClass").spec.amiSelectorTerms.map((term: any) => term.alias);
    expect(alias).toBe("al2023@v20260714");
    expect(manifests((r) => (r.clouds.aws.cluster.nodePoolAmiVersion = "v20260801")).find((m) => m.kind === "EC2NodeClass").spec.amiSelectorTerms).toEqual([{ alias: "al2023@v20260801" }]);
    // The CEL rules on `alias` in Karpenter 1.14.1's CRD, which the schema validation of the other tests does not run.
    const rules: { rule: string }[] = nodeClassAliasSchema()["x-kubernetes-validations"];
    const format = rules.map(({ rule }) => /^self\.matches\('(.+)'\)$/.exec(rule)?.[1]).find(Boolean)!;
    const families = rules.map(({ rule }) => /^self\.split\('@'\)\[0\] in \[(.+)\]$/.exec(rule)?.[1]).find(Boolean)!;
    expect(new RegExp(format).test(alias)).toBe(true);
    expect(families.split(",").map((family) => family.replace(/'/g, ""))).toContain(alias.split("@")[0]);
    expect(alias.length).toBeLessThanOrEqual(nodeClassAliasSchema().maxLength);
    expect(alias.split("@")[1]).not.toBe("latest");
  });

  it("refuses a node AMI that is not a pinned release", () => {
    expect(problemOf((r) => (r.clouds.aws.cluster.nodePoolAmiVersion = "latest"))).toEqual({
      path: "clouds.aws.cluster.nodePoolAmiVersion",
      value: "latest",
      message: "an EKS AMI release such as v20260714 (docs/capacity.md)",
    });
    // Required: a config from before the field existed names it, rather than launching whatever AMI is newest.
    expect(problemOf((r) => delete r.clouds.aws.cluster.nodePoolAmiVersion)).toMatchObject({ path: "clouds.aws.cluster.nodePoolAmiVersion", message: "is required: text" });
  });

  it("ends every pool's drains after its termination grace period, 24 hours unless config says otherwise", () => {
    const gracePeriods = (change?: (raw: any) => void) => manifests(change).filter((m) => m.kind === "NodePool").map((pool) => pool.spec.template.spec.terminationGracePeriod);
    expect(gracePeriods()).toEqual(["24h"]);
    expect(gracePeriods((r) => (r.clouds.aws.cluster.nodePools[0].terminationGracePeriod = "2h30m"))).toEqual(["2h30m"]);
    expect(problemOf((r) => (r.clouds.aws.cluster.nodePools[0].terminationGracePeriod = "Never"))).toMatchObject({ path: "clouds.aws.cluster.nodePools[0].terminationGracePeriod" });
  });

  describe("with pull-request previews", () => {
    const withPreviews = (raw: any) => {
      raw.previews = { environment: "develop", quota: { requestsCpu: "4", requestsMemory: "8Gi", pods: 40 } };
      raw.applications[0].repository = "https://github.com/acme/web";
      raw.applications[0].previews = true;
    };

    it("adds a spot pool for previews alone: a ceiling of twice their quota, and a taint only previews tolerate", () => {
      const platform = platformOf(withPreviews);
      const pools = (platform.capacity.nodeAutoscaler.manifests as any[]).filter((m) => m.kind === "NodePool");
      expect(pools.map((p) => p.metadata.name)).toEqual(["general", "preview"]);
      const preview = pools[1];
      expect(preview.spec.limits).toEqual({ cpu: "8", memory: "16Gi" });
      expect(preview.spec.template.spec.requirements).toContainEqual({ key: "karpenter.sh/capacity-type", operator: "In", values: ["spot"] });
      expect(preview.spec.template.metadata.labels).toEqual({ "platform.kit/pool": "preview" });
      expect(preview.spec.template.spec.taints).toEqual([{ key: "platform.kit/pool", value: "preview", effect: "NoSchedule" }]);
      // What the previews' syncs add to their pods matches the pool's label and taint.
      expect(platform.capacity.previewNodes).toEqual({
        nodeSelector: preview.spec.template.metadata.labels,
        tolerations: preview.spec.template.spec.taints.map((taint: any) => ({ ...taint, operator: "Equal" })),
      });
      // Spot for previews needs the Spot service-linked role even when no other pool launches Spot.
      const onDemandOnly = (r: any) => {
        withPreviews(r);
        r.clouds.aws.cluster.nodePools[0].capacityTypes = ["on-demand"];
      };
      expect(platformOf(onDemandOnly).karpenter.controllerPolicy.some((statement) => actionsOf(statement).includes("iam:CreateServiceLinkedRole"))).toBe(true);
    });

    it("adds no pool without previews", () => {
      expect(manifests().filter((m) => m.kind === "NodePool").map((p) => p.metadata.name)).toEqual(["general"]);
      expect(platformOf().capacity.previewNodes).toBeUndefined();
    });

    it("refuses a configured pool named like the previews' one", () => {
      expect(
        problemOf((raw) => {
          withPreviews(raw);
          raw.clouds.aws.cluster.nodePools[0].name = "preview";
        }),
      ).toEqual({ path: "clouds.aws.cluster.nodePools[0].name", value: "preview", message: "is the NodePool previews get on EKS; name the pool otherwise" });
    });

    it.skipIf(!shared.available)(`validates against Karpenter's NodePool CRD${skipNote(shared)}`, () => {
      const validator = crdValidator(path.join(shared.dir!, "crd-schemas"));
      const preview = (platformOf(withPreviews).capacity.nodeAutoscaler.manifests as any[]).find((m) => m.kind === "NodePool" && m.metadata.name === "preview");
      expect(validator.validate(preview)).toEqual([]);
      // The check can fail: a limit the schema does not know.
      expect(validator.validate({ ...preview, spec: { ...preview.spec, template: { ...preview.spec.template, spec: { ...preview.spec.template.spec, taints: [{ key: "x", effect: "Sometimes" }] } } } })).not.toEqual([]);
    });
  });

  it("runs the controller on the system group with this cluster's queue", () => {
    const { values } = platformOf().capacity.nodeAutoscaler;
    expect(values).toMatchObject({
      serviceAccount: { name: KARPENTER.serviceAccount },
      settings: { clusterName: CLUSTER, interruptionQueue: `${CLUSTER}-karpenter` },
      nodeSelector: { "eks.amazonaws.com/nodegroup": "system" },
      tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
    });
  });
});

const shared = sharedDataDir();

/** `spec.amiSelectorTerms[].alias` in the EC2NodeClass CRD of Karpenter 1.14.1, from the shared reference data. */
function nodeClassAliasSchema(): any {
  if (!shared.available) throw new Error(shared.reason);
  const schema = JSON.parse(readFileSync(path.join(shared.dir!, "crd-schemas", "karpenter.k8s.aws", "EC2NodeClass_v1.json"), "utf8"));
  return schema.properties.spec.properties.amiSelectorTerms.items.properties.alias;
}

const terraform = offlineTerraform();

describe.skipIf(!terraform.available)(`Karpenter's AWS resources in the offline plan of aws-platform${skipNote(terraform)}`, () => {
  let plan: any;
  const planned = (type: string): any[] =>
    plan.resource_changes.filter((c: any) => c.mode === "managed" && c.type === type).map((c: any) => c.change.after);

  beforeAll(() => {
    const plans: Record<string, OfflinePlanResult> = sharedOfflinePlans().plans;
    plan = plans["aws-platform"].plan;
  });

  it("plans the queue, its policy, the rules and their targets, the node role's access entry and the discovery tag", () => {
    expect(plannedTypes(plan)).toMatchObject({
      aws_sqs_queue: 1,
      aws_sqs_queue_policy: 1,
      aws_ec2_tag: 1,
      // Karpenter's nodes', the admins' and the CI roles'.
      aws_eks_access_entry: 5,
      // Seven platform services' and the three registry webhook Jobs'.
      aws_eks_pod_identity_association: 10,
      aws_eks_node_group: 1,
    });
  });

  it("encrypts the interruption queue and keeps notices only as long as they matter", () => {
    expect(planned("aws_sqs_queue")).toEqual([
      expect.objectContaining({ name: `${CLUSTER}-karpenter`, sqs_managed_sse_enabled: true, message_retention_seconds: 300 }),
    ]);
  });

  it("routes the four interruption event kinds to the queue", () => {
    // Karpenter's rules are the event-pattern ones not on image pushes; a schedule elsewhere in the stack has none.
    const rules = planned("aws_cloudwatch_event_rule").filter((rule) => rule.event_pattern && !rule.name.endsWith("-image-pushes"));
    expect(rules).toHaveLength(4);
    // The four kinds Karpenter's interruption controller handles, as EventBridge names them.
    expect(rules.map((rule) => JSON.parse(rule.event_pattern))).toEqual(
      expect.arrayContaining([
        { source: ["aws.health"], "detail-type": ["AWS Health Event"] },
        { source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] },
        { source: ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"] },
        { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"] },
      ]),
    );
    const targets = planned("aws_cloudwatch_event_target").filter((target) => target.target_id === "karpenter-interruption-queue");
    expect(targets).toHaveLength(4);
  });

  it("admits Karpenter's nodes with an EC2_LINUX access entry and gives the controller its role through Pod Identity", () => {
    expect(planned("aws_eks_access_entry").map((entry) => entry.type).sort()).toEqual(["EC2_LINUX", "STANDARD", "STANDARD", "STANDARD", "STANDARD"]);
    expect(planned("aws_eks_pod_identity_association")).toContainEqual(
      expect.objectContaining({ cluster_name: CLUSTER, namespace: KARPENTER.namespace, service_account: KARPENTER.serviceAccount }),
    );
  });

  it("tags the private subnets and the cluster security group for discovery, and no other subnet", () => {
    const tagged = planned("aws_subnet").filter((subnet) => subnet.tags?.["karpenter.sh/discovery"] === CLUSTER);
    expect(tagged.map((subnet) => subnet.tags.Name).sort()).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"].map((zone) => `${CLUSTER}-private-${zone}`));
    expect(planned("aws_ec2_tag")).toEqual([expect.objectContaining({ key: "karpenter.sh/discovery", value: CLUSTER })]);
  });

  it("plans a system group that is on-demand, tainted and spans every zone's private subnet", () => {
    const [group] = planned("aws_eks_node_group");
    expect(group).toMatchObject({
      node_group_name: "system",
      capacity_type: "ON_DEMAND",
      taint: [{ key: "CriticalAddonsOnly", effect: "NO_SCHEDULE" }],
      scaling_config: [{ min_size: 2, max_size: 2, desired_size: 2 }],
    });
  });
});
