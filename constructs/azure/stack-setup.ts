import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider";
import { Aspects, AzurermBackend, type TerraformStack } from "cdktf";
import type { AzureConfig, PlatformConfig } from "../../config";
import { standardTags } from "../common/naming";
import { stateKey } from "../common/ci-state";
import { useLocalState } from "../common/state";
import { StandardTags } from "./tagging";

/** Write-only arguments (`*_wo`) and ephemeral blocks need Terraform 1.11. */
export const AZURE_REQUIRED_TERRAFORM = ">= 1.11.0";

export interface AzureStackSetupProps {
  readonly config: PlatformConfig;
  readonly azure: AzureConfig;
  readonly stackId: string;
  /** Value of the `environment` tag: an environment name, or `platform` for shared resources. */
  readonly environment: string;
  /** Where the stack keeps its state. @default the configured backend, else local state */
  readonly useState?: (stack: TerraformStack) => void;
}

/**
 * The provider, backend and tags every Azure stack starts with. The
 * subscription comes from `ARM_SUBSCRIPTION_ID` at plan time, so synth needs
 * no Azure account. Resource providers are not registered by Terraform: that
 * needs subscription-wide rights the deployer should not hold day to day.
 */
export function setUpAzureStack(stack: TerraformStack, props: AzureStackSetupProps): AzurermProvider {
  const { config, azure, stackId, environment } = props;
  (props.useState ?? ((self: TerraformStack) => useAzureState(self, azure, stackId)))(stack);
  stack.addOverride("terraform.required_version", AZURE_REQUIRED_TERRAFORM);
  Aspects.of(stack).add(new StandardTags({ ...config.tags, ...standardTags(config.project, environment) }));
  return new AzurermProvider(stack, "azurerm", {
    features: [
      {
        // Purge protection makes a purge fail anyway; say so rather than try.
        keyVault: [{ purgeSoftDeleteOnDestroy: false, purgeSoftDeletedSecretsOnDestroy: false, recoverSoftDeletedKeyVaults: true, recoverSoftDeletedSecrets: true }],
        resourceGroup: [{ preventDeletionIfContainsResources: true }],
        // The platform's storage accounts admit only the cluster's subnet; the
        // deployer manages them through Resource Manager, never their data plane.
        storage: [{ dataPlaneAvailable: false }],
      },
    ],
    resourceProviderRegistrations: "none",
    storageUseAzuread: true,
  });
}

/** The azurerm backend (Entra ID auth, no storage keys) when configured, local state otherwise. */
export function useAzureState(stack: TerraformStack, azure: AzureConfig, stackId: string): void {
  const backend = azure.stateBackend;
  if (backend) {
    new AzurermBackend(stack, {
      resourceGroupName: backend.resourceGroupName,
      storageAccountName: backend.storageAccountName,
      containerName: backend.containerName,
      key: stateKey(backend.keyPrefix, stackId),
      useAzureadAuth: true,
    });
  } else {
    useLocalState(stack, stackId);
  }
}
