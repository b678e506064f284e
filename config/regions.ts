/**
 * Regions the program accepts, so that a typo or an invented region fails at
 * synth instead of at the first apply. Not looked up: synth needs no
 * credentials. When a cloud opens a region, add it here.
 */

/**
 * AWS regions of the commercial partition (`aws`), where every ARN, service
 * principal and endpoint the program builds is valid.
 */
export const AWS_REGIONS = [
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "mx-central-1",
  "sa-east-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
] as const;

/**
 * Regions of AWS's other partitions: China (`aws-cn`) and GovCloud
 * (`aws-us-gov`). Their ARNs, service principals (`amazonaws.com.cn`),
 * DNS and service sets differ, so the program does not build for them; they
 * are listed to say so instead of "not a region".
 */
export const AWS_OTHER_PARTITION_REGIONS: Readonly<Record<string, string>> = {
  "cn-north-1": "aws-cn",
  "cn-northwest-1": "aws-cn",
  "us-gov-east-1": "aws-us-gov",
  "us-gov-west-1": "aws-us-gov",
};

/** Physical Azure public-cloud regions, by the names `az account list-locations` gives. */
export const AZURE_LOCATIONS = [
  "australiacentral",
  "australiacentral2",
  "australiaeast",
  "australiasoutheast",
  "austriaeast",
  "belgiumcentral",
  "brazilsouth",
  "brazilsoutheast",
  "canadacentral",
  "canadaeast",
  "centralindia",
  "centralus",
  "chilecentral",
  "eastasia",
  "eastus",
  "eastus2",
  "francecentral",
  "francesouth",
  "germanynorth",
  "germanywestcentral",
  "indonesiacentral",
  "israelcentral",
  "italynorth",
  "japaneast",
  "japanwest",
  "jioindiacentral",
  "jioindiawest",
  "koreacentral",
  "koreasouth",
  "malaysiawest",
  "mexicocentral",
  "newzealandnorth",
  "northcentralus",
  "northeurope",
  "norwayeast",
  "norwaywest",
  "polandcentral",
  "qatarcentral",
  "southafricanorth",
  "southafricawest",
  "southcentralus",
  "southeastasia",
  "southindia",
  "spaincentral",
  "swedencentral",
  "swedensouth",
  "switzerlandnorth",
  "switzerlandwest",
  "uaecentral",
  "uaenorth",
  "uksouth",
  "ukwest",
  "westcentralus",
  "westeurope",
  "westindia",
  "westus",
  "westus2",
  "westus3",
] as const;
