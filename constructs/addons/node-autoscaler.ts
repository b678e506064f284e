import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { NodeAutoscaler } from "../contract";
import { ManifestsRelease } from "../kubernetes/manifests-release";
import { HelmAddon, type AddonOptions } from "./helm-addon";

export interface NodeAutoscalerAddonProps extends AddonOptions {
  /** What the platform asks for: chart, values and the pools it configures. */
  readonly autoscaler: NodeAutoscaler;
}

/**
 * The node autoscaler a platform asks for (Karpenter on EKS): its CRDs, the
 * controller, then the node classes and pools that bound what it may launch.
 * Which autoscaler it is, and every cloud-specific field, come from the
 * contract; this construct only orders the three steps.
 */
export class NodeAutoscalerAddon extends Construct {
  readonly crds?: HelmAddon;
  readonly controller: HelmAddon;
  /** The node classes and pools; workloads can schedule once these exist. */
  readonly pools: ManifestsRelease;

  constructor(scope: Construct, id: string, props: NodeAutoscalerAddonProps) {
    super(scope, id);
    const { autoscaler, cloud, valuesDir } = props;
    if (autoscaler.crdChart !== undefined) {
      this.crds = new HelmAddon(this, "crds", {
        cloud,
        valuesDir,
        dependsOn: props.dependsOn,
        chart: autoscaler.crdChart,
        releaseName: `${autoscaler.releaseName}-crd`,
        namespace: autoscaler.namespace,
      });
    }
    this.controller = new HelmAddon(this, "controller", {
      cloud,
      valuesDir,
      dependsOn: this.crds ? [this.crds.release] : props.dependsOn,
      chart: autoscaler.chart,
      releaseName: autoscaler.releaseName,
      namespace: autoscaler.namespace,
      values: autoscaler.values,
      // The CRD chart owns them, so that upgrades reach them.
      skipCrds: this.crds !== undefined,
    });
    this.pools = new ManifestsRelease(this, "pools", {
      name: `${autoscaler.releaseName}-node-pools`,
      namespace: autoscaler.namespace,
      manifests: autoscaler.manifests,
      dependsOn: [this.controller.release],
    });
  }

  /** What a release whose pods need workload nodes must wait for. */
  get dependables(): ITerraformDependable[] {
    return [this.pools.release];
  }
}
