import { appendFileSync } from "node:fs";
import { readSubject, subjectReport, tokenClaims, type TokenClaims } from "../tools/oidc-subject";

/**
 * Prints the subject of this job's OIDC token after a cloud login failed, so
 * the trust condition can be compared with what GitHub really sends
 * (tools/oidc-subject.ts). The token itself is never printed.
 *
 *   tsx scripts/oidc-subject.ts --cloud aws|azure
 *
 * Needs `id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN).
 */
const AUDIENCES = { aws: "sts.amazonaws.com", azure: "api://AzureADTokenExchange" } as const;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const cloud = args[args.indexOf("--cloud") + 1];
  if (cloud !== "aws" && cloud !== "azure") throw new Error("usage: oidc-subject --cloud aws|azure");
  const url = process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) throw new Error("no OIDC token can be requested: the job needs 'permissions: id-token: write'");
  const request = new URL(url);
  request.searchParams.set("audience", AUDIENCES[cloud]);
  const response = await fetch(request, { headers: { Authorization: `bearer ${bearer}`, Accept: "application/json" } });
  if (!response.ok) throw new Error(`GitHub refused an OIDC token: ${response.status}`);
  const { value } = (await response.json()) as { value: string };
  const claims = tokenClaims(value) as unknown as TokenClaims;
  const lines = subjectReport(readSubject(claims), cloud);
  for (const line of lines) console.log(`::notice title=OIDC subject::${line}`);
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary) appendFileSync(summary, `\n**OIDC subject.** ${lines.join(" ")} (docs/workflows.md, 'Which subject your repository has')\n`);
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});
