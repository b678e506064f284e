import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CERTIFICATE_CHECK, CERTIFICATE_CHECK_CODE, lambdaPackage } from "../constructs/aws/certificate-check";
import { commandLineTool, skipNote } from "./support/environment";

/** The Lambda function's code, as the Lambda runtime loads it. */
const code = (): Promise<any> => import(path.join(CERTIFICATE_CHECK_CODE, "index.mjs"));

const openssl = commandLineTool("openssl", "OPENSSL");

/**
 * Certificates made for the test with openssl: a private CA and, signed by it,
 * certificates for `localhost` valid for 90 days and for 3, one for another
 * host, and a self-signed one, which is what a Let's Encrypt staging
 * certificate is to a browser: issued by a root it does not trust.
 */
function makeCertificates(dir: string) {
  const run = (...args: string[]) => {
    const result = spawnSync(openssl.path!, args, { cwd: dir, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${result.stderr}`);
  };
  const key = (name: string) => run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`);
  key("ca");
  run("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Test Root", "-days", "30", "-out", "ca.crt");
  const leaf = (name: string, host: string, days: number) => {
    key(name);
    writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=DNS:${host}\n`);
    run("req", "-new", "-key", `${name}.key`, "-subj", `/CN=${host}`, "-out", `${name}.csr`);
    run("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", String(days), "-extfile", `${name}.ext`, "-out", `${name}.crt`);
  };
  leaf("fresh", "localhost", 90);
  leaf("expiring", "localhost", 3);
  leaf("other", "other.example", 90);
  key("self");
  run("req", "-x509", "-new", "-key", "self.key", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-days", "90", "-out", "self.crt");
  const read = (file: string) => readFileSync(path.join(dir, file));
  return { ca: read("ca.crt"), pair: (name: string) => ({ key: read(`${name}.key`), cert: read(`${name}.crt`) }) };
}

describe.skipIf(!openssl.available)(`the certificate check's code against servers with good and bad certificates${skipNote(openssl)}`, () => {
  let dir: string;
  let certificates: ReturnType<typeof makeCertificates>;
  const servers: Server[] = [];
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "certificate-check-"));
    certificates = makeCertificates(dir);
  });
  afterAll(() => {
    for (const server of servers) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An HTTPS server on a free port with one of the certificates. */
  const serve = async (name: string): Promise<number> => {
    const server = createServer(certificates.pair(name), (_req, res) => res.end("ok"));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  };
  const check = async (name: string, options: { trustTestRoot?: boolean } = {}) =>
    (await code()).checkCertificate({ host: "localhost", path: "/healthz" }, CERTIFICATE_CHECK.minimumDaysLeft, {
      port: await serve(name),
      ca: options.trustTestRoot === false ? undefined : certificates.ca,
    });

  it("accepts a trusted certificate for the host with more than a week left", async () => {
    expect(await check("fresh")).toMatchObject({ host: "localhost", valid: true, daysLeft: 89 });
  });

  it("refuses a certificate from an issuer the trust store lacks, as a staging certificate is", async () => {
    const result = await check("fresh", { trustTestRoot: false });
    expect(result).toMatchObject({ valid: false });
    // The server sends no chain here; a staging server's chain ends at a root no store has (UNABLE_TO_GET_ISSUER_CERT_LOCALLY).
    expect(result.reason).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): /);
    expect((await check("self")).reason).toMatch(/^DEPTH_ZERO_SELF_SIGNED_CERT: /);
  });

  it("refuses a certificate for another host", async () => {
    expect((await check("other")).reason).toMatch(/^ERR_TLS_CERT_ALTNAME_INVALID: /);
  });

  it("refuses a certificate with less than a week to run", async () => {
    expect(await check("expiring")).toMatchObject({ valid: false, daysLeft: 2, reason: expect.stringMatching(/^expires .* in 2 days$/) });
  });

  it("reports each host as an embedded-metric-format log line CloudWatch reads metrics from", async () => {
    const line = JSON.parse((await code()).metricLine("acme-platform/CertificateCheck", { host: "web.apps.example.com", valid: false, reason: "x" }, 1_700_000_000_000));
    expect(line).toEqual({
      _aws: { Timestamp: 1_700_000_000_000, CloudWatchMetrics: [{ Namespace: "acme-platform/CertificateCheck", Dimensions: [["Host"]], Metrics: [{ Name: "CertificateValid", Unit: "Count" }] }] },
      Host: "web.apps.example.com",
      CertificateValid: 0,
      Reason: "x",
    });
  });
});

describe("the certificate check's deployment package", () => {
  it("is the code directory zipped, the same bytes on every synth", () => {
    const first = lambdaPackage(CERTIFICATE_CHECK_CODE);
    expect(lambdaPackage(CERTIFICATE_CHECK_CODE)).toBe(first);
    const entries = unzipSync(readFileSync(first));
    expect(Object.keys(entries)).toEqual(["index.mjs"]);
    expect(Buffer.from(entries["index.mjs"]).equals(readFileSync(path.join(CERTIFICATE_CHECK_CODE, "index.mjs")))).toBe(true);
  });
});
