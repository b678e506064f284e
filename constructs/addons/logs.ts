import type { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { Construct } from "constructs";
import type { ManifestsRelease } from "../kubernetes/manifests-release";
import { alloyReleases, type AlloyProps } from "./alloy";
import type { HelmAddon } from "./helm-addon";
import { lokiHealthRules, lokiRelease, type LokiProps } from "./loki";

/** Loki's settings and Alloy's: the environments, the storage, the monitoring stack they wait for. */
export type LogsProps = LokiProps & AlloyProps;

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
