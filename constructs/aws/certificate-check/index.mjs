// The certificate check's Lambda function: requests each target over HTTPS
// the way a browser does (Node's bundled Mozilla CA store, host name
// verification) and reports, per host, whether the certificate is trusted and
// how many days it has left. Results go to the function's log in CloudWatch's
// embedded metric format, which CloudWatch turns into metrics: no API call, no
// permission beyond writing the log. No dependencies, so the zip is this file.
import { request } from "node:https";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * One target's certificate: `valid` when the TLS handshake succeeded against
 * the default trust store and the certificate has at least `minimumDaysLeft`
 * days to run. `options.ca` and `options.port` exist for tests only.
 */
export function checkCertificate(target, minimumDaysLeft, options = {}) {
  const { port = 443, ca, timeoutMs = 10_000, now = Date.now() } = options;
  return new Promise((resolve) => {
    const done = (result) => resolve({ host: target.host, ...result });
    const req = request({ host: target.host, servername: target.host, port, path: target.path, method: "GET", ca, timeout: timeoutMs, agent: false }, (res) => {
      const certificate = res.socket.getPeerCertificate();
      res.resume();
      const daysLeft = Math.floor((Date.parse(certificate.valid_to) - now) / DAY_MS);
      if (daysLeft < minimumDaysLeft) done({ valid: false, daysLeft, reason: `expires ${certificate.valid_to}, in ${daysLeft} days` });
      else done({ valid: true, daysLeft });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // Untrusted issuer (a staging certificate), wrong name, expired, or no answer.
    req.on("error", (error) => done({ valid: false, reason: [error.code, error.message].filter(Boolean).join(": ") }));
    req.end();
  });
}

/** One log line in the embedded metric format: metrics CertificateValid and CertificateDaysLeft, by Host. */
export function metricLine(namespace, result, timestamp = Date.now()) {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [["Host"]], Metrics: [{ Name: "CertificateValid", Unit: "Count" }, ...(result.daysLeft === undefined ? [] : [{ Name: "CertificateDaysLeft", Unit: "None" }])] }],
    },
    Host: result.host,
    CertificateValid: result.valid ? 1 : 0,
    ...(result.daysLeft === undefined ? {} : { CertificateDaysLeft: result.daysLeft }),
    ...(result.reason ? { Reason: result.reason } : {}),
  });
}

/** The scheduled event carries the targets: `{ namespace, minimumDaysLeft, targets: [{ host, path }] }`. */
export async function handler(event) {
  const results = await Promise.all(event.targets.map((target) => checkCertificate(target, event.minimumDaysLeft)));
  for (const result of results) console.log(metricLine(event.namespace, result));
  return results;
}
