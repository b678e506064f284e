import type { ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";
import { IN_CLUSTER, type PublicDns } from "../contract";
import { ManifestsRelease, type KubernetesObject } from "../kubernetes/manifests-release";
import { addonBase, HelmAddon, type AddonOptions } from "./helm-addon";

/** The two Let's Encrypt environments, by ClusterIssuer name. */
export const ACME_SERVERS = {
  "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
  "letsencrypt-production": "https://acme-v02.api.letsencrypt.org/directory",
} as const;

export type IssuerName = keyof typeof ACME_SERVERS;

/** Days before expiry at which a certificate alerts; cert-manager renews 30 days before. */
export const EXPIRY_ALERT_DAYS = 14;

export interface CertManagerProps extends AddonOptions {
  /** The zone DNS-01 challenges are answered in, and the identity allowed to. */
  readonly dns: PublicDns;
  /** ACME account e-mail. @default - none: Let's Encrypt needs no address */
  readonly acmeEmail?: string;
}

/**
 * cert-manager and a ClusterIssuer for each Let's Encrypt environment, both
 * answering DNS-01 challenges in the platform's zone under the controller's
 * workload identity. DNS-01 rather than HTTP-01: it issues wildcards, and works
 * before any record points at the gateway.
 */
export class CertManagerAddon extends HelmAddon {
  /** The ClusterIssuers, applied once the CRDs exist. */
  readonly issuers: ManifestsRelease;

  constructor(scope: Construct, id: string, props: CertManagerProps) {
    super(scope, id, {
      ...addonBase(props),
      dependsOn: props.dependsOn,
      chart: "cert-manager",
      releaseName: "cert-manager",
      namespace: IN_CLUSTER.certManager.namespace,
      values: {
        // Kept on uninstall: deleting the CRDs would delete every Certificate and its secret.
        crds: { enabled: true, keep: true },
        serviceAccount: {
          create: true,
          name: IN_CLUSTER.certManager.serviceAccount,
          annotations: props.dns.certManager.identity.serviceAccountAnnotations,
        },
        podLabels: props.dns.certManager.identity.podLabels,
        // The chart's own ServiceMonitor, which follows its metrics port
        // wherever a release moves it (1.21 renamed it `http-metrics`).
        // honorLabels keeps the certificate's own `namespace` label on
        // certmanager_certificate_*, which the alerts group and describe by.
        prometheus: { enabled: true, servicemonitor: { enabled: true, honorLabels: true } },
        // Requests to schedule fairly, a memory limit so a leak cannot starve the node.
        resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
        webhook: { resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } } },
        cainjector: { resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } } },
        startupapicheck: { resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } } },
      },
    });
    this.issuers = new ManifestsRelease(this, "issuers", {
      name: "cluster-issuers",
      namespace: IN_CLUSTER.certManager.namespace,
      manifests: (Object.keys(ACME_SERVERS) as IssuerName[]).map((name) => clusterIssuer(name, props.dns, props.acmeEmail)),
      dependsOn: [this.release],
    });
  }

  /**
   * Alerts on certificates close to expiry or failing to issue. The chart's
   * ServiceMonitor needs the monitoring stack's CRD, so the release waits
   * for it too.
   */
  monitorWith(prometheus: ITerraformDependable): ManifestsRelease {
    this.release.dependsOn = [...(this.release.dependsOn ?? []), prometheus.fqn];
    return new ManifestsRelease(this, "monitoring", {
      name: "cert-manager-monitoring",
      namespace: IN_CLUSTER.certManager.namespace,
      manifests: [certificateRules()],
      dependsOn: [this.release, prometheus],
    });
  }
}

function clusterIssuer(name: IssuerName, dns: PublicDns, email: string | undefined): KubernetesObject {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name },
    spec: {
      acme: {
        server: ACME_SERVERS[name],
        ...(email ? { email } : {}),
        privateKeySecretRef: { name: `${name}-account` },
        solvers: [{ selector: { dnsZones: [dns.zoneName] }, dns01: dns.certManager.dns01 }],
      },
    },
  };
}

/** The alerting rules on cert-manager's certificate metrics. */
export function certificateRules(): KubernetesObject {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "certificates", namespace: IN_CLUSTER.certManager.namespace },
    spec: {
      groups: [
        {
          name: "certificates",
          rules: [
            {
              alert: "CertificateExpiresSoon",
              expr: `certmanager_certificate_expiration_timestamp_seconds - time() < ${EXPIRY_ALERT_DAYS} * 24 * 3600`,
              for: "1h",
              labels: { severity: "warning" },
              annotations: {
                summary: "A certificate expires within 14 days and has not been renewed.",
                description: "{{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}; cert-manager renews 30 days ahead, so renewal has been failing for over two weeks.",
              },
            },
            {
              alert: "CertificateNotReady",
              expr: 'max by (namespace, name) (certmanager_certificate_ready_status{condition!="True"}) == 1',
              for: "30m",
              labels: { severity: "warning" },
              annotations: {
                summary: "A certificate fails to issue or renew.",
                description: "{{ $labels.namespace }}/{{ $labels.name }} has not been Ready for 30 minutes: see `kubectl describe certificate`, its CertificateRequest and Challenge.",
              },
            },
          ],
        },
      ],
    },
  };
}

export interface RoutesCertificateProps {
  /** Namespace of the certificate and its secret: the gateway's. */
  readonly namespace: string;
  /** Every name served over HTTPS. */
  readonly dnsNames: readonly string[];
  readonly issuer: IssuerName;
}

/** Secret the routes' certificate is stored in. */
export const ROUTES_CERTIFICATE_SECRET = "routes-tls";

/**
 * Makes cert-manager write a self-signed certificate into the secret at once
 * and replace it when the ACME order succeeds. Kourier's controller exits
 * while its certificate's secret is missing, which takes every route down,
 * plain HTTP and cluster-local ones too; with a temporary certificate it runs
 * from the start, and only HTTPS clients see an untrusted certificate until
 * the real one is issued.
 */
export const TEMPORARY_CERTIFICATE_ANNOTATION = "cert-manager.io/issue-temporary-certificate";

/**
 * One certificate for every exposed name: Kourier's HTTPS listener serves a
 * single certificate for all external routes.
 */
export function routesCertificate(props: RoutesCertificateProps): KubernetesObject & { readonly spec: { readonly secretName: string; readonly dnsNames: string[]; readonly [field: string]: unknown } } {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: "routes", namespace: props.namespace, annotations: { [TEMPORARY_CERTIFICATE_ANNOTATION]: "true" } },
    spec: {
      secretName: ROUTES_CERTIFICATE_SECRET,
      dnsNames: [...props.dnsNames],
      issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: props.issuer },
      // A fresh key on each renewal: a leaked key is good only until the next one.
      privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
    },
  };
}
