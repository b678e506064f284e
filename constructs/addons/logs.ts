import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { LogRetention, LogsConfig } from "../../config/logs";
import type { LogStore } from "../contract";
import type { ManifestsRelease } from "../kubernetes/manifests-release";
import { alloyReleases } from "./alloy";
import type { HelmAddon, AddonOptions } from "./helm-addon";
import { lokiHealthRules, lokiRelease } from "./loki";

export interface LogsProps extends AddonOptions {
  readonly storage: LogStore;
  readonly storageClassName: string;
  readonly retention: LogRetention;
  readonly limits: LogsConfig["limits"];
  /** Environment names, which are also their namespaces. */
  readonly environments: string[];
  /** The release providing the ServiceMonitor and PrometheusRule CRDs and Alertmanager. */
  readonly monitoring: ITerraformDependable;
}

/**
 * Logs: Loki on the platform's object storage (loki.ts), Alloy on every node
 * (alloy.ts), log alert rules for Loki's ruler and Prometheus rules for Loki
 * itself.
 */
export class LogsAddon extends Construct {
  readonly loki: HelmAddon;
  readonly collector: HelmAddon;
  readonly events: HelmAddon;
  readonly rules: ManifestsRelease;
  /** Loki's ruler reads the log alert rules from this ConfigMap. */
  readonly logAlertRules: ConfigMapV1;

  constructor(scope: Construct, id: string, props: LogsProps) {
    super(scope, id);
    // Made in this scope, in this order: the resources keep their addresses.
    ({ release: this.loki, logAlertRules: this.logAlertRules } = lokiRelease(this, props));
    ({ collector: this.collector, events: this.events } = alloyReleases(this, props));
    this.rules = lokiHealthRules(this, props.monitoring);
  }
}
