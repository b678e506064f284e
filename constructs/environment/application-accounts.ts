import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { applicationServiceAccount, type ApplicationEndpoint, type ObjectStorageEndpoint } from "../contract";
import { ApplicationServiceAccount } from "./application-service-account";

/** The ConfigMap an application's object storage is described in. */
export const objectStorageConfigMap = (application: string): string => `${application}-object-storage`;

/** What the ConfigMap holds, as environment variables for `envFrom`. */
export function objectStorageSettings(storage: ObjectStorageEndpoint): Record<string, string> {
  return {
    OBJECT_STORAGE_PROVIDER: storage.provider,
    OBJECT_STORAGE_BUCKET: storage.bucket,
    OBJECT_STORAGE_ENDPOINT: storage.endpoint,
    ...storage.settings,
  };
}

export interface ApplicationAccountsProps {
  readonly namespace: string;
  /** What each application of the environment gets from the cloud, by application name. */
  readonly applications: Record<string, ApplicationEndpoint>;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Each application's own service account, `app-<name>`, carrying its own cloud
 * identity (its bucket), and, when it has object storage, the ConfigMap
 * `<name>-object-storage` that says where: names and endpoints only, never a
 * key. Keyed by the application's name, so adding one leaves the others.
 */
export class ApplicationAccounts extends Construct {
  /** Service account per application name. */
  readonly serviceAccounts: Record<string, string> = {};
  /** ConfigMap per application name, for those with object storage. */
  readonly objectStorage: Record<string, string> = {};
  /** What the contract gave, by application name. */
  readonly endpoints: Record<string, ApplicationEndpoint>;

  constructor(scope: Construct, id: string, props: ApplicationAccountsProps) {
    super(scope, id);
    this.endpoints = props.applications;
    for (const [application, endpoint] of Object.entries(props.applications)) {
      const account = new ApplicationServiceAccount(this, application, {
        name: applicationServiceAccount(application),
        namespace: props.namespace,
        identity: endpoint.identity,
        dependsOn: props.dependsOn,
      });
      this.serviceAccounts[application] = account.name;
      if (!endpoint.objectStorage) continue;
      const name = objectStorageConfigMap(application);
      new ConfigMapV1(this, `${application}-object-storage`, {
        metadata: { name, namespace: props.namespace, labels: { "app.kubernetes.io/part-of": application, "app.kubernetes.io/managed-by": "cdktf" } },
        data: objectStorageSettings(endpoint.objectStorage),
        dependsOn: props.dependsOn,
      });
      this.objectStorage[application] = name;
    }
  }
}
