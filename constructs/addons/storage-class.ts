import { StorageClassV1 } from "@cdktf/provider-kubernetes/lib/storage-class-v1";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { StorageClassSpec } from "../contract";

/**
 * The storage class persistent add-ons use. When the platform names a
 * provisioner the class is created here; otherwise the cluster already has
 * it and nothing is created.
 */
export class PlatformStorageClass extends Construct {
  readonly name: string;
  /** What a release must wait for before it claims volumes of this class. */
  readonly dependables: ITerraformDependable[];

  constructor(scope: Construct, id: string, spec: StorageClassSpec) {
    super(scope, id);
    this.name = spec.name;
    if (spec.provisioner === undefined) {
      this.dependables = [];
      return;
    }
    const storageClass = new StorageClassV1(this, "class", {
      metadata: { name: spec.name },
      storageProvisioner: spec.provisioner,
      parameters: spec.parameters,
      // Bind where the pod lands, so a zonal disk is created in the pod's zone.
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
      reclaimPolicy: "Delete",
    });
    this.dependables = [storageClass];
  }
}
