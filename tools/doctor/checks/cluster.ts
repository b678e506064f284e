import { conditionOf, describeCondition, getOptional, isTrue, KubernetesError, listItems } from "../kubernetes";
import { fail, ok, skip, warn, type Finding } from "../report";
import { some, type Check } from "./context";

const nodes: Check = {
  component: "cluster",
  name: "nodes Ready",
  kubernetes: true,
  async run({ kube }) {
    const items = await listItems(kube, "/api/v1/nodes");
    if (items.length === 0) return [fail("cluster", "nodes Ready", "the cluster has no node", "check the node groups or pools in the cloud console; kubectl get nodes")];
    const notReady = items.filter((node) => !isTrue(node));
    const cordoned = items.filter((node) => node.spec?.unschedulable).map((node) => node.metadata.name);
    const detail = cordoned.length > 0 ? `; cordoned: ${some(cordoned)}` : "";
    if (notReady.length === items.length) {
      return [fail("cluster", "nodes Ready", `0/${items.length} Ready: ${some(notReady.map((n) => `${n.metadata.name} (${describeCondition(n)})`), 2)}`, "kubectl describe node <name>: kubelet, network or capacity")];
    }
    if (notReady.length > 0) {
      return [warn("cluster", "nodes Ready", `${items.length - notReady.length}/${items.length} Ready; not Ready: ${some(notReady.map((n) => n.metadata.name))}${detail}`, "kubectl describe node <name>; a node being replaced is Ready again within minutes")];
    }
    return [ok("cluster", "nodes Ready", `${items.length}/${items.length} Ready${detail}`)];
  },
};

/** Reasons Karpenter gives on a NodeClaim that could not launch, and its Warning events. */
const KARPENTER_KINDS = new Set(["NodePool", "NodeClaim", "EC2NodeClass"]);

const nodePools: Check = {
  component: "cluster",
  name: "node pools",
  kubernetes: true,
  async run({ kube, target, now }) {
    if (target.nodePools.length === 0) return [skip("cluster", "node pools", "the cloud's cluster autoscaler scales the node pools; no Karpenter NodePool to check")];
    const [pools, claims, classes, events, allNodes] = await Promise.all([
      listItems(kube, "/apis/karpenter.sh/v1/nodepools"),
      listItems(kube, "/apis/karpenter.sh/v1/nodeclaims"),
      listItems(kube, "/apis/karpenter.k8s.aws/v1/ec2nodeclasses"),
      listItems(kube, "/api/v1/events?fieldSelector=type%3DWarning"),
      listItems(kube, "/api/v1/nodes"),
    ]);
    const findings: Finding[] = [];
    for (const name of target.nodePools) {
      const check = `node pool ${name}`;
      const pool = pools.find((p) => p.metadata?.name === name);
      if (!pool) {
        findings.push(fail("cluster", check, "no such NodePool", "apply the add-ons stack again; kubectl get nodepools"));
        continue;
      }
      const nodeCount = allNodes.filter((n) => n.metadata?.labels?.["karpenter.sh/nodepool"] === name).length;
      const className = pool.spec?.template?.spec?.nodeClassRef?.name;
      const nodeClass = classes.find((c) => c.metadata?.name === className);
      if (!isTrue(pool)) {
        const classState = nodeClass ? `; EC2NodeClass ${className}: ${describeCondition(nodeClass)}` : "";
        findings.push(fail("cluster", check, `${describeCondition(pool)}${classState}`, "kubectl describe nodepool and ec2nodeclass: subnets, security groups, AMI or the node role"));
        continue;
      }
      // Launch failures: NodeClaims of the pool that did not launch, and recent Warning events.
      const failedClaims = claims.filter((c) => c.metadata?.labels?.["karpenter.sh/nodepool"] === name && conditionOf(c, "Launched")?.status === "False");
      const recent = events
        .filter((e) => {
          const object = e.involvedObject ?? {};
          const aboutPool = KARPENTER_KINDS.has(object.kind) && [name, className].includes(object.name);
          const aboutFailedClaim = object.kind === "NodeClaim" && failedClaims.some((c) => c.metadata.name === object.name);
          return aboutPool || aboutFailedClaim;
        })
        .filter((e) => now.getTime() - new Date(e.lastTimestamp ?? e.eventTime ?? 0).getTime() < 3_600_000);
      const launchErrors = [...failedClaims.map((c) => `${c.metadata.name}: ${describeCondition(c, "Launched")}`), ...recent.map((e) => `${e.reason}: ${String(e.message ?? "").slice(0, 160)}`)];
      if (launchErrors.length > 0) {
        findings.push(warn("cluster", check, `Ready, ${nodeCount} nodes; last launch errors: ${some(launchErrors, 2)}`, "kubectl -n kube-system logs deploy/karpenter: capacity, quotas, Spot service-linked role or IAM"));
      } else {
        findings.push(ok("cluster", check, `Ready, ${nodeCount} nodes, no launch error in the last hour`));
      }
    }
    return findings;
  },
};

const metrics: Check = {
  component: "cluster",
  name: "metrics-server",
  kubernetes: true,
  async run({ kube }) {
    try {
      const list = await getOptional<{ items?: unknown[] }>(kube, "/apis/metrics.k8s.io/v1beta1/nodes");
      if (!list) return [fail("cluster", "metrics-server", "metrics.k8s.io is not served", "install metrics-server (the add-ons stack does on EKS); kubectl get apiservice v1beta1.metrics.k8s.io")];
      const count = list.items?.length ?? 0;
      if (count === 0) return [fail("cluster", "metrics-server", "metrics.k8s.io answers with no node", "kubectl -n kube-system logs deploy/metrics-server")];
      return [ok("cluster", "metrics-server", `resource metrics of ${count} nodes`)];
    } catch (error) {
      if (error instanceof KubernetesError && error.status === 503) {
        return [fail("cluster", "metrics-server", "metrics.k8s.io unavailable (503)", "kubectl get apiservice v1beta1.metrics.k8s.io; kubectl -n kube-system logs deploy/metrics-server")];
      }
      throw error;
    }
  },
};

export const CLUSTER_CHECKS: readonly Check[] = [nodes, nodePools, metrics];
