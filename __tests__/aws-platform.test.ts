import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../config";
import { configWith, onlyResource, resourcesOf, synthesize, type Synthesized, type TerraformJson } from "./support/synth";

describe("aws-platform", () => {
  let synth: Synthesized;
  let stack: TerraformJson;

  beforeAll(() => {
    synth = synthesize();
    stack = synth.stack("aws-platform");
  });
  afterAll(() => synth.cleanup());

  it("matches the reviewed snapshot", async () => {
    await expect(JSON.stringify(stack, null, 2)).toMatchFileSnapshot("./__snapshots__/aws-platform.tf.json");
  });

  it("uses only the aws provider", () => {
    expect(Object.keys(stack.provider ?? {})).toEqual(["aws"]);
  });

  it("tags every resource through default_tags, user tags merged in", () => {
    expect(stack.provider!.aws[0].default_tags).toEqual([
      { tags: { "cost-center": "platform", environment: "platform", "managed-by": "cdktf", project: "acme" } },
    ]);
  });

  it("keeps its state in the bucket aws-bootstrap creates, encrypted with the bootstrap's key, with S3-native locking", () => {
    expect(stack.terraform!.backend).toEqual({
      s3: { bucket: "acme-platform-tfstate", key: "platform/aws-platform.tfstate", region: "eu-west-1", encrypt: true, kms_key_id: "alias/acme/terraform-state", use_lockfile: true },
    });
  });

  describe("network", () => {
    it("spans the configured zones with a public, a private and a database subnet each", () => {
      const subnets = Object.values(resourcesOf(stack, "aws_subnet"));
      const tiers = subnets.map((s) => `${s.tags.Name.replace(/^acme-platform-|-eu-west-1[abc]$/g, "")} ${s.availability_zone}`);
      expect(tiers.sort()).toEqual(
        ["database", "private", "public"].flatMap((tier) => ["eu-west-1a", "eu-west-1b", "eu-west-1c"].map((zone) => `${tier} ${zone}`)),
      );
    });

    it("gives database subnets no route out of the VPC", () => {
      const tables = Object.values(resourcesOf(stack, "aws_route_table")).filter((t) => t.tags.Name === "acme-platform-database");
      expect(tables).toHaveLength(1);
      expect(tables[0].route).toBeUndefined();
    });

    it("tags subnets for internal and internet-facing load balancers", () => {
      const subnets = Object.values(resourcesOf(stack, "aws_subnet"));
      expect(subnets.filter((s) => s.tags["kubernetes.io/role/internal-elb"] === "1")).toHaveLength(3);
      expect(subnets.filter((s) => s.tags["kubernetes.io/role/elb"] === "1")).toHaveLength(3);
      expect(subnets.every((s) => s.map_public_ip_on_launch !== true)).toBe(true);
    });

    it("runs a NAT gateway per zone when asked", () => {
      expect(Object.keys(resourcesOf(stack, "aws_nat_gateway"))).toHaveLength(3);
    });
  });

  describe("EKS", () => {
    it("runs the configured version with every control-plane log type", () => {
      const cluster = onlyResource(stack, "aws_eks_cluster");
      expect(cluster.version).toBe("1.33");
      expect(cluster.enabled_cluster_log_types).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    });

    it("encrypts secrets with its own rotating KMS key", () => {
      const cluster = onlyResource(stack, "aws_eks_cluster");
      expect(cluster.encryption_config.resources).toEqual(["secrets"]);
      expect(cluster.encryption_config.provider.key_arn).toMatch(/^\$\{aws_kms_key\.cluster-key_\w+\.arn\}$/);
    });

    it("keeps the private endpoint on and limits the public one to the configured CIDRs", () => {
      const { vpc_config: vpc } = onlyResource(stack, "aws_eks_cluster");
      expect(vpc).toMatchObject({ endpoint_private_access: true, endpoint_public_access: true, public_access_cidrs: ["203.0.113.0/24"] });
      expect(JSON.stringify(vpc)).not.toContain("0.0.0.0/0");
    });

    it("authenticates through access entries for the configured admins and the CI roles, never the cluster's creator", () => {
      const cluster = onlyResource(stack, "aws_eks_cluster");
      expect(cluster.access_config).toEqual({ authentication_mode: "API", bootstrap_cluster_creator_admin_permissions: false });
      const entries = Object.values(resourcesOf(stack, "aws_eks_access_entry"));
      expect(entries.filter((e) => e.type === "STANDARD").map((e) => e.principal_arn.replace(/^arn:.*:role\//, "role/"))).toEqual([
        "role/acme-ci-deploy",
        "role/acme-ci-production",
        "role/acme-ci-review",
        "role/platform-admins",
      ]);
      // The other entry admits Karpenter's nodes, with no access policy beyond a node's.
      expect(entries.filter((e) => e.type !== "STANDARD").map((e) => e.type)).toEqual(["EC2_LINUX"]);
      const admin = Object.values(resourcesOf(stack, "aws_eks_access_policy_association")).filter((a) => a.principal_arn.includes("eks_admin-role-platform-admins_"));
      expect(admin).toEqual([expect.objectContaining({ policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", access_scope: { type: "cluster" } })]);
    });

    it("reads the creator flag only when creating the cluster, so changing it never replaces one", () => {
      expect(onlyResource(stack, "aws_eks_cluster").lifecycle).toEqual({ ignore_changes: ["access_config[0].bootstrap_cluster_creator_admin_permissions"] });
    });

    it("runs one fixed-size, on-demand system group on Amazon Linux 2023, tainted for critical add-ons", () => {
      const group = onlyResource(stack, "aws_eks_node_group");
      expect(group).toMatchObject({
        node_group_name: "system",
        ami_type: "AL2023_x86_64_STANDARD",
        capacity_type: "ON_DEMAND",
        instance_types: ["m7i.large", "m6i.large"],
        scaling_config: { min_size: 2, max_size: 2, desired_size: 2 },
        taint: [{ key: "CriticalAddonsOnly", effect: "NO_SCHEDULE" }],
      });
      // Nothing autoscales it, so a changed size in config must reach it.
      expect(group.lifecycle).toBeUndefined();
      expect(group.subnet_ids).toHaveLength(3);
    });

    it("installs the managed add-ons, the EBS CSI driver with its own role", () => {
      const addons = Object.values(resourcesOf(stack, "aws_eks_addon"));
      expect(addons.map((a) => a.addon_name).sort()).toEqual(["aws-ebs-csi-driver", "coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]);
      const csi = addons.find((a) => a.addon_name === "aws-ebs-csi-driver");
      expect(csi.pod_identity_association).toEqual([
        { role_arn: expect.stringMatching(/^\$\{aws_iam_role\.eks_ebs-csi-role_\w+\.arn\}$/), service_account: "ebs-csi-controller-sa" },
      ]);
    });

    it("runs the VPC CNI's network policy agent, so NetworkPolicies are enforced", () => {
      const cni = Object.values(resourcesOf(stack, "aws_eks_addon")).find((a) => a.addon_name === "vpc-cni");
      expect(JSON.parse(cni.configuration_values)).toEqual({ enableNetworkPolicy: "true" });
    });

    it("lets External Secrets read platform secrets by name, never the databases' secrets", () => {
      const [policy] = Object.values(resourcesOf(stack, "aws_iam_role_policy")).filter((p) => p.name === "acme-platform-external-secrets");
      expect(policy.policy).toContain('"Resource" = "arn:aws:secretsmanager:eu-west-1:*:secret:acme-platform-*"');
      expect(policy.policy).not.toContain('"Resource" = "*"');
    });

    it("has no Fargate profile unless namespaces are configured", () => {
      expect(resourcesOf(stack, "aws_eks_fargate_profile")).toEqual({});
    });
  });

  describe("ECR", () => {
    it("creates one immutable, scanned, KMS-encrypted repository per application", () => {
      const repositories = Object.values(resourcesOf(stack, "aws_ecr_repository"));
      expect(repositories.map((r) => r.name).sort()).toEqual(["acme/api", "acme/web"]);
      for (const repository of repositories) {
        expect(repository).toMatchObject({
          image_tag_mutability: "IMMUTABLE",
          image_scanning_configuration: { scan_on_push: true },
          encryption_configuration: [{ encryption_type: "KMS", kms_key: expect.stringContaining("aws_kms_key.registry-key") }],
          force_delete: false,
        });
      }
    });

    it("expires untagged images and keeps the last N tagged ones", () => {
      const policy = Object.values(resourcesOf(stack, "aws_ecr_lifecycle_policy"))[0].policy as string;
      expect(policy).toContain('"selection" = {"tagStatus" = "untagged", "countType" = "sinceImagePushed", "countUnit" = "days", "countNumber" = 7}');
      expect(policy).toContain('"selection" = {"tagStatus" = "any", "countType" = "imageCountMoreThan", "countNumber" = 30}');
    });

    it("lets the nodes pull, including the AWS-owned images of the managed add-ons", () => {
      const attachments = Object.values(resourcesOf(stack, "aws_iam_role_policy_attachment")).filter((a) => a.role.includes("node-role"));
      expect(attachments.map((a) => a.policy_arn)).toContain("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly");
    });

    it("lets the Flux image reflector read exactly the project's repositories", () => {
      const [policy] = Object.values(resourcesOf(stack, "aws_iam_role_policy")).filter((p) => p.name === "acme-platform-flux-image-reflector");
      const repositories = Object.keys(resourcesOf(stack, "aws_ecr_repository")).map((id) => `aws_ecr_repository.${id}.arn`);
      const granted = /"Resource" = \[([^\]]*)\]/.exec(policy.policy)![1].split(", ");
      expect(granted.sort()).toEqual(repositories.sort());
    });
  });

  it("rotates every KMS key", () => {
    const keys = Object.values(resourcesOf(stack, "aws_kms_key"));
    // Kubernetes secrets, images, logs, flow logs, and the alert topics (in us-east-1).
    expect(keys).toHaveLength(5);
    for (const key of keys) expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
  });
});

describe("aws-platform from other configurations", () => {
  function platformOf(change: (raw: any) => void): TerraformJson {
    const synth = synthesize(validateConfig(configWith(change)), { only: "aws" });
    try {
      return synth.stack("aws-platform");
    } finally {
      synth.cleanup();
    }
  }

  it("turns the public endpoint off when no CIDRs are listed", () => {
    const stack = platformOf((r) => (r.clouds.aws.cluster.publicAccessCidrs = []));
    const { vpc_config: vpc } = onlyResource(stack, "aws_eks_cluster");
    expect(vpc.endpoint_public_access).toBe(false);
    expect(vpc.public_access_cidrs).toBeUndefined();
  });

  it("shares one NAT gateway when asked", () => {
    const stack = platformOf((r) => (r.clouds.aws.network.natGateways = "single"));
    expect(Object.keys(resourcesOf(stack, "aws_nat_gateway"))).toHaveLength(1);
    const routes = Object.values(resourcesOf(stack, "aws_route_table")).filter((t) => t.tags.Name.includes("private"));
    expect(new Set(routes.map((t) => t.route[0].nat_gateway_id)).size).toBe(1);
  });

  it("adds a Fargate profile for the configured namespaces", () => {
    const stack = platformOf((r) => (r.clouds.aws.cluster.fargateNamespaces = ["batch"]));
    expect(onlyResource(stack, "aws_eks_fargate_profile").selector).toEqual([{ namespace: "batch" }]);
  });

  it("stores state in S3, encrypted, with native locking, when a bucket is named", () => {
    const stack = platformOf((r) => {
      delete r.ci;
      r.clouds.aws.stateBackend = { bucket: "acme-tf-state", region: "eu-central-1" };
    });
    expect(stack.terraform!.backend).toEqual({
      s3: { bucket: "acme-tf-state", key: "platform/aws-platform.tfstate", region: "eu-central-1", encrypt: true, use_lockfile: true },
    });
  });

  it("keeps local state out of the stack directory without a state backend, and makes the creator admin without ci", () => {
    const stack = platformOf((r) => {
      delete r.ci;
      delete r.clouds.aws.stateBackend;
    });
    expect(stack.terraform!.backend).toEqual({ local: { path: "../../../terraform.aws-platform.tfstate" } });
    expect(onlyResource(stack, "aws_eks_cluster").access_config.bootstrap_cluster_creator_admin_permissions).toBe(true);
    expect(Object.values(resourcesOf(stack, "aws_eks_access_entry")).map((e) => e.principal_arn)).not.toContainEqual(expect.stringContaining("-ci-"));
  });
  it("removing one admin principal removes its access entry alone: the others keep their addresses", () => {
    const admins = ["arn:aws:iam::123456789012:role/platform-admins", "arn:aws:iam::123456789012:role/sre", "arn:aws:iam::123456789012:user/ops"];
    const entries = (list: string[]) =>
      Object.fromEntries(
        Object.entries(resourcesOf(platformOf((r) => (r.clouds.aws.cluster.adminPrincipalArns = list)), "aws_eks_access_entry"))
          .filter(([, entry]: [string, any]) => list.includes(entry.principal_arn))
          .map(([name, entry]: [string, any]) => [entry.principal_arn, name]),
      );
    const before = entries(admins);
    const after = entries(admins.slice(1));
    expect(Object.keys(after)).toEqual(admins.slice(1));
    for (const arn of admins.slice(1)) expect({ arn, address: after[arn] }).toEqual({ arn, address: before[arn] });
  });
});
