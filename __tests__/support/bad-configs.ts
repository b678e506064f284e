/**
 * A corpus of wrong and edge-case configurations, each a change to the
 * example, with what a user should see: the field, and a sentence saying
 * what is allowed; or, for settings the platform ignores and values newer
 * than the reference lists, a warning naming the field; or, for valid edge
 * cases, acceptance. `config-corpus.test.ts` runs every one through the
 * validator; `npx tsx scripts/config-corpus.ts` counts how many are rejected
 * well, slip through or are rejected with a misleading message.
 */

export type Expectation =
  | { readonly path: string; readonly message: string | RegExp; readonly severity?: "error" | "warning" }
  | "accept";

export interface CorpusCase {
  readonly name: string;
  /** The point of the issue the case belongs to (docs/configuration.md, "What the validator checks"). */
  readonly point: number;
  readonly change: (raw: any) => void;
  readonly expect: Expectation;
}

const awsOnly = (r: any) => delete r.clouds.azure;
const azureOnly = (r: any) => delete r.clouds.aws;
const setPool = (r: any, pool: object) => {
  delete r.clouds.aws.cluster.nodePools[0].instanceCategories;
  Object.assign(r.clouds.aws.cluster.nodePools[0], pool);
};
const db = (i: number, fields: object) => (r: any) => Object.assign(r.environments[i].database, fields);
/** Azure in a region without zones: no zone options, and no production (whose database must be zone-redundant). */
const azureAt = (location: string) => (r: any) => {
  r.clouds.azure.location = location;
  r.clouds.azure.cluster.systemPool.zones = [];
  r.clouds.azure.cluster.userPool.zones = [];
  r.clouds.azure.registry.zoneRedundancy = false;
  r.environments.splice(2, 1);
};

const cases: CorpusCase[] = [];
const add = (point: number, name: string, change: (raw: any) => void, expect: Expectation) => cases.push({ name, point, change, expect });
const error = (path: string, message: string | RegExp): Expectation => ({ path, message });
const warning = (path: string, message: string | RegExp): Expectation => ({ path, message, severity: "warning" });

// 1. Things that do not exist.
const SYSTEM = "clouds.aws.cluster.systemNodeGroup.instanceTypes";
for (const [type, message] of [
  ["m7i.hugex", /m7i has no size hugex; its sizes are large, xlarge/],
  ["m7x.large", /no EC2 instance type of that name/],
  ["t3.nano2", /t3 has no size nano2/],
  ["c5.larg", /c5 has no size larg/],
  ["m6i.medium", /m6i has no size medium/],
  ["m5.96xlarge", /m5 has no size 96xlarge/],
  ["xyz1.large", /no EC2 instance type of that name/],
] as const) {
  add(1, `an EC2 instance type that does not exist: ${type}`, (r) => (r.clouds.aws.cluster.systemNodeGroup.instanceTypes = ["m7i.large", type]), error(`${SYSTEM}[1]`, message));
}
add(1, "an EC2 family newer than the list", (r) => (r.clouds.aws.cluster.systemNodeGroup.instanceTypes = ["m7i.large", "m12i.large"]), warning(`${SYSTEM}[1]`, /newest m generation is 9/));
const POOL = "clouds.aws.cluster.nodePools[0]";
for (const family of ["m7q", "c7z", "r5x", "mm7i", "t3z"]) {
  add(1, `a Karpenter family that does not exist: ${family}`, (r) => setPool(r, { instanceFamilies: ["m7i", family] }), error(`${POOL}.instanceFamilies[1]`, /no EC2 instance family of that name/));
}
add(1, "a Karpenter family newer than the list", (r) => setPool(r, { instanceFamilies: ["m7i", "c12i"] }), warning(`${POOL}.instanceFamilies[1]`, /newest c generation is/));
for (const category of ["mm", "q", "gpu", "cpu"]) {
  add(1, `a Karpenter category that does not exist: ${category}`, (r) => (r.clouds.aws.cluster.nodePools[0].instanceCategories = ["c", category]), error(`${POOL}.instanceCategories[1]`, /no EC2 instance category of that name/));
}
for (const generation of [12, 20]) {
  add(1, `a minimum generation no type has: ${generation}`, (r) => (r.clouds.aws.cluster.nodePools[0].minInstanceGeneration = generation), error(`${POOL}.minInstanceGeneration`, /the pool could launch nothing/));
}
for (const [zones, bad] of [
  [["eu-west-1a", "eu-west-1d"], 1],
  [["eu-west-1a", "eu-west-1b", "eu-west-1z"], 2],
  [["eu-west-1e", "eu-west-1a"], 0],
] as const) {
  add(1, `a zone the region does not have: ${zones[bad]}`, (r) => (r.clouds.aws.availabilityZones = [...zones]), error(`clouds.aws.availabilityZones[${bad}]`, /eu-west-1 has no such zone; its zones are eu-west-1a, eu-west-1b, eu-west-1c/));
}
add(1, "a zone the region does not have, in another region", (r) => Object.assign(r.clouds.aws, { region: "us-east-2", availabilityZones: ["us-east-2a", "us-east-2d"] }), error("clouds.aws.availabilityZones[1]", /us-east-2 has no such zone/));
add(1, "the fourth zone of a four-zone region", (r) => Object.assign(r.clouds.aws, { region: "us-west-2", availabilityZones: ["us-west-2a", "us-west-2d"] }), "accept");
const CLASS = "environments[0].database.instanceClass";
for (const [value, message] of [
  ["db.t4g.mciro", /db.t4g has no size mciro/],
  ["db.m5.huge", /db.m5 has no size huge/],
  ["db.r6g.48xlarge", /db.r6g has no size 48xlarge/],
  ["db.m7z.large", /no RDS instance class of that name/],
  ["db.q1.large", /no RDS instance class of that name/],
  ["db.z1d.large", /RDS offers db.z1d.large for other engines, not PostgreSQL/],
  ["db.x1e.xlarge", /for other engines, not PostgreSQL/],
  ["db.t2.micro", /RDS runs PostgreSQL 9 to 12 on db.t2.micro, not 17/],
  ["db.m4.large", /RDS runs PostgreSQL 9 to 12 on db.m4.large, not 17/],
  ["db.r4.large", /not 17/],
] as const) {
  add(1, `an RDS class that does not exist for PostgreSQL: ${value}`, db(0, { instanceClass: value }), error(CLASS, message));
}
add(1, "an RDS class not offered for the configured PostgreSQL version", db(0, { instanceClass: "db.m4.large", engineVersion: "15" }), error(CLASS, /not 15/));
add(1, "an RDS class newer than the list", db(0, { instanceClass: "db.m9g.large" }), warning(CLASS, /not in the RDS for PostgreSQL list/));
add(1, "a Graviton4 RDS class", db(0, { instanceClass: "db.r8g.large" }), "accept");
const VM = "clouds.azure.cluster.systemPool.vmSize";
for (const [size, message] of [
  ["Standard_D4dz_v5", /no Azure VM size of that name/],
  ["Standard_D3ds_v5", /no Azure VM size of that name/],
  ["Standard_D4ds_v5_Promo2", /no Azure VM size of that name/],
  ["Standard_Q4ds_v5", /no Azure VM size of that name/],
  ["Standard_D4ahs_v4", /not offered in westeurope/],
  ["Standard_D372ids_v7", /not offered in westeurope/],
] as const) {
  add(1, `an Azure VM size that does not exist here: ${size}`, (r) => (r.clouds.azure.cluster.systemPool.vmSize = size), error(VM, message));
}
add(1, "an Azure VM size newer than the list", (r) => (r.clouds.azure.cluster.systemPool.vmSize = "Standard_D4ds_v12"), warning(VM, /newest Dds version is v/));
for (const location of ["westus", "northcentralus", "ukwest", "canadaeast"]) {
  add(1, `zones in a region without zones: ${location}`, (r) => {
    azureAt(location)(r);
    r.clouds.azure.cluster.userPool.zones = ["1", "2"];
  }, error("clouds.azure.cluster.userPool.zones", new RegExp(`${location} has no availability zones`)));
}
add(1, "a zone-redundant registry in a region without zones", (r) => {
  azureAt("westus")(r);
  r.clouds.azure.registry.zoneRedundancy = true;
}, error("clouds.azure.registry.zoneRedundancy", /westus has no availability zones/));
add(1, "a zone-redundant backup vault in a region without zones", (r) => {
  azureAt("westus")(r);
  r.clouds.azure.backup.redundancy = "ZoneRedundant";
}, error("clouds.azure.backup.redundancy", /westus has no availability zones/));
add(1, "a highly available database in a region without zones", (r) => {
  azureAt("westus")(r);
  r.environments[1].database.highAvailability = true;
}, error("environments[1].database.highAvailability", /zone-redundant standby cannot be placed/));
add(1, "a region without zones and no zone option", azureAt("westus"), "accept");

// 2. Cloud naming rules.
add(2, "consecutive hyphens in the project", (r) => (r.project = "ac--me"), error("project", /no consecutive hyphens/));
add(2, "consecutive hyphens in an environment name", (r) => r.environments.push({ ...r.environments[0], name: "dev--1", stage: "develop" }), error("environments[3].name", /no consecutive hyphens/));
add(2, "consecutive hyphens in a Key Vault name", (r) => (r.clouds.azure.keyVault.name = "acme--kv"), error("clouds.azure.keyVault.name", /no consecutive hyphens/));
add(2, "an xn-- project, which prefixes bucket names", (r) => (r.project = "xn--acme"), error("project", /no consecutive hyphens/));
add(2, "an sthree- project, which prefixes bucket names", (r) => (r.project = "sthree-acme"), error("project", /S3 reserves those prefixes/));
add(2, "an amzn-s3-demo- project", (r) => (r.project = "amzn-s3-demo-x"), error("project", /S3 reserves those prefixes/));
for (const [bucket, message] of [
  ["xn--state", /S3 reserves the prefixes/],
  ["sthree-state", /S3 reserves the prefixes/],
  ["amzn-s3-demo-state", /S3 reserves the prefixes/],
  ["state-s3alias", /and the suffixes/],
  ["state--ol-s3", /and the suffixes/],
  ["state--x-s3", /and the suffixes/],
  ["state.mrap", /and the suffixes/],
  ["192.168.10.20", /IP address/],
  ["state..bucket", /3-63 lowercase letters/],
] as const) {
  add(2, `a state bucket name S3 refuses: ${bucket}`, (r) => (r.clouds.aws.stateBackend = { bucket, region: "eu-west-1" }), error("clouds.aws.stateBackend.bucket", message));
}
for (const key of ["aws:team", "AWS:team", "Aws:cost"]) {
  add(2, `a tag key AWS reserves: ${key}`, (r) => (r.tags[key] = "x"), error(`tags.${key}`, /reserved for AWS/));
}
for (const key of ["team<1>", "a%b", "owner&co", "path?x"]) {
  add(2, `a tag key AWS refuses: ${key}`, (r) => (r.tags[key] = "x"), error(`tags.${key}`, /what AWS accepts in tags/));
}
add(2, "a tag key Azure refuses, without Azure", (r) => {
  awsOnly(r);
  r.tags["a/b"] = "x";
}, "accept");
add(2, "a tag key Azure refuses, with Azure", (r) => (r.tags["a/b"] = "x"), error("tags.a/b", /Azure tag names cannot contain/));
add(2, "a tag value AWS refuses", (r) => (r.tags.owner = "team <platform>"), error("tags.owner", /what AWS accepts in tags/));
add(2, "more tags than a resource can carry", (r) => {
  for (let i = 0; i < 45; i++) r.tags[`extra-${i}`] = "x";
}, error("tags", /at most 43/));
add(2, "as many tags as a resource can carry", (r) => {
  for (let i = 0; i < 42; i++) r.tags[`extra-${i}`] = "x";
}, "accept");
for (const branch of ["feature..x", "main.lock", "-main", "ma in", "main~1", "release/", "@", "a@{b", "x//y", "a:b", "fix^2", "why?", "st*r", "[main]", ".hidden", "main."]) {
  add(2, `a branch name Git refuses: ${JSON.stringify(branch)}`, (r) => (r.gitops.branch = branch), error("gitops.branch", /branch/));
}
add(2, "an environment branch Git refuses", (r) => (r.environments[1].gitops = { branch: "x//y" }), error("environments[1].gitops.branch", /not a valid Git branch name/));
add(2, "an automation branch Git refuses", (r) => (r.gitops.automationBranch = "a:b"), error("gitops.automationBranch", /not a valid Git branch name/));
add(2, "a branch with a slash", (r) => (r.gitops.branch = "release/2026.12"), "accept");
add(2, "a zero-width space in the GitOps URL", (r) => (r.gitops.url = "https://git\u200bhub.com/acme/platform-deploy.git"), error("gitops.url", /invisible character \(U\+200B\)/));
add(2, "a Cyrillic letter in the GitOps host", (r) => (r.gitops.url = "https://g\u0456thub.com/acme/platform-deploy.git"), error("gitops.url", /printable ASCII only|look-alike/));
add(2, "a Cyrillic letter in a branch", (r) => (r.gitops.branch = "m\u0430in"), error("gitops.branch", /look-alike or invisible/));
add(2, "a zero-width joiner in a branch", (r) => (r.gitops.branch = "ma\u200din"), error("gitops.branch", /invisible character \(U\+200D\)/));
add(2, "a zero-width space in a tag value", (r) => (r.tags["cost-center"] = "plat\u200bform"), error("tags.cost-center", /invisible/));
add(2, "a right-to-left override in a tag value", (r) => (r.tags.owner = "team\u202eofni"), error("tags.owner", /invisible/));
add(2, "a zero-width space in an application name", (r) => (r.applications[0].name = "we\u200bb"), error("applications[0].name", /invisible|lowercase letters/));
add(2, "a look-alike in the base domain", (r) => (r.domain.base = "apps.ex\u0430mple.com"), error("domain.base", /invisible|a DNS name/));
add(2, "a zero-width space in a health path", (r) => (r.applications[1].healthPath = "/api/\u200bhealth"), error("applications[1].healthPath", /invisible|absolute URL path/));

// 3. Networks.
for (const cidr of ["100.64.0.0/16", "8.8.0.0/16", "11.0.0.0/16"]) {
  add(3, `an EKS service range outside the private ranges: ${cidr}`, (r) => (r.clouds.aws.cluster.serviceCidr = cidr), error("clouds.aws.cluster.serviceCidr", /inside 10.0.0.0\/8, 172.16.0.0\/12 or 192.168.0.0\/16/));
}
for (const ip of ["172.20.0.0", "172.20.0.1", "172.20.255.255"]) {
  add(3, `a cluster DNS address the service range cannot give: ${ip}`, (r) => (r.clouds.azure.cluster.dnsServiceIp = ip), error("clouds.azure.cluster.dnsServiceIp", /network, first or last address/));
}
const PUBLIC = "clouds.aws.cluster.publicAccessCidrs";
for (const ranges of [["0.0.0.0/1", "128.0.0.0/1"], ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2"], ["0.0.0.0/1"], ["64.0.0.0/2", "128.0.0.0/2"]]) {
  add(3, `an API endpoint opened to the internet in pieces: ${ranges.join(" + ")}`, (r) => (r.clouds.aws.cluster.publicAccessCidrs = ranges), error(PUBLIC, /% of all IPv4 addresses/));
}
for (const cidr of ["10.0.0.0/8", "192.168.1.0/24", "172.16.5.0/24", "100.64.0.0/10", "127.0.0.1/32", "169.254.0.0/16"]) {
  add(3, `a private range for a public endpoint: ${cidr}`, (r) => (r.clouds.aws.cluster.publicAccessCidrs = [cidr]), error(`${PUBLIC}[0]`, /not a public range/));
}
add(3, "an AKS API server opened to the internet in pieces", (r) => (r.clouds.azure.cluster.authorizedIpRanges = ["0.0.0.0/1", "128.0.0.0/1"]), error("clouds.azure.cluster.authorizedIpRanges", /% of all IPv4 addresses/));
add(3, "a private range for the AKS API server", (r) => (r.clouds.azure.cluster.authorizedIpRanges = ["10.1.0.0/16"]), error("clouds.azure.cluster.authorizedIpRanges[0]", /not a public range/));
add(3, "a private range in the Key Vault firewall", (r) => (r.clouds.azure.keyVault.allowedIpRanges = ["192.168.0.0/16"]), error("clouds.azure.keyVault.allowedIpRanges[0]", /not a public range/));
add(3, "many public ranges of a CI provider", (r) => (r.clouds.aws.cluster.publicAccessCidrs = ["4.148.0.0/16", "20.1.128.0/17", "52.160.0.0/11"]), "accept");

// 4. Capacity that can never run.
for (const [field, value] of [
  ["requestsCpu", "0"],
  ["requestsCpu", "0m"],
  ["requestsCpu", "0.0"],
  ["requestsMemory", "0"],
  ["requestsMemory", "0Gi"],
] as const) {
  add(4, `a quota of zero: ${field} ${value}`, (r) => (r.environments[0].quota[field] = value), error(`environments[0].quota.${field}`, /more than zero/));
}
for (const [field, value] of [
  ["defaultRequestCpu", "0"],
  ["defaultRequestMemory", "0Mi"],
] as const) {
  add(4, `a limit range of zero: ${field} ${value}`, (r) => (r.environments[0].limitRange[field] = value), error(`environments[0].limitRange.${field}`, /more than zero/));
}
add(4, "Karpenter CPU limits below the smallest node", (r) => (r.clouds.aws.cluster.nodePools[0].limits.cpu = "500m"), error(`${POOL}.limits.cpu`, /smallest node the pool may launch/));
add(4, "Karpenter memory limits below the smallest node", (r) => (r.clouds.aws.cluster.nodePools[0].limits.memory = "1Gi"), error(`${POOL}.limits.memory`, /smallest node the pool may launch/));
add(4, "Karpenter CPU limits below the smallest node of the families", (r) => setPool(r, { instanceFamilies: ["m7i"], limits: { cpu: "1", memory: "256Gi" } }), error(`${POOL}.limits.cpu`, /m7i.large, 2 vCPU/));
add(4, "Karpenter memory limits below the smallest node of the families", (r) => setPool(r, { instanceFamilies: ["r7i"], limits: { cpu: "64", memory: "8Gi" } }), error(`${POOL}.limits.memory`, /r7i.large/));
add(4, "Karpenter limits of one small node", (r) => setPool(r, { instanceFamilies: ["m7i"], limits: { cpu: "2", memory: "8Gi" } }), "accept");
add(4, "more Fargate namespaces than a profile's selectors", (r) => (r.clouds.aws.cluster.fargateNamespaces = ["a", "b", "c", "d", "e", "f"]), error("clouds.aws.cluster.fargateNamespaces", /at most 5 selectors/));
add(4, "as many Fargate namespaces as a profile's selectors", (r) => (r.clouds.aws.cluster.fargateNamespaces = ["a", "b", "c", "d", "e"]), "accept");
for (const [storage, max] of [
  [100, 105],
  [100, 100],
  [20, 21],
] as const) {
  add(4, `a storage ceiling less than 10 % above the storage: ${storage} → ${max}`, db(2, { storageGb: storage, maxStorageGb: max }), error("environments[2].database.maxStorageGb", /10 % above storageGb/));
}
add(4, "a storage ceiling exactly 10 % above", db(2, { storageGb: 100, maxStorageGb: 110 }), "accept");

// 5. Partitions.
for (const [region, partition] of [
  ["cn-north-1", "aws-cn"],
  ["cn-northwest-1", "aws-cn"],
  ["us-gov-west-1", "aws-us-gov"],
  ["us-gov-east-1", "aws-us-gov"],
] as const) {
  add(5, `a region outside the aws partition: ${region}`, (r) => Object.assign(r.clouds.aws, { region, availabilityZones: [`${region}a`, `${region}b`] }), error("clouds.aws.region", new RegExp(`${partition} partition`)));
}
add(5, "a state bucket in another partition", (r) => (r.clouds.aws.stateBackend = { bucket: "acme-state", region: "cn-north-1" }), error("clouds.aws.stateBackend.region", /aws-cn partition/));
for (const arn of ["arn:aws-cn:iam::123456789012:role/admins", "arn:aws-us-gov:iam::123456789012:role/admins"]) {
  add(5, `an admin ARN of another partition: ${arn.split(":")[1]}`, (r) => (r.clouds.aws.cluster.adminPrincipalArns = [arn]), error("clouds.aws.cluster.adminPrincipalArns[0]", /aws partition/));
}

// 6. Settings silently ignored.
add(6, "scale-to-zero timings on production", (r) => (r.environments[2].scaleToZero = { gracePeriodSeconds: 120, retentionPeriodSeconds: 600 }), warning("environments[2].scaleToZero", /production keeps at least one pod/));
add(6, "a semver range on develop", (r) => (r.environments[0].imagePolicy = { semverRange: "^2.0.0" }), warning("environments[0].imagePolicy.semverRange", /develop deploys the newest image/));
add(6, "a semver range on staging", (r) => (r.environments[1].imagePolicy = { semverRange: "~1.4" }), warning("environments[1].imagePolicy.semverRange", /staging deploys the newest image/));
add(6, "an environment named production with another stage", (r) => (r.environments[2].stage = "staging"), error("environments[2].stage", /named after a stage but set to stage staging/));
add(6, "an environment named develop with stage production", (r) => (r.environments[0].stage = "production"), error("environments[0].stage", /named after a stage but set to stage production/));
add(6, "an environment named staging with stage develop", (r) => (r.environments[1].stage = "develop"), error("environments[1].stage", /named after a stage/));
add(6, "every alert e-mail list empty", (r) => {
  r.alerts.emails = [];
  r.clouds.aws.backup.notificationEmails = [];
  r.clouds.azure.alertEmails = [];
  r.domain.acmeEmail = "certs@acme.io";
}, warning("alerts.emails", /no one receives the platform's alerts/));
add(6, "an Azure resource group for the zone without Azure", (r) => {
  awsOnly(r);
  r.domain.existingZone = { name: "example.com", resourceGroup: "dns" };
}, warning("domain.existingZone.resourceGroup", /has no effect without clouds.azure/));

// 7. A base domain too long for the ACME challenge name.
for (const length of [230, 240]) {
  add(7, `a base domain of ${length} characters`, (r) => (r.domain.base = longDomain(length)), error("domain.base", /DNS names hold at most 253/));
}
add(7, "the longest base domain that fits", (r) => (r.domain.base = longDomain(253 - "_acme-challenge.production.".length)), "accept");

// 8. Example values a real deploy must change (warnings, since the example itself synthesizes).
for (const path of ["project", "gitops.url", "clouds.azure.registry.name", "clouds.azure.keyVault.name", "clouds.azure.logStorage.accountName"]) {
  add(8, `the example's ${path} kept`, () => undefined, warning(path, /is the example's .*: choose your own/));
}

// 9. A cloud's fields only when that cloud is configured.
add(9, "an AWS-only config without Flexible Server SKUs", (r) => {
  awsOnly(r);
  for (const env of r.environments) delete env.database.skuName;
}, "accept");
add(9, "an Azure-only config without RDS classes", (r) => {
  azureOnly(r);
  for (const env of r.environments) delete env.database.instanceClass;
}, "accept");
add(9, "an AWS config without an RDS class", (r) => delete r.environments[1].database.instanceClass, error("environments[1].database.instanceClass", /required when clouds.aws is set: the RDS instance class \(AWS\)/));
add(9, "an Azure config without a SKU", (r) => delete r.environments[1].database.skuName, error("environments[1].database.skuName", /required when clouds.azure is set: the Flexible Server SKU \(Azure\)/));

// 10. Unquoted numbers.
add(10, "an unquoted PostgreSQL version", db(0, { engineVersion: 16 }), "accept");
add(10, "an unquoted Kubernetes version that reads back the same", (r) => (r.clouds.aws.cluster.version = 1.31), "accept");
add(10, "an unquoted CPU quota", (r) => (r.environments[0].quota.requestsCpu = 4), "accept");
add(10, "an unquoted Karpenter CPU limit", (r) => (r.clouds.aws.cluster.nodePools[0].limits.cpu = 64), "accept");
add(10, "unquoted zones", (r) => (r.clouds.azure.cluster.userPool.zones = [1, 2, 3]), "accept");
add(10, "an unquoted surge count", (r) => (r.clouds.azure.cluster.upgradeSettings = { maxSurge: 1 }), "accept");
add(10, "an unquoted tag value", (r) => (r.tags["cost-center"] = 1234), "accept");
add(10, "an unquoted disruption budget", (r) => (r.clouds.aws.cluster.nodePools[0].disruptionBudget = 2), "accept");
add(10, "an unquoted Kubernetes version that YAML shortens", (r) => (r.clouds.aws.cluster.version = 1.3), error("clouds.aws.cluster.version", /quote it: "1.30"/));
add(10, "an unquoted Kubernetes version that YAML shortens, on Azure", (r) => (r.clouds.azure.cluster.version = 1.3), error("clouds.azure.cluster.version", /quote it: "1.30"/));
add(10, "a PostgreSQL minor version", db(0, { engineVersion: 16.2 }), error("environments[0].database.engineVersion", /must be one of "15", "16", "17"/));

// Rules that held before, kept so that a change never loses them.
add(0, "a CIDR with host bits set", (r) => (r.clouds.aws.network.vpcCidr = "10.0.0.1/16"), error("clouds.aws.network.vpcCidr", /no host bits set/));
add(0, "a single availability zone", (r) => (r.clouds.aws.availabilityZones = ["eu-west-1a"]), error("clouds.aws.availabilityZones", /at least 2/));
add(0, "a zone of another region", (r) => (r.clouds.aws.availabilityZones = ["eu-west-1a", "us-east-1b"]), error("clouds.aws.availabilityZones[1]", /not in region eu-west-1/));
add(0, "an unsupported Kubernetes version", (r) => (r.clouds.aws.cluster.version = "1.27"), error("clouds.aws.cluster.version", /must be one of/));
add(0, "an invented AWS region", (r) => (r.clouds.aws.region = "eu-west-9"), error("clouds.aws.region", /did you mean "eu-west-1"/));
add(0, "an invented Azure region", (r) => (r.clouds.azure.location = "West Europe2"), error("clouds.azure.location", /not an Azure region name/));
add(0, "an API endpoint open to everyone", (r) => (r.clouds.aws.cluster.publicAccessCidrs = ["0.0.0.0/0"]), error(`${PUBLIC}[0]`, /never open to the whole internet/));
add(0, "a misspelt field", (r) => (r.domain.productionOnBse = false), error("domain", /did you mean "productionOnBase"/));
add(0, "a backup retention RDS refuses", db(0, { backupRetentionDays: 40 }), error("environments[0].database.backupRetentionDays", /at most 35/));
add(0, "production without HA", db(2, { highAvailability: false }), error("environments[2].database.highAvailability", /highly available/));
add(0, "a Flexible Server SKU the provider refuses", db(0, { skuName: "GP_Standard_D3ds_v5" }), error("environments[0].database.skuName", /not a Flexible Server SKU/));
add(0, "a Burstable SKU with HA", db(2, { skuName: "B_Standard_B2ms" }), error("environments[2].database.skuName", /Burstable/));
add(0, "a reserved namespace as environment", (r) => r.environments.push({ ...r.environments[0], name: "monitoring", stage: "develop" }), error("environments[3].name", /platform namespace/));
add(0, "a GitOps path leaving the repository", (r) => (r.environments[0].gitops = { path: "../other" }), error("environments[0].gitops.path", /remove '..'|relative directory/));
add(0, "a semver range that is not one", (r) => (r.environments[2].imagePolicy.semverRange = "latest"), error("environments[2].imagePolicy.semverRange", /semver range/));
add(0, "a quota request above its limit", (r) => (r.environments[0].quota.requestsCpu = "9"), error("environments[0].quota.requestsCpu", /must not exceed quota.limitsCpu/));
add(0, "a memory quantity in GB", (r) => (r.environments[0].quota.requestsMemory = "8GB"), error("environments[0].quota.requestsMemory", /memory quantity/));
add(0, "a pod subnet overlapping the VNet", (r) => (r.clouds.azure.cluster.podCidr = "10.50.0.0/16"), error("clouds.azure.cluster.podCidr", /overlaps the VNet/));
add(0, "a registry name too short", (r) => (r.clouds.azure.registry.name = "acr"), error("clouds.azure.registry.name", /5-50 letters and digits/));
add(0, "an unknown stage", (r) => r.environments.push({ ...r.environments[0], name: "qa" }), error("environments[3].stage", /set stage to one of/));

/** A DNS name of exactly `length` characters under example.com. */
function longDomain(length: number): string {
  const labels: string[] = [];
  let remaining = length - "example.com".length;
  while (remaining > 0) {
    const size = Math.min(62, remaining - 1);
    labels.push("a".repeat(size));
    remaining -= size + 1;
  }
  return [...labels, "example.com"].join(".");
}

export const BAD_CONFIGS: readonly CorpusCase[] = cases;
