import type { DatabaseState, RecoveryTier } from "../cloud";
import { describeCondition, getOptional, isTrue } from "../kubernetes";
import { NAMES } from "../names";
import { fail, ok, warn, type Finding } from "../report";
import type { EnvironmentTarget } from "../targets";
import { describeError } from "../timeout";
import { duration, hoursBetween, type Check, type CheckContext } from "./context";

/**
 * Whether an environment's database is reachable from its namespace's
 * identity, read-only: the server serves, the namespace's SecretStore (which
 * authenticates as the environment's application service account) has
 * synced the credentials into the namespace, and the server's own metric
 * shows connections. A connection attempt from the namespace would need a
 * pod there, which the doctor never starts; the secret's value is never read.
 */
async function database(context: CheckContext, environment: EnvironmentTarget, state: DatabaseState): Promise<Finding> {
  const check = `${environment.name}: database`;
  if (!state.up) return fail("data", check, `${state.source} is ${state.state}`, "start or repair it in the cloud console; check its events");
  let secret: any;
  try {
    secret = await getOptional(context.kube, `/apis/external-secrets.io/v1/namespaces/${environment.namespace}/externalsecrets/${NAMES.secrets.databaseSecret}`);
  } catch (error) {
    return warn("data", check, `${state.source} ${state.state}; credentials not checked: ${describeError(error)}`, "the cluster API must be readable to check the namespace's access");
  }
  if (!secret) return fail("data", check, `${state.source} ${state.state}; no ExternalSecret ${environment.namespace}/${NAMES.secrets.databaseSecret}`, `apply the ${environment.stacks.environment} stack`);
  if (!isTrue(secret)) {
    return fail("data", check, `${state.source} ${state.state}; the namespace's identity cannot read the credentials: ${describeCondition(secret)}`, `kubectl -n ${environment.namespace} describe secretstore ${NAMES.secrets.databaseStore}: the application identity's access to the secret`);
  }
  const synced = secret.status?.refreshTime ? `, synced ${duration(hoursBetween(context.now, new Date(secret.status.refreshTime)))} ago` : "";
  const connections =
    state.connections === undefined
      ? "no connection metric"
      : state.connections > 0
        ? `up to ${state.connections} connections in 15 min`
        : "no connection in 15 min (idle or scaled to zero: reachability from the namespace is then not shown)";
  return ok("data", check, `${state.source} ${state.state}; credentials readable by the namespace's identity${synced}; ${connections}`);
}

/** A tier is late after 1.5 intervals plus an hour, missing after 2 intervals plus 2 hours (backup windows and job start delays). */
function tierFinding(environment: EnvironmentTarget, tier: RecoveryTier, now: Date, createdAt: Date | undefined, source: string): Finding {
  const check = `${environment.name}: backup ${tier.tier}`;
  const late = tier.intervalHours * 1.5 + 1;
  const missing = tier.intervalHours * 2 + 2;
  const next = "check the backup jobs of the vault: failed jobs, the backup role, a stopped plan";
  if (!tier.latest) {
    const age = createdAt ? hoursBetween(now, createdAt) : Infinity;
    if (age <= missing) return ok("data", check, `none yet; the database is ${duration(age)} old, the first is due within ${duration(tier.intervalHours)} (${source})`);
    return fail("data", check, `no recovery point (${source})`, next);
  }
  const age = hoursBetween(now, tier.latest);
  const evidence = `latest ${duration(age)} ago, every ${duration(tier.intervalHours)}; ${tier.count} in view (${source})`;
  if (age > missing) return fail("data", check, evidence, next);
  if (age > late) return warn("data", check, evidence, next);
  return ok("data", check, evidence);
}

const environments: Check = {
  component: "data",
  name: "databases and backups",
  kubernetes: false,
  async run(context) {
    const perEnvironment = await Promise.all(
      context.target.environments.map(async (environment): Promise<Finding[]> => {
        let state: DatabaseState;
        try {
          state = await context.probe.database(environment);
        } catch (error) {
          return [fail("data", `${environment.name}: database`, describeError(error), "give the doctor's identity read access to the database (docs/operations.md)")];
        }
        const findings = [await database(context, environment, state)];
        try {
          const backups = await context.probe.backups(environment);
          if (backups.tiers.length === 0) findings.push(tierFinding(environment, { tier: "any", intervalHours: 24, count: 0 }, context.now, state.createdAt, backups.source));
          for (const tier of backups.tiers) findings.push(tierFinding(environment, tier, context.now, state.createdAt, backups.source));
        } catch (error) {
          findings.push(fail("data", `${environment.name}: backups`, describeError(error), "give the doctor's identity read access to the backup vault (docs/operations.md)"));
        }
        return findings;
      }),
    );
    return perEnvironment.flat();
  },
};

export const DATA_CHECKS: readonly Check[] = [environments];
