import { describeCondition, getOptional, isTrue, listItems } from "../kubernetes";
import { NAMES } from "../names";
import { fail, ok, warn, type Finding } from "../report";
import type { EnvironmentTarget } from "../targets";
import { some, type Check, type CheckContext } from "./context";

const { flux } = NAMES;

/** Deployments that are not fully available, as `name (available/desired)`. */
function unavailable(deployments: any[], names: readonly string[]): string[] {
  return names.flatMap((name) => {
    const deployment = deployments.find((d) => d.metadata?.name === name);
    if (!deployment) return [`${name} (missing)`];
    const desired = deployment.spec?.replicas ?? 1;
    const available = deployment.status?.availableReplicas ?? 0;
    return available >= desired && desired > 0 ? [] : [`${name} (${available}/${desired} available)`];
  });
}

/**
 * Flux's controllers: through the Flux Operator's FluxInstance `flux` when it
 * exists, otherwise the flux2 chart's six Deployments.
 */
const controllers: Check = {
  component: "gitops",
  name: "Flux controllers",
  kubernetes: true,
  async run({ kube }) {
    const ns = flux.namespace;
    const [instance, deployments] = await Promise.all([
      getOptional(kube, `/apis/fluxcd.controlplane.io/v1/namespaces/${ns}/fluxinstances/${flux.instance}`),
      listItems(kube, `/apis/apps/v1/namespaces/${ns}/deployments`),
    ]);
    if (instance) {
      const components: string[] = instance.spec?.components ?? [...flux.controllers];
      const version = instance.status?.lastAppliedRevision ?? instance.spec?.distribution?.version ?? "unknown version";
      const down = unavailable(deployments, components);
      if (!isTrue(instance)) return [fail("gitops", "Flux controllers", `FluxInstance ${flux.instance} ${describeCondition(instance)}`, `kubectl -n ${ns} describe fluxinstance ${flux.instance}; kubectl -n ${ns} logs deploy/flux-operator`)];
      if (down.length > 0) return [fail("gitops", "Flux controllers", `FluxInstance Ready (${version}) but ${some(down)}`, `kubectl -n ${ns} describe deploy <name>`)];
      return [ok("gitops", "Flux controllers", `FluxInstance ${flux.instance} Ready, ${version}; ${components.length} controllers available`)];
    }
    const down = unavailable(deployments, flux.controllers);
    if (down.length > 0) return [fail("gitops", "Flux controllers", some(down), `kubectl -n ${ns} describe deploy <name>; kubectl -n ${ns} get events`)];
    const version = deployments.find((d) => d.metadata?.name === "source-controller")?.metadata?.labels?.["app.kubernetes.io/version"];
    return [ok("gitops", "Flux controllers", `${flux.controllers.length} controllers available (flux2 chart${version ? `, Flux ${version}` : ""})`)];
  },
};

/** `main@sha1:0f3c…` → `main@sha1:0f3c1a2` */
const shortRevision = (revision: string | undefined): string => (revision ? revision.replace(/(sha1|sha256):([0-9a-f]{7})[0-9a-f]+/, "$1:$2") : "none");

async function environmentGitOps({ kube }: CheckContext, environment: EnvironmentTarget): Promise<Finding[]> {
  const ns = environment.namespace;
  const source = `${environment.name}: source`;
  const sync = `${environment.name}: sync`;
  const [repository, kustomization] = await Promise.all([
    getOptional(kube, `/apis/source.toolkit.fluxcd.io/v1/namespaces/${ns}/gitrepositories/${NAMES.gitops.source}`),
    getOptional(kube, `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${ns}/kustomizations/${NAMES.gitops.sync}`),
  ]);
  const findings: Finding[] = [];
  const artifact: string | undefined = repository?.status?.artifact?.revision;
  if (!repository) {
    findings.push(fail("gitops", source, `no GitRepository ${ns}/${NAMES.gitops.source}`, `apply the ${environment.stacks.environment} stack`));
  } else if (!isTrue(repository)) {
    findings.push(fail("gitops", source, `${describeCondition(repository)}`, `check the Git credentials secret and the URL: flux -n ${ns} get sources git`));
  } else {
    const drift: string[] = [];
    if (repository.spec?.url !== environment.gitops.url) drift.push(`URL ${repository.spec?.url} (config: ${environment.gitops.url})`);
    if (repository.spec?.ref?.branch !== environment.gitops.branch) drift.push(`branch ${repository.spec?.ref?.branch} (config: ${environment.gitops.branch})`);
    if (artifact && !artifact.startsWith(`${environment.gitops.branch}@`) && !artifact.startsWith("refs/heads/")) drift.push(`revision ${shortRevision(artifact)} is not of branch ${environment.gitops.branch}`);
    findings.push(
      drift.length > 0
        ? warn("gitops", source, `Ready at ${shortRevision(artifact)}, but ${drift.join("; ")}`, `apply the ${environment.stacks.environment} stack so the cluster follows the config`)
        : ok("gitops", source, `Ready at ${shortRevision(artifact)}`),
    );
  }
  if (!kustomization) {
    findings.push(fail("gitops", sync, `no Kustomization ${ns}/${NAMES.gitops.sync}`, `apply the ${environment.stacks.environment} stack`));
  } else if (!isTrue(kustomization)) {
    findings.push(fail("gitops", sync, describeCondition(kustomization), `flux -n ${ns} get kustomizations; fix the manifests under ${environment.gitops.path}`));
  } else {
    const applied: string | undefined = kustomization.status?.lastAppliedRevision;
    if (artifact && applied !== artifact) {
      findings.push(warn("gitops", sync, `applied ${shortRevision(applied)}, source at ${shortRevision(artifact)}`, `wait one interval, or flux -n ${ns} reconcile kustomization ${NAMES.gitops.sync}`));
    } else {
      findings.push(ok("gitops", sync, `Ready, applied ${shortRevision(applied)} (${kustomization.spec?.path ?? environment.gitops.path})`));
    }
  }
  return findings;
}

const environments: Check = {
  component: "gitops",
  name: "environments' source and sync",
  kubernetes: true,
  async run(context) {
    return (await Promise.all(context.target.environments.map((environment) => environmentGitOps(context, environment)))).flat();
  },
};

async function environmentImages({ kube }: CheckContext, environment: EnvironmentTarget): Promise<Finding> {
  const ns = environment.namespace;
  const check = `${environment.name}: image policies`;
  const [policies, repositories] = await Promise.all([
    listItems(kube, `/apis/image.toolkit.fluxcd.io/v1/namespaces/${ns}/imagepolicies`),
    listItems(kube, `/apis/image.toolkit.fluxcd.io/v1/namespaces/${ns}/imagerepositories`),
  ]);
  const problems: string[] = [];
  const empty: string[] = [];
  const resolved: string[] = [];
  for (const application of environment.applications) {
    const policy = policies.find((p) => p.metadata?.name === application.name);
    const repository = repositories.find((r) => r.metadata?.name === application.name);
    if (!policy || !repository) {
      problems.push(`${application.name}: no ${!repository ? "ImageRepository" : "ImagePolicy"}`);
      continue;
    }
    if (!isTrue(repository)) {
      problems.push(`${application.name}: scan ${describeCondition(repository)}`);
      continue;
    }
    if (repository.status?.lastScanResult?.tagCount === 0) {
      empty.push(application.name);
      continue;
    }
    // image.toolkit.fluxcd.io/v1 reports `latestRef`; v1beta2 reported `latestImage`.
    const latest = policy.status?.latestRef?.tag ?? policy.status?.latestImage?.split(":").pop();
    if (!isTrue(policy) || !latest) problems.push(`${application.name}: ${describeCondition(policy)}`);
    else resolved.push(`${application.name}:${latest}`);
  }
  if (problems.length > 0) {
    return fail("gitops", check, some(problems, 3), `flux -n ${ns} get images all: registry access of image-reflector-controller, or no tag matches the policy yet (push an image)`);
  }
  if (empty.length > 0) {
    return warn("gitops", check, `no image in the registry yet for ${some(empty)}${resolved.length > 0 ? `; resolved ${some(resolved, 4)}` : ""}`, "push a first image from the application's CI");
  }
  return ok("gitops", check, some(resolved, 6));
}

const images: Check = {
  component: "gitops",
  name: "image policies",
  kubernetes: true,
  async run(context) {
    return Promise.all(context.target.environments.map((environment) => environmentImages(context, environment)));
  },
};

export const GITOPS_CHECKS: readonly Check[] = [controllers, environments, images];
