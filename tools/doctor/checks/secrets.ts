import { describeCondition, getOptional, isTrue, listItems } from "../kubernetes";
import { NAMES } from "../names";
import { fail, ok, type Finding } from "../report";
import { some, type Check } from "./context";

const externalSecrets: Check = {
  component: "secrets",
  name: "ExternalSecrets",
  kubernetes: true,
  async run({ kube, target }) {
    const [secrets, clusterStore, stores] = await Promise.all([
      listItems(kube, "/apis/external-secrets.io/v1/externalsecrets"),
      getOptional(kube, `/apis/external-secrets.io/v1/clustersecretstores/${NAMES.secrets.clusterStore}`),
      Promise.all(target.environments.map((e) => getOptional(kube, `/apis/external-secrets.io/v1/namespaces/${e.namespace}/secretstores/${NAMES.secrets.databaseStore}`).then((store) => [e.namespace, store] as const))),
    ]);
    const findings: Finding[] = [];
    if (!clusterStore || !isTrue(clusterStore)) {
      findings.push(fail("secrets", `ClusterSecretStore ${NAMES.secrets.clusterStore}`, clusterStore ? describeCondition(clusterStore) : "missing", "the External Secrets controller's identity and the secret store's address (docs/security.md)"));
    }
    for (const [namespace, store] of stores) {
      if (!store || !isTrue(store)) {
        findings.push(fail("secrets", `SecretStore ${namespace}/${NAMES.secrets.databaseStore}`, store ? describeCondition(store) : "missing", `the application identity of ${namespace}: kubectl -n ${namespace} describe secretstore ${NAMES.secrets.databaseStore}`));
      }
    }
    const notReady = secrets.filter((s) => !isTrue(s));
    if (notReady.length > 0) {
      findings.push(
        fail(
          "secrets",
          "ExternalSecrets Ready",
          `${notReady.length}/${secrets.length} not Ready: ${some(notReady.map((s) => `${s.metadata.namespace}/${s.metadata.name} (${describeCondition(s)})`), 2)}`,
          "kubectl describe externalsecret: the remote key exists and the store's identity may read it",
        ),
      );
    } else {
      findings.push(ok("secrets", "ExternalSecrets Ready", `${secrets.length}/${secrets.length} Ready; stores Ready`));
    }
    return findings;
  },
};

export const SECRETS_CHECKS: readonly Check[] = [externalSecrets];
