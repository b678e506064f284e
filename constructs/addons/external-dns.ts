import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { Construct } from "constructs";
import { IN_CLUSTER, type PublicDns } from "../contract";
import { addonBase, HelmAddon, type AddonOptions } from "./helm-addon";

/** ConfigMap holding the provider's configuration files. */
export const EXTERNAL_DNS_PROVIDER_CONFIG = "external-dns-provider";

/**
 * Prefix of the TXT ownership records, carrying the record type as a label of
 * its own: `extdns-cname.apps.example.com` owns the apex `apps.example.com`.
 * Without a prefix the owner of a zone's apex is `cname-apps.example.com`, a
 * sibling outside the zone that is never written, and the apex record stays
 * unowned: created once, never updated or deleted (docs/dns-and-tls.md).
 */
export const TXT_OWNERSHIP_PREFIX = "extdns-%{record_type}.";

/** Replaces the `*` of a wildcard in its ownership record's name, where it would not be a wildcard. */
export const TXT_WILDCARD_REPLACEMENT = "wildcard";

export interface ExternalDnsProps extends AddonOptions {
  readonly dns: PublicDns;
  /** Only names under this domain are ever written. */
  readonly domainFilter: string;
  /** `sync` also deletes records whose source is gone. @default upsert-only */
  readonly policy?: "upsert-only" | "sync";
}

/**
 * external-dns, publishing the names annotated on services (the Kourier
 * gateway's) in the platform's zone under the controller's workload identity.
 * It reads services only: no other source can make it write a record.
 */
export class ExternalDnsAddon extends Construct {
  readonly controller: HelmAddon;

  constructor(scope: Construct, id: string, props: ExternalDnsProps) {
    super(scope, id);
    const settings = props.dns.externalDns;
    const { namespace, serviceAccount, configDir } = IN_CLUSTER.externalDns;
    const ns = new NamespaceV1(this, "namespace", { metadata: { name: namespace, labels: { "app.kubernetes.io/managed-by": "cdktf" } } });
    // Mounted even when empty, so that every cloud's release has the same shape.
    const config = new ConfigMapV1(this, "provider-config", { metadata: { name: EXTERNAL_DNS_PROVIDER_CONFIG, namespace }, data: settings.configFiles, dependsOn: [ns] });
    this.controller = new HelmAddon(this, "controller", {
      ...addonBase(props),
      dependsOn: [...(props.dependsOn ?? []), ns, config],
      chart: "external-dns",
      releaseName: "external-dns",
      namespace,
      createNamespace: false,
      values: {
        provider: { name: settings.provider },
        sources: ["service"],
        domainFilters: [props.domainFilter],
        txtOwnerId: settings.ownerId,
        policy: props.policy ?? "upsert-only",
        registry: "txt",
        txtPrefix: TXT_OWNERSHIP_PREFIX,
        // A TXT ownership record named after a wildcard would carry a `*` in a middle label.
        extraArgs: [...settings.args, `--txt-wildcard-replacement=${TXT_WILDCARD_REPLACEMENT}`],
        env: settings.env,
        resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "128Mi" } },
        serviceAccount: { create: true, name: serviceAccount, annotations: settings.identity.serviceAccountAnnotations },
        podLabels: settings.identity.podLabels,
        extraVolumes: [{ name: "provider-config", configMap: { name: EXTERNAL_DNS_PROVIDER_CONFIG } }],
        extraVolumeMounts: [{ name: "provider-config", mountPath: configDir, readOnly: true }],
      },
    });
  }

  get release() {
    return this.controller.release;
  }
}
