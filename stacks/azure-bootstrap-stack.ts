import { productionEnvironments } from "../constructs/common/uptime-targets";
import { DataAzurermClientConfig } from "@cdktf/provider-azurerm/lib/data-azurerm-client-config";
import { DataAzurermSubscription } from "@cdktf/provider-azurerm/lib/data-azurerm-subscription";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { AzurermBackend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AzureConfig, PlatformConfig } from "../config";
import type { CiConfig } from "../config/ci";
import { AzureCiIdentities } from "../constructs/azure/ci-identities";
import { setUpAzureStack } from "../constructs/azure/stack-setup";
import { StateStorage } from "../constructs/azure/state-storage";
import { stateKey } from "../constructs/common/ci-state";
import { githubVariableOutputs } from "../constructs/common/github-variables";
import { useLocalState } from "../constructs/common/state";
import { clusterStackParts } from "../config/clusters";

export interface AzureBootstrapStackProps {
  readonly config: PlatformConfig;
  readonly azure: AzureConfig;
  readonly ci: CiConfig;
  /** The stacks the workflows plan and apply: their states are what the identities may touch. */
  readonly stacks: () => readonly TerraformStack[];
}

/**
 * What must exist before the first workflow runs, deployed once from a
 * workstation by someone who may assign roles on the subscription (Owner, or
 * User Access Administrator with Contributor): the storage account every
 * other stack keeps its state in, and the four CI identities with their
 * federated credentials and roles. It keeps its own state in a local file
 * until it is moved into the container it created
 * (`stateBackend.bootstrapStateInBackend`, docs/bootstrap.md); the workflows
 * never plan or apply it.
 */
export class AzureBootstrapStack extends TerraformStack {
  readonly state: StateStorage;
  readonly identities: AzureCiIdentities;

  constructor(scope: Construct, id: string, props: AzureBootstrapStackProps) {
    super(scope, id);
    const { config, azure, ci } = props;
    // The config requires a state backend with ci.
    const backend = azure.stateBackend!;
    setUpAzureStack(this, {
      config,
      azure,
      stackId: id,
      environment: "bootstrap",
      useState: (stack) =>
        backend.bootstrapStateInBackend
          ? new AzurermBackend(stack, {
              resourceGroupName: backend.resourceGroupName,
              storageAccountName: backend.storageAccountName,
              containerName: backend.containerName,
              key: stateKey(backend.keyPrefix, id),
              useAzureadAuth: true,
            })
          : useLocalState(stack, id),
    });
    const subscription = new DataAzurermSubscription(this, "subscription", {});
    const client = new DataAzurermClientConfig(this, "client", {});

    const resourceGroup = new ResourceGroup(this, "resource-group", {
      name: backend.resourceGroupName,
      location: azure.location,
      lifecycle: { preventDestroy: true },
    });
    this.state = new StateStorage(this, "state", {
      accountName: backend.storageAccountName,
      containerName: backend.containerName,
      location: azure.location,
      resourceGroupName: resourceGroup.name,
    });
    this.identities = new AzureCiIdentities(this, "ci", {
      project: config.project,
      ci,
      location: azure.location,
      resourceGroupName: resourceGroup.name,
      subscriptionScope: subscription.id,
      stateContainerScope: this.state.containerScope,
      keyPrefix: backend.keyPrefix,
      stacks: props.stacks,
      productionEnvironments: productionEnvironments(config),
      clusterStacks: clusterStackParts(config.clusters),
    });

    const repositoryVariables = {
      AZURE_PLAN_CLIENT_ID: this.identities.clientId("plan"),
      AZURE_REVIEW_CLIENT_ID: this.identities.clientId("review"),
      AZURE_DEPLOY_CLIENT_ID: this.identities.clientId("deploy"),
      AZURE_TENANT_ID: azure.tenantId ?? client.tenantId,
      AZURE_SUBSCRIPTION_ID: subscription.subscriptionId,
    };
    const productionVariables = { AZURE_PRODUCTION_CLIENT_ID: this.identities.clientId("production") };
    githubVariableOutputs(this, ci.repository, repositoryVariables, productionVariables);
  }
}
