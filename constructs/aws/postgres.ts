import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { boundedName } from "../common/naming";
import { POSTGRES_PORT } from "../common/postgres";
import { ServiceRole, trustService, type PolicyStatement } from "./iam";

/** Log streams RDS PostgreSQL can export to CloudWatch. */
export const POSTGRES_LOG_EXPORTS = ["postgresql", "upgrade"];

export interface RdsPostgresProps {
  readonly identifier: string;
  readonly engineVersion: string;
  readonly instanceClass: string;
  /**
   * The database created with the instance.
   * @default - none: a shared server's databases are created by each environment's setup Job
   */
  readonly databaseName?: string;
  readonly storageGb: number;
  readonly maxStorageGb: number;
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** Security group allowed to connect on 5432 (the cluster's nodes). */
  readonly clientSecurityGroupId: string;
  readonly kmsKeyArn: string;
  readonly multiAz: boolean;
  readonly backupRetentionDays: number;
  /**
   * Production: deletion protection, `prevent_destroy` and a final snapshot.
   * @default false
   */
  readonly protect?: boolean;
  /**
   * Enhanced Monitoring: OS metrics every 60 seconds, through its own role.
   * @default false
   */
  readonly enhancedMonitoring?: boolean;
}

/**
 * PostgreSQL on RDS, private and encrypted. The master password is generated
 * and rotated by RDS in Secrets Manager, so it is never in Terraform state.
 */
export class RdsPostgres extends Construct {
  readonly instance: DbInstance;
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: RdsPostgresProps) {
    super(scope, id);
    const protect = props.protect ?? false;

    const subnets = new DbSubnetGroup(this, "subnets", {
      name: props.identifier,
      subnetIds: props.subnetIds,
      description: `Private subnets of ${props.identifier}`,
    });

    this.securityGroup = new SecurityGroup(this, "security-group", {
      name: `${props.identifier}-postgres`,
      description: `PostgreSQL ${props.identifier}: cluster nodes only`,
      vpcId: props.vpcId,
      tags: { Name: `${props.identifier}-postgres` },
    });
    new VpcSecurityGroupIngressRule(this, "from-cluster", {
      securityGroupId: this.securityGroup.id,
      referencedSecurityGroupId: props.clientSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: POSTGRES_PORT,
      toPort: POSTGRES_PORT,
      description: "PostgreSQL from the cluster's nodes",
    });

    const parameters = new DbParameterGroup(this, "parameters", {
      // A prefix, because a replacement is created before the old group is deleted.
      namePrefix: `${props.identifier}-pg${props.engineVersion}-`,
      family: `postgres${props.engineVersion}`,
      description: `TLS-only, connection logging: ${props.identifier}`,
      parameter: [
        { name: "rds.force_ssl", value: "1" },
        { name: "log_connections", value: "1" },
        { name: "log_disconnections", value: "1" },
        { name: "log_min_duration_statement", value: "1000" },
      ],
      lifecycle: { createBeforeDestroy: true },
    });

    const monitoringRole = props.enhancedMonitoring
      ? new ServiceRole(this, "monitoring-role", {
          name: boundedName(64, props.identifier, "rds-monitoring"),
          trust: trustService("monitoring.rds.amazonaws.com"),
          managedPolicies: ["service-role/AmazonRDSEnhancedMonitoringRole"],
        })
      : undefined;

    this.instance = new DbInstance(this, "instance", {
      identifier: props.identifier,
      engine: "postgres",
      engineVersion: props.engineVersion,
      instanceClass: props.instanceClass,
      dbName: props.databaseName,
      username: "platform_admin",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.kmsKeyArn,
      iamDatabaseAuthenticationEnabled: true,
      allocatedStorage: props.storageGb,
      maxAllocatedStorage: props.maxStorageGb,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: props.kmsKeyArn,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      parameterGroupName: parameters.name,
      port: POSTGRES_PORT,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      publiclyAccessible: false,
      multiAz: props.multiAz,
      backupRetentionPeriod: props.backupRetentionDays,
      backupWindow: "02:00-03:00",
      maintenanceWindow: "sun:03:30-sun:04:30",
      copyTagsToSnapshot: true,
      enabledCloudwatchLogsExports: POSTGRES_LOG_EXPORTS,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: props.kmsKeyArn,
      performanceInsightsRetentionPeriod: 7,
      monitoringInterval: monitoringRole ? 60 : undefined,
      monitoringRoleArn: monitoringRole?.arn,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      applyImmediately: !protect,
      deletionProtection: protect,
      skipFinalSnapshot: !protect,
      finalSnapshotIdentifier: protect ? `${props.identifier}-final` : undefined,
      deleteAutomatedBackups: !protect,
      lifecycle: { preventDestroy: protect },
      dependsOn: monitoringRole?.dependables,
    });
  }

  /** Reading the RDS-managed master secret and decrypting it with the database key. */
  readCredentialsStatements(kmsKeyArn: string): PolicyStatement[] {
    return [
      {
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        Resource: this.secretArn,
      },
      { Effect: "Allow", Action: "kms:Decrypt", Resource: kmsKeyArn },
    ];
  }

  get secretArn(): string {
    return this.instance.masterUserSecret.get(0).secretArn;
  }
}
