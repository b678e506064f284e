import { ResourceGroupTemplateDeployment } from "@cdktf/provider-azurerm/lib/resource-group-template-deployment";
import type { ContainerRegistry } from "@cdktf/provider-azurerm/lib/container-registry";
import { Construct } from "constructs";
import type { RegistryWebhookAccess } from "../contract";
import { ROLES } from "./role-assignment";
import type { ServiceAccountIdentity } from "./workload-identity";

/** The Azure CLI image the webhook Job runs (`az` and a shell). */
export const AZURE_CLI_IMAGE = "mcr.microsoft.com/azure-cli:2.75.0";

/** The ARM API version of `Microsoft.ContainerRegistry/registries/webhooks` the template and the Job use. */
export const ACR_WEBHOOK_API_VERSION = "2023-07-01";

/** A webhook's name: 5 to 50 letters and digits, unique in the registry. */
export function acrWebhookName(environment: string): string {
  const name = `flux${environment.replace(/[^a-zA-Z0-9]/g, "")}`;
  if (name.length > 50) throw new Error(`the ACR webhook name '${name}' of environment '${environment}' is ${name.length} characters; ACR allows 50`);
  return name;
}

/**
 * The webhook as an ARM template: push events of every repository (the
 * registry holds only the platform's application repositories, and a
 * webhook's scope can name only one), sent to a placeholder the proxy
 * answers with 404 until the Job sets the Receiver's URL.
 */
export function acrWebhookTemplate(name: string, placeholderUri: string): Record<string, unknown> {
  return {
    $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    contentVersion: "1.0.0.0",
    parameters: { registryName: { type: "string" }, location: { type: "string" } },
    resources: [
      {
        type: "Microsoft.ContainerRegistry/registries/webhooks",
        apiVersion: ACR_WEBHOOK_API_VERSION,
        name: `[format('{0}/{1}', parameters('registryName'), '${name}')]`,
        location: "[parameters('location')]",
        properties: { serviceUri: placeholderUri, actions: ["push"], status: "enabled" },
      },
    ],
  };
}

/**
 * The Job's script: signs in with the federated token the workload identity
 * webhook mounts, and sets the webhook's URI (a PATCH: actions, scope and
 * status stay as the template made them). The body is written to the
 * Job's memory-backed HOME, never printed.
 */
export const ACR_WEBHOOK_SCRIPT = [
  "set -eu",
  'az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions --output none',
  `printf '{"properties":{"serviceUri":"%s"}}' "$(cat "$WEBHOOK_URL_FILE")" > "$HOME/body.json"`,
  `az rest --method patch --url "https://management.azure.com$WEBHOOK_ID?api-version=${ACR_WEBHOOK_API_VERSION}" --body "@$HOME/body.json" --output none`,
  'rm -f "$HOME/body.json"',
  'echo "webhook $WEBHOOK_ID points at its Receiver"',
  "",
].join("\n");

export interface AcrWebhookProps {
  readonly registry: ContainerRegistry;
  readonly environment: string;
  /** `hooks.<environment domain>`: the placeholder URI is on it. */
  readonly host: string;
  /** The Job's identity, federated with its service account. */
  readonly identity: ServiceAccountIdentity;
}

/**
 * One environment's ACR webhook. Not an `azurerm_container_registry_webhook`:
 * the provider reads the webhook's callback config (its URI, with the
 * Receiver's secret path) into the state at every refresh. An ARM deployment
 * creates it instead, and its state holds only the template with the
 * placeholder; the Job, whose identity is Contributor on this one webhook and
 * nothing else, sets the URI.
 */
export class AcrWebhook extends Construct {
  readonly deployment: ResourceGroupTemplateDeployment;
  readonly webhookId: string;
  readonly access: RegistryWebhookAccess;

  constructor(scope: Construct, id: string, props: AcrWebhookProps) {
    super(scope, id);
    const name = acrWebhookName(props.environment);
    this.deployment = new ResourceGroupTemplateDeployment(this, "webhook", {
      name: `webhook-${props.environment}`,
      resourceGroupName: props.registry.resourceGroupName,
      deploymentMode: "Incremental",
      templateContent: JSON.stringify(acrWebhookTemplate(name, `https://${props.host}/hook/pending`)),
      parametersContent: JSON.stringify({ registryName: { value: props.registry.name }, location: { value: props.registry.location } }),
    });
    this.webhookId = `${props.registry.id}/webhooks/${name}`;
    // Role assignments need their scope to exist.
    props.identity.grant(`webhook-${props.environment}`, ROLES.contributor, this.webhookId).dependsOn = [this.deployment.fqn];
    this.access = {
      identity: props.identity.workloadIdentity,
      image: AZURE_CLI_IMAGE,
      script: ACR_WEBHOOK_SCRIPT,
      env: { WEBHOOK_ID: this.webhookId },
    };
  }
}
