import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, EXAMPLE_CONFIG_PATH } from "../config";
import { CHARTS } from "../constructs/addons/charts";
import { familyArchitecture } from "../config/aws";
import { AWS_REGIONS, AZURE_LOCATIONS } from "../config/regions";
import {
  checkAvailabilityZone,
  checkAzureVmSize,
  checkEc2InstanceType,
  checkRdsClass,
  decodeMembership,
  ec2Families,
  encodeMembership,
  REFERENCE_DIR,
} from "../config/reference";
import {
  parseAwsAvailabilityZones,
  parseAzureKnownSkus,
  parseAzureRegions,
  parseAzureRegionSizes,
  parseKarpenterInstanceTypes,
  parseRdsPostgresClasses,
  SOURCES,
} from "../tools/reference-data";

const reference = (file: string) => JSON.parse(readFileSync(path.join(REFERENCE_DIR, file), "utf8"));

describe("the reference lists in config/reference", () => {
  it.each(readdirSync(REFERENCE_DIR))("%s names its source and the day it was read", (file) => {
    const data = reference(file);
    expect(data.source).toBeTruthy();
    expect(data.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("read the EC2 types from the Karpenter release the platform installs", () => {
    const { version } = CHARTS.karpenter;
    expect(reference("aws-instance-types.json").source).toContain(`/v${version}/`);
    expect(SOURCES.ec2.url).toContain(`/v${version}/`);
  });

  it("know every zone-bearing region the config accepts, and every Azure location", () => {
    expect(Object.keys(reference("aws-availability-zones.json").zones).sort()).toEqual([...AWS_REGIONS].sort());
    const azure = reference("azure-regions.json").regions;
    // Restricted regions Microsoft's list leaves out; the config checks no zone options there.
    expect(AZURE_LOCATIONS.filter((location) => azure[location] === undefined)).toEqual(["jioindiacentral", "jioindiawest", "swedensouth"]);
  });

  it("hold what the example configures", () => {
    const config = loadConfig(EXAMPLE_CONFIG_PATH);
    const aws = config.clouds.aws!;
    for (const zone of aws.availabilityZones) expect(checkAvailabilityZone(zone, aws.region)).toEqual({ ok: true });
    for (const type of aws.cluster.systemNodeGroup.instanceTypes) expect(checkEc2InstanceType(type)).toEqual({ ok: true });
    for (const env of config.environments) expect(checkRdsClass(env.database.instanceClass, Number(env.database.engineVersion))).toEqual({ ok: true });
    const azure = config.clouds.azure!;
    for (const pool of [azure.cluster.systemPool, azure.cluster.userPool]) expect(checkAzureVmSize(pool.vmSize, azure.location)).toEqual({ ok: true });
  });
});

describe("the architecture the config derives from a family's name", () => {
  // The seam: config/instance-types.ts reads the architecture from the name; Karpenter labels every type with it.
  it("agrees with Karpenter's label for every family Karpenter lists", () => {
    const disagree = Object.entries(ec2Families())
      .filter(([family, data]) => familyArchitecture(family) !== data.arch)
      .map(([family, data]) => `${family}: ${data.arch}`);
    expect(disagree).toEqual([]);
  });
});

describe("the parsers of the published lists", () => {
  it("read Karpenter's instance-type reference", () => {
    const section = (type: string, labels: Record<string, string>) =>
      [`### \`${type}\``, "#### Labels", " | Label | Value |", " |--|--|", ...Object.entries(labels).map(([k, v]) => ` |${k}|${v}|`)].join("\n");
    const markdown = [
      "## m7g Family",
      section("m7g.large", {
        "karpenter.k8s.aws/instance-category": "m",
        "karpenter.k8s.aws/instance-cpu": "2",
        "karpenter.k8s.aws/instance-family": "m7g",
        "karpenter.k8s.aws/instance-generation": "7",
        "karpenter.k8s.aws/instance-memory": "8192",
        "karpenter.k8s.aws/instance-size": "large",
        "kubernetes.io/arch": "arm64",
        "node.kubernetes.io/instance-type": "m7g.large",
      }),
    ].join("\n");
    expect(parseKarpenterInstanceTypes(markdown)).toEqual({ m7g: { arch: "arm64", category: "m", generation: 7, sizes: { large: [2, 8192] } } });
  });

  it("read zone letters from AZ IDs, up to the highest ID of a region", () => {
    const markdown = ["| AZ ID | Region | Geography |", "| --- | --- | --- |", "| cac1-az1 | ca-central-1 | Canada |", "| cac1-az2 | ca-central-1 | Canada |", "| cac1-az4 | ca-central-1 | Canada |", "| usw1-az3 | us-west-1  † | California |"].join("\n");
    expect(parseAwsAvailabilityZones(markdown)).toEqual({ "ca-central-1": ["a", "b", "c", "d"], "us-west-1": ["a", "b", "c"] });
  });

  it("read the PostgreSQL cell of the RDS class table", () => {
    const markdown = [
      "| db\\.m5\\.large | MariaDB | Yes | MySQL | Oracle | All PostgreSQL 15, 14, 13, 12, and 11 versions; 10\\.17 and higher; 9\\.6\\.22 and higher |",
      "| db\\.m4\\.large | MariaDB | Yes | MySQL | Oracle | Lower than PostgreSQL 13 |",
      "| db\\.z1d\\.large | No | Yes | No | Yes | No |",
    ].join("\n");
    expect(parseRdsPostgresClasses(markdown, [9, 10, 11, 12, 13, 14, 15, 16])).toEqual({
      classes: { "db.m5.large": [9, 10, 11, 12, 13, 14, 15], "db.m4.large": [9, 10, 11, 12], "db.z1d.large": [] },
      newestMajor: 15,
    });
  });

  it("read Azure's VM sizes, their regions and the regions' zones", () => {
    expect(parseAzureKnownSkus("- name: Standard_D2ds_v5\n  family: standardDDSv5Family\n  discoveredOn: \"2025-05-15\"\n")).toEqual({ Standard_D2ds_v5: "standardDDSv5Family" });
    const go = 'initialOnDemandPrices["westus"] = map[string]float64{\n"Basic_A0": 0.1,\n"Standard_D2ds_v5": 0.1,\n}\ninitialOnDemandPrices["eastus"] = map[string]float64{\n"Standard_D4ds_v5": 0.2,\n}';
    expect(parseAzureRegionSizes(go)).toEqual({ westus: ["Standard_D2ds_v5"], eastus: ["Standard_D4ds_v5"] });
    const list = ["| Region | Availability zone support | Paired region | Physical location | Geography | Programmatic name |", "|---|---|---|---|---|---|", "| West US | | East US | California | United States | westus |", '| East US | :::image alt-text="Yes" source="media/icon-checkmark.svg"::: | West US | Virginia | United States | eastus |'].join("\n");
    expect(parseAzureRegions(list)).toEqual({ eastus: { zones: true, pair: "westus" }, westus: { zones: false, pair: "eastus" } });
  });

  it("store membership in a bit set that reads back the same", () => {
    const all = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    expect([...decodeMembership(all, encodeMembership(all, ["b", "i", "j"]))]).toEqual(["b", "i", "j"]);
  });
});
