import * as path from "node:path";
import { Release } from "@cdktf/provider-helm/lib/release";
import { AssetType, TerraformAsset, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { stringify } from "yaml";
import { checkReleaseName } from "./release-name";

/** A complete Kubernetes object. */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly [field: string]: unknown;
}

export interface ManifestsReleaseProps {
  /** Helm release name: at most 53 characters. */
  readonly name: string;
  readonly namespace: string;
  readonly manifests: KubernetesObject[];
  /** Releases whose CRDs or controllers these objects need. */
  readonly dependsOn?: ITerraformDependable[];
  /** @default 300 */
  readonly timeoutSeconds?: number;
  /**
   * Wait until the release's Jobs complete, so a failed Job fails the apply.
   * @default false
   */
  readonly waitForJobs?: boolean;
  /**
   * Roll back, deleting what the failed install or upgrade created.
   * @default true
   */
  readonly atomic?: boolean;
}

/**
 * Applies custom resources through a small chart shipped with the program.
 * `kubernetes_manifest` needs the CRD in the cluster at plan time, so it cannot
 * plan a fresh cluster; a Helm release only needs the CRD when it installs,
 * after the release that provides it (see `dependsOn`).
 */
export class ManifestsRelease extends Construct {
  /** The objects as the release applies them, for tests and reviews. */
  readonly manifests: KubernetesObject[];
  readonly release: Release;

  constructor(scope: Construct, id: string, props: ManifestsReleaseProps) {
    super(scope, id);
    checkReleaseName(this, props.name);
    this.manifests = props.manifests;
    const chart = new TerraformAsset(this, "chart", {
      path: path.join(__dirname, "manifests-chart"),
      type: AssetType.DIRECTORY,
    });
    this.release = new Release(this, "release", {
      name: props.name,
      namespace: props.namespace,
      chart: `./${chart.path}`,
      values: [stringify({ manifests: props.manifests })],
      atomic: props.atomic ?? true,
      cleanupOnFail: props.atomic ?? true,
      waitForJobs: props.waitForJobs,
      maxHistory: 5,
      timeout: props.timeoutSeconds ?? 300,
      dependsOn: props.dependsOn,
    });
  }
}
