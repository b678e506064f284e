import { Resolver } from "node:dns/promises";
import * as http from "node:http";
import * as https from "node:https";
import * as tls from "node:tls";

/** A certificate as Node's tls module reports it (`TLSSocket.getPeerCertificate()`), and whether Node's trust store accepts it. */
export interface TlsResult {
  readonly authorized: boolean;
  /** `CERT_HAS_EXPIRED`, `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`, `ERR_TLS_CERT_ALTNAME_INVALID`, ... */
  readonly authorizationError?: string;
  readonly subject?: Readonly<Record<string, string>>;
  readonly issuer?: Readonly<Record<string, string>>;
  /** `DNS:a.example.com, DNS:*.example.com` */
  readonly subjectaltname?: string;
  /** `Mar  3 10:00:00 2027 GMT` */
  readonly valid_from?: string;
  readonly valid_to?: string;
}

export interface HttpResult {
  readonly status: number;
  readonly location?: string;
}

/**
 * The public internet as the doctor sees it: DNS through public resolvers,
 * a TLS handshake and single HTTP requests that follow no redirect. Tests
 * replace it with recorded answers.
 */
export interface NetProbe {
  /** A and AAAA addresses of `host` (through CNAMEs); empty when the name does not exist or has none. */
  resolve(host: string): Promise<string[]>;
  /** NS records of `zone`; empty when none. */
  resolveNs(zone: string): Promise<string[]>;
  tls(host: string): Promise<TlsResult>;
  /** One GET, redirects not followed. */
  http(url: string): Promise<HttpResult>;
  /** Which resolvers answer, for the evidence column. */
  readonly resolvers: readonly string[];
}

/** Public resolvers: the doctor checks what the internet sees, not a VPC's private view. */
export const PUBLIC_RESOLVERS = ["1.1.1.1", "8.8.8.8"];

const NO_ANSWER = new Set(["ENODATA", "ENOTFOUND", "NXDOMAIN", "ESERVFAIL"]);

export function realNet(timeoutMs: number, resolvers: readonly string[] = PUBLIC_RESOLVERS): NetProbe {
  const resolver = new Resolver({ timeout: Math.min(timeoutMs, 5000), tries: 2 });
  if (resolvers.length > 0) resolver.setServers([...resolvers]);
  const orEmpty = async (query: Promise<string[]>): Promise<string[]> => {
    try {
      return await query;
    } catch (error) {
      if (NO_ANSWER.has((error as NodeJS.ErrnoException).code ?? "")) return [];
      throw error;
    }
  };
  return {
    resolvers,
    async resolve(host) {
      const [v4, v6] = await Promise.all([orEmpty(resolver.resolve4(host)), orEmpty(resolver.resolve6(host))]);
      return [...v4, ...v6];
    },
    resolveNs: (zone) => orEmpty(resolver.resolveNs(zone)).then((names) => names.map((n) => n.replace(/\.$/, "").toLowerCase())),
    tls: (host) =>
      new Promise<TlsResult>((resolve, reject) => {
        const socket = tls.connect({ host, port: 443, servername: host, rejectUnauthorized: false, timeout: timeoutMs }, () => {
          const certificate = socket.getPeerCertificate();
          resolve({
            authorized: socket.authorized,
            authorizationError: socket.authorizationError ? String((socket.authorizationError as NodeJS.ErrnoException).code ?? socket.authorizationError) : undefined,
            subject: certificate.subject as unknown as Record<string, string>,
            issuer: certificate.issuer as unknown as Record<string, string>,
            subjectaltname: certificate.subjectaltname,
            valid_from: certificate.valid_from,
            valid_to: certificate.valid_to,
          });
          socket.end();
        });
        socket.on("timeout", () => socket.destroy(new Error(`TLS handshake with ${host}:443 timed out`)));
        socket.on("error", reject);
      }),
    http: (url) =>
      new Promise<HttpResult>((resolve, reject) => {
        const client = url.startsWith("https:") ? https : http;
        // The certificate is judged by tls() above; here only the answer counts, also behind an untrusted certificate.
        const request = client.get(url, { timeout: timeoutMs, rejectUnauthorized: false, headers: { "user-agent": "platform-doctor" } }, (response) => {
          resolve({ status: response.statusCode ?? 0, location: response.headers.location });
          response.resume();
          request.destroy();
        });
        request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out`)));
        request.on("error", reject);
      }),
  };
}
