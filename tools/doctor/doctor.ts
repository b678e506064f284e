import { MissingOutputError, type ClusterOutputs, type CloudProbe } from "./cloud";
import { CLUSTER_CHECKS } from "./checks/cluster";
import type { Check, CheckContext } from "./checks/context";
import { DATA_CHECKS } from "./checks/data";
import { GITOPS_CHECKS } from "./checks/gitops";
import { INGRESS_CHECKS } from "./checks/ingress";
import { MONITORING_CHECKS } from "./checks/monitoring";
import { SECRETS_CHECKS } from "./checks/secrets";
import type { ClusterEndpoint, KubernetesReader } from "./kubernetes";
import type { NetProbe } from "./net";
import type { OutputsSource } from "./outputs";
import { fail, ok, skip, type ClusterReport, type Finding } from "./report";
import type { ClusterTarget } from "./targets";
import { describeError, nextStepFor, withTimeout } from "./timeout";

/** Every check, in the order of the report's components. */
export const CHECKS: readonly Check[] = [...CLUSTER_CHECKS, ...GITOPS_CHECKS, ...INGRESS_CHECKS, ...MONITORING_CHECKS, ...DATA_CHECKS, ...SECRETS_CHECKS];

/** Told as checks finish, to draw a progress indicator. */
export interface Progress {
  begin(cluster: string, total: number): void;
  done(cluster: string, check: string): void;
  end(): void;
}

/** What the doctor talks to; the CLI passes the real clients, tests recorded ones. */
export interface DoctorClients {
  readonly outputs: OutputsSource;
  readonly probe: (target: ClusterTarget, outputs: ClusterOutputs) => CloudProbe | Promise<CloudProbe>;
  readonly kubernetes: (endpoint: ClusterEndpoint) => Promise<KubernetesReader>;
  readonly net: NetProbe;
}

export interface DoctorOptions {
  readonly now: Date;
  readonly heartbeatMinutes: number;
  /** Bound of one whole check (several calls); each call has its own, shorter bound. */
  readonly checkTimeoutMs: number;
  readonly projectRoot: string;
  readonly progress?: Progress;
  /** Only these components. @default every component */
  readonly components?: readonly string[];
}

/** A reader that fails every call, for the checks that run while the API cannot be reached. */
const unreachable = (reason: string): KubernetesReader => ({
  get: () => Promise.reject(new Error(`cluster API not reachable: ${reason}`)),
});

async function readOutputs(target: ClusterTarget, outputs: OutputsSource): Promise<ClusterOutputs> {
  const [platform, ...data] = await Promise.all([outputs(target.stacks.platform), ...target.environments.map((e) => outputs(e.stacks.data))]);
  return { platform, data: Object.fromEntries(target.environments.map((e, i) => [e.name, data[i]])) };
}

/** Runs every check against one cluster. Never throws: what cannot be checked is a row saying why. */
export async function examineCluster(target: ClusterTarget, clients: DoctorClients, options: DoctorOptions): Promise<ClusterReport> {
  const report = (cluster: string, findings: Finding[]): ClusterReport => ({ cloud: target.cloud, cluster, findings });
  let outputs: ClusterOutputs;
  try {
    outputs = await readOutputs(target, clients.outputs);
  } catch (error) {
    return report(target.label, [fail("cluster", "stack outputs", describeError(error), nextStepFor(error, "check access to the state backend, or pass --outputs <file>"))]);
  }
  if (!outputs.platform) {
    return report(target.label, [fail("cluster", "stack outputs", `no state for ${target.stacks.platform}`, `deploy ${target.stacks.platform} first, or pass --outputs <file> (docs/operations.md)`)]);
  }
  let probe: CloudProbe;
  try {
    probe = await clients.probe(target, outputs);
  } catch (error) {
    const evidence = error instanceof MissingOutputError ? error.message : describeError(error);
    return report(target.label, [fail("cluster", "stack outputs", evidence, `apply ${target.stacks.platform} with this version of the program`)]);
  }

  const findings: Finding[] = [];
  let kube: KubernetesReader;
  let apiReachable = true;
  try {
    const endpoint = await probe.endpoint();
    kube = await clients.kubernetes(endpoint);
    const version = (await kube.get("/version")) as { gitVersion?: string };
    findings.push(ok("cluster", "API server", `${endpoint.server} answers, Kubernetes ${version.gitVersion ?? "?"}`));
  } catch (error) {
    apiReachable = false;
    kube = unreachable(describeError(error));
    findings.push(fail("cluster", "API server", describeError(error), nextStepFor(error, "the doctor needs network reach to the API endpoint (publicAccessCidrs / authorizedIpRanges) and a Kubernetes identity (docs/operations.md)")));
  }

  const context: CheckContext = { target, probe, kube, net: clients.net, now: options.now, heartbeatMinutes: options.heartbeatMinutes, projectRoot: options.projectRoot };
  const checks = CHECKS.filter((check) => !options.components || options.components.includes(check.component));
  const label = `${target.cloud}: ${probe.clusterName}`;
  options.progress?.begin(label, checks.length);
  const results = await Promise.all(
    checks.map(async (check): Promise<Finding[]> => {
      try {
        if (check.kubernetes && !apiReachable) return [skip(check.component, check.name, "the cluster API cannot be reached (see API server)")];
        return await withTimeout(check.name, options.checkTimeoutMs, () => check.run(context));
      } catch (error) {
        if (error instanceof MissingOutputError) {
          return [skip(check.component, check.name, error.message, `apply ${error.stackId} with this version of the program: it adds the output`)];
        }
        return [fail(check.component, check.name, describeError(error), nextStepFor(error, "run the doctor again; if it persists, check the component by hand"))];
      } finally {
        options.progress?.done(label, check.name);
      }
    }),
  );
  return report(probe.clusterName, [...findings, ...results.flat()]);
}

/** Every cluster, one after the other: each cluster's checks already run in parallel. */
export async function runDoctor(targets: readonly ClusterTarget[], clients: DoctorClients, options: DoctorOptions): Promise<ClusterReport[]> {
  const reports: ClusterReport[] = [];
  for (const target of targets) reports.push(await examineCluster(target, clients, options));
  options.progress?.end();
  return reports;
}
