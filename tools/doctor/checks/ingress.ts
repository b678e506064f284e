import type { ZoneState } from "../cloud";
import { describeCondition, getOptional, isTrue } from "../kubernetes";
import { NAMES } from "../names";
import type { TlsResult } from "../net";
import { fail, ok, skip, warn, type Finding } from "../report";
import type { ApplicationTarget } from "../targets";
import { describeError } from "../timeout";
import { hoursBetween, some, type Check, type CheckContext } from "./context";

/** cert-manager renews 30 days ahead; a certificate this close to expiry has failed to renew for two weeks (EXPIRY_ALERT_DAYS). */
export const EXPIRY_WARNING_DAYS = 14;

const { routes } = NAMES;

const certificate: Check = {
  component: "ingress",
  name: "certificate",
  kubernetes: true,
  async run({ kube, target, now }) {
    const check = "certificate";
    const cert = await getOptional(kube, `/apis/cert-manager.io/v1/namespaces/${routes.namespace}/certificates/${routes.certificate}`);
    if (!cert) return [fail("ingress", check, `no Certificate ${routes.namespace}/${routes.certificate}`, "apply the add-ons stack")];
    const describe = `kubectl -n ${routes.namespace} describe certificate ${routes.certificate} (then its CertificateRequest, Order and Challenge)`;
    const notAfter = cert.status?.notAfter ? new Date(cert.status.notAfter) : undefined;
    const left = notAfter ? hoursBetween(notAfter, now) / 24 : undefined;
    const expiry = notAfter ? `expires ${notAfter.toISOString().slice(0, 10)} (${Math.floor(left!)} days)` : "never issued";
    const wanted = target.environments.flatMap((e) => e.names);
    const missing = wanted.filter((name) => !(cert.spec?.dnsNames ?? []).includes(name));
    const issuer = cert.spec?.issuerRef?.name;
    if (notAfter && left! <= 0) return [fail("ingress", check, `expired on ${notAfter.toISOString()}; ${describeCondition(cert)}`, describe)];
    if (!isTrue(cert)) return [fail("ingress", check, `${describeCondition(cert)}; ${expiry}`, describe)];
    if (missing.length > 0) return [fail("ingress", check, `Ready but does not cover ${some(missing)}`, "apply the add-ons stack: the certificate's names come from the environments")];
    if (left! < EXPIRY_WARNING_DAYS) return [warn("ingress", check, `Ready, ${expiry}: renewal is failing`, describe)];
    if (issuer !== target.issuer) return [warn("ingress", check, `Ready, ${expiry}, from ${issuer} but domain.issuer is ${target.issuer}`, "apply the add-ons stack")];
    return [ok("ingress", check, `Ready, ${expiry}, issuer ${issuer}, ${cert.spec?.dnsNames?.length ?? 0} names`)];
  },
};

/** Whether a certificate's subjectAltName (`DNS:a, DNS:*.b`) covers `host`; a wildcard covers one label. */
export function coversHost(subjectAltName: string | undefined, host: string): boolean {
  const names = (subjectAltName ?? "").split(",").map((s) => s.trim()).filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4).toLowerCase());
  const h = host.toLowerCase();
  return names.some((name) => name === h || (name.startsWith("*.") && h.endsWith(name.slice(1)) && !h.slice(0, -name.length + 1).includes(".")));
}

/** Let's Encrypt's staging hierarchy names itself `(STAGING) ...` in the issuer. */
export function isStagingCertificate(result: TlsResult): boolean {
  return [result.issuer?.O, result.issuer?.CN].some((field) => /\(STAGING\)/i.test(field ?? ""));
}

function tlsFinding(host: string, result: TlsResult, context: CheckContext): Finding | undefined {
  const check = `${host} HTTPS`;
  const issuer = [result.issuer?.CN, result.issuer?.O].filter(Boolean).join(", ");
  if (isStagingCertificate(result)) {
    const next =
      context.target.issuer === "letsencrypt-staging"
        ? "set domain.issuer: letsencrypt-production once DNS works, and apply the add-ons stack (docs/dns-and-tls.md)"
        : `domain.issuer is production but the staging certificate is still served: kubectl -n ${routes.namespace} describe certificate ${routes.certificate}`;
    return fail("ingress", check, `Let's Encrypt staging certificate (issuer ${issuer}): browsers reject it`, next);
  }
  if (!result.authorized) {
    const expired = result.authorizationError === "CERT_HAS_EXPIRED" ? ` on ${result.valid_to}` : "";
    return fail("ingress", check, `certificate not trusted: ${result.authorizationError}${expired} (issuer ${issuer})`, `kubectl -n ${routes.namespace} describe certificate ${routes.certificate}`);
  }
  if (!coversHost(result.subjectaltname, host)) {
    return fail("ingress", check, `certificate does not name ${host} (${result.subjectaltname})`, "apply the add-ons stack: the certificate's names come from the environments");
  }
  return undefined;
}

async function httpsFinding(application: ApplicationTarget, context: CheckContext): Promise<Finding> {
  const { host, healthPath } = application;
  const check = `${host} HTTPS`;
  let certificate: TlsResult;
  try {
    certificate = await context.net.tls(host);
  } catch (error) {
    return fail("ingress", check, `no TLS handshake on ${host}:443: ${describeError(error)}`, "check the gateway's load balancer and the routes' certificate secret (Kourier serves none without it)");
  }
  const bad = tlsFinding(host, certificate, context);
  if (bad) return bad;
  const validTo = certificate.valid_to ? new Date(certificate.valid_to) : undefined;
  const left = validTo ? Math.floor(hoursBetween(validTo, context.now) / 24) : undefined;
  const about = `certificate from ${certificate.issuer?.O ?? "?"} ${certificate.issuer?.CN ?? ""}`.trim() + (left !== undefined ? `, ${left} days left` : "");
  let status: number;
  try {
    status = (await context.net.http(`https://${host}${healthPath}`)).status;
  } catch (error) {
    return fail("ingress", check, `${about}; GET ${healthPath}: ${describeError(error)}`, "kubectl -n knative-serving logs deploy/net-kourier-controller; check the application's Knative Service");
  }
  if (status >= 500) return fail("ingress", check, `${status} at ${healthPath}; ${about}`, `kubectl -n <environment> get ksvc ${application.name}: revision not ready, or the gateway has no healthy upstream`);
  if (status >= 400) return warn("ingress", check, `${status} at ${healthPath}; ${about}`, `no route for this host: is ${application.name} delivered to this environment yet? kubectl get ksvc -A`);
  if (left !== undefined && left < EXPIRY_WARNING_DAYS) return warn("ingress", check, `${status} at ${healthPath}; ${about}`, "renewal is failing: kubectl -n knative-serving describe certificate routes");
  return ok("ingress", check, `${status} at ${healthPath}; ${about}`);
}

async function redirectFinding(host: string, context: CheckContext): Promise<Finding> {
  const check = `${host} HTTP→HTTPS`;
  try {
    const answer = await context.net.http(`http://${host}/`);
    const redirected = [301, 302, 307, 308].includes(answer.status) && (answer.location ?? "").startsWith(`https://${host}`);
    if (redirected) return ok("ingress", check, `${answer.status} → ${answer.location}`);
    return fail("ingress", check, `${answer.status}${answer.location ? ` → ${answer.location}` : ""}, not a redirect to https://${host}`, "check config-network http-protocol: Redirected (knative-serving)");
  } catch (error) {
    return fail("ingress", check, `GET http://${host}/: ${describeError(error)}`, "check the gateway's load balancer listens on port 80");
  }
}

/** The gateway's public addresses: its load balancer's IPs, or the addresses its host name resolves to. */
async function gatewayOf(context: CheckContext): Promise<{ finding: Finding; names: string[]; addresses: string[] }> {
  const check = "gateway address";
  let service: any;
  try {
    service = await getOptional(context.kube, `/api/v1/namespaces/${routes.namespace}/services/${routes.gateway}`);
  } catch (error) {
    return { finding: skip("ingress", check, `cluster API not readable: ${describeError(error)}`), names: [], addresses: [] };
  }
  const ingress: { ip?: string; hostname?: string }[] = service?.status?.loadBalancer?.ingress ?? [];
  if (!service || ingress.length === 0) {
    return {
      finding: fail("ingress", check, service ? `Service ${routes.namespace}/${routes.gateway} has no load balancer address` : `no Service ${routes.namespace}/${routes.gateway}`, `kubectl -n ${routes.namespace} describe service ${routes.gateway}: load balancer events`),
      names: [],
      addresses: [],
    };
  }
  const names = ingress.flatMap((i) => (i.hostname ? [i.hostname.toLowerCase()] : []));
  const ips = ingress.flatMap((i) => (i.ip ? [i.ip] : []));
  const resolved = (await Promise.all(names.map((n) => context.net.resolve(n).catch(() => [] as string[])))).flat();
  const addresses = [...ips, ...resolved];
  return { finding: ok("ingress", check, `${[...names, ...ips].join(", ")}${names.length > 0 ? ` (${resolved.length} addresses)` : ""}`), names, addresses };
}

/** Whether a record's value points at the gateway: its IP, or its load balancer's host name (Route 53 alias, with or without `dualstack.`). */
const pointsAtGateway = (value: string, gateway: { names: string[]; addresses: string[] }): boolean =>
  gateway.addresses.includes(value) || gateway.names.some((name) => value.replace(/\.$/, "").toLowerCase().replace(/^dualstack\./, "") === name);

function zoneFindings(zone: ZoneState, context: CheckContext, gateway: { names: string[]; addresses: string[] }): Finding[] {
  const check = "zone records";
  const wanted = context.target.environments.flatMap((e) => e.names);
  const routable = zone.records.filter((r) => ["A", "AAAA", "CNAME"].includes(r.type));
  const missing = wanted.filter((name) => !routable.some((r) => r.name === name.toLowerCase()));
  const types = [...new Set(zone.records.map((r) => r.type))].sort();
  if (missing.length > 0) {
    return [
      fail(
        "ingress",
        check,
        `${zone.source} has no record for ${some(missing)} (it holds ${zone.records.length} record sets: ${types.join(", ") || "none"})`,
        "external-dns wrote nothing: kubectl -n external-dns logs deploy/external-dns (zone filter, permissions, ownership TXT)",
      ),
    ];
  }
  if (gateway.names.length + gateway.addresses.length > 0) {
    const elsewhere = wanted.filter((name) => {
      const record = routable.find((r) => r.name === name.toLowerCase())!;
      return !record.values.some((value) => pointsAtGateway(value, gateway));
    });
    if (elsewhere.length > 0) {
      const shown = elsewhere.map((name) => `${name} → ${routable.find((r) => r.name === name.toLowerCase())!.values.join(" ")}`);
      return [fail("ingress", check, `${some(shown, 2)}; the gateway is ${[...gateway.names, ...gateway.addresses].slice(0, 2).join(", ")}`, "external-dns has not updated them: kubectl -n external-dns logs deploy/external-dns (owner TXT records)")];
    }
  }
  return [ok("ingress", check, `${wanted.length} names in ${zone.source}${gateway.names.length + gateway.addresses.length > 0 ? " point at the gateway" : ""}`)];
}

async function delegationFinding(zone: ZoneState, context: CheckContext): Promise<Finding> {
  const check = "zone delegation";
  const published = await context.net.resolveNs(zone.zone);
  const expected = zone.nameServers.map((ns) => ns.toLowerCase());
  if (published.length === 0) {
    return fail("ingress", check, `public DNS has no NS record for ${zone.zone} (resolvers ${context.net.resolvers.join(", ")})`, `delegate ${zone.zone} to ${some(expected, 4)} at the registrar or parent zone (dns_name_servers output)`);
  }
  const foreign = published.filter((ns) => !expected.includes(ns));
  if (foreign.length > 0 || published.length === 0) {
    return fail("ingress", check, `${zone.zone} is delegated to ${some(published)}, not to the zone's ${some(expected, 2)}`, "update the NS records at the registrar or parent zone (dns_name_servers output)");
  }
  return ok("ingress", check, `${zone.zone} delegated to its ${published.length} name servers`);
}

/**
 * The public path to every application: the gateway's address, the zone's
 * records and delegation, then per host its public DNS answer, HTTPS with a
 * trusted certificate, and HTTP redirecting to HTTPS.
 */
const publicRoutes: Check = {
  component: "ingress",
  name: "public routes",
  kubernetes: false,
  async run(context) {
    const gateway = await gatewayOf(context);
    const findings: Finding[] = [gateway.finding];
    try {
      const zone = await context.probe.zone();
      findings.push(...zoneFindings(zone, context, gateway), await delegationFinding(zone, context));
    } catch (error) {
      findings.push(fail("ingress", "zone records", describeError(error), "give the doctor's identity read access to the zone (docs/operations.md)"));
    }
    const applications = context.target.environments.flatMap((e) => e.applications);
    const perHost = await Promise.all(
      applications.map(async (application): Promise<Finding[]> => {
        const dnsCheck = `${application.host} DNS`;
        let addresses: string[];
        try {
          addresses = await context.net.resolve(application.host);
        } catch (error) {
          return [fail("ingress", dnsCheck, describeError(error), "check the resolvers (--resolver)")];
        }
        if (addresses.length === 0) {
          return [fail("ingress", dnsCheck, `does not resolve publicly (resolvers ${context.net.resolvers.join(", ")})`, "see zone records and zone delegation above")];
        }
        const atGateway = gateway.addresses.length === 0 || addresses.some((a) => gateway.addresses.includes(a));
        const dns = atGateway
          ? ok("ingress", dnsCheck, `${some(addresses, 3)}${gateway.addresses.length > 0 ? " (the gateway)" : ""}`)
          : fail("ingress", dnsCheck, `${some(addresses, 3)}, not the gateway's ${some(gateway.addresses, 3)}`, "an old record or another owner: check the zone and external-dns logs");
        return [dns, await httpsFinding(application, context), await redirectFinding(application.host, context)];
      }),
    );
    findings.push(...perHost.flat());
    return findings;
  },
};

export const INGRESS_CHECKS: readonly Check[] = [certificate, publicRoutes];
