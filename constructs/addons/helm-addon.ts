import { Release } from "@cdktf/provider-helm/lib/release";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { stringify } from "yaml";
import { checkReleaseName } from "../kubernetes/release-name";
import { CHARTS, type ChartName } from "./charts";
import { DEFAULT_VALUES_DIR, releaseValues, type Values } from "./values";

/** What every add-on takes: declared here once, passed on as `addonBase(props)`. */
export interface AddonOptions {
  /** Label of the cloud, selecting the values overlay `<release>.<cloud>.yaml`. */
  readonly cloud: string;
  /** Directory of the per-release values files. @default helm-values/ at the project root */
  readonly valuesDir?: string;
  /** Releases or resources that must exist first. @default - none */
  readonly dependsOn?: ITerraformDependable[];
}

/** The settings an add-on hands on to each of its releases: its cloud and values directory. */
export function addonBase(options: AddonOptions): Pick<AddonOptions, "cloud" | "valuesDir"> {
  return { cloud: options.cloud, valuesDir: options.valuesDir };
}

export interface HelmAddonProps extends AddonOptions {
  readonly chart: ChartName;
  /** Helm release name, also the name of its values file: at most 53 characters. */
  readonly releaseName: string;
  readonly namespace: string;
  /** Values derived from config and the platform contract; user files win over them. */
  readonly values?: Values;
  /** Seconds Helm waits for the release to become ready. @default 600 */
  readonly timeoutSeconds?: number;
  /** @default true */
  readonly createNamespace?: boolean;
  /** Leave out the chart's `crds/`, when a separate CRD chart owns them. @default false */
  readonly skipCrds?: boolean;
}

/**
 * One Helm release of a pinned chart. Chart repository and version come only
 * from the pin table; values are the computed ones deep-merged with the
 * release's YAML files. A failed install or upgrade rolls back (`atomic`), so
 * a half-upgraded controller never stays behind.
 */
export class HelmAddon extends Construct {
  readonly release: Release;
  /** The merged values as the release receives them, for tests and reviews. */
  readonly values: Values;

  constructor(scope: Construct, id: string, props: HelmAddonProps) {
    super(scope, id);
    checkReleaseName(this, props.releaseName);
    const pin = CHARTS[props.chart];
    this.values = releaseValues(props.values ?? {}, props.valuesDir ?? DEFAULT_VALUES_DIR, props.releaseName, props.cloud);
    this.release = new Release(this, "release", {
      name: props.releaseName,
      namespace: props.namespace,
      createNamespace: props.createNamespace ?? true,
      repository: pin.repository,
      chart: pin.chart,
      version: pin.version,
      // lineWidth 0: a folded line could split a Terraform reference in two.
      values: [stringify(this.values, { lineWidth: 0 })],
      skipCrds: props.skipCrds,
      atomic: true,
      cleanupOnFail: true,
      wait: true,
      maxHistory: 5,
      timeout: props.timeoutSeconds ?? 600,
      dependsOn: props.dependsOn,
    });
  }
}
