import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { JobDir } from "./job-dir";

/**
 * Stand-ins for the CLIs the terraform-stack action calls, answering from
 * environment variables, so that its steps run as on a runner:
 *
 * - FAKE_STATES: the state keys that exist (`platform/<stack>.tfstate`, space-separated);
 * - FAKE_CAN_WRITE=true: the identity may write state (a deploy identity);
 * - FAKE_LOG: a file each command appends its command line to.
 *
 * `terraform init` on the azurerm backend fails as Terraform 1.11.4 does for
 * a read-only identity when the stack has no state blob: `StateMgr` takes a
 * lock to write an empty state (internal/backend/remote-state/azure/backend_state.go),
 * and init reports it as "Error loading state" (internal/command/init.go).
 * `plan -out` writes a plan file naming the stack and a counter, so that a
 * test can tell one plan from another.
 */
export function installCloudStandIns(job: JobDir): void {
  // Each stack's backend type and state key, read once here rather than by every `terraform` call.
  const out = path.join(job.dir, "cdktf.out");
  const manifest = existsSync(path.join(out, "manifest.json")) ? JSON.parse(readFileSync(path.join(out, "manifest.json"), "utf8")) : { stacks: {} };
  const backends = Object.entries<any>(manifest.stacks).map(([stack, entry]) => {
    const backend = JSON.parse(readFileSync(path.join(out, entry.synthesizedStackPath), "utf8")).terraform.backend;
    const [type] = Object.keys(backend);
    return `${stack} ${type} ${backend[type].key ?? backend[type].path}`;
  });
  writeFileSync(path.join(job.bin, "backends.txt"), `${backends.join("\n")}\n`);
  job.tool(
    "terraform",
    `#!/bin/bash
echo "terraform $*" >> "\${FAKE_LOG:-/dev/null}"
dir="\${1#-chdir=}"; shift
backend() { grep "^$(basename "$dir") " "$(dirname "$0")/backends.txt" | cut -d' ' -f2-; }
case "$1" in
  init)
    read -r type key < <(backend)
    if [ "$type" = azurerm ] && [ ! -f "$dir/stand_in_backend_override.tf.json" ] && [ "$FAKE_CAN_WRITE" != true ] && [[ " $FAKE_STATES " != *" $key "* ]]; then
      printf '%s\\n' "" "Error: Error loading state: failed to lock azure state: 403 AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission." >&2
      exit 1
    fi
    echo "Terraform has been successfully initialized!";;
  plan)
    count=$(( $(cat "$dir/.plans" 2>/dev/null || echo 0) + 1 )); echo "$count" > "$dir/.plans"
    echo "saved plan $count of $(basename "$dir")" > "$dir/tfplan"
    echo "Plan: 1 to add, 0 to change, 0 to destroy.";;
  show)
    if [ "$2" = -json ]; then
      echo '{"format_version":"1.2","terraform_version":"1.11.4","resource_changes":[{"address":"terraform_data.marker","mode":"managed","type":"terraform_data","name":"marker","change":{"actions":["create"],"after":{"input":"secret-value"}}}]}'
    else
      echo "  # terraform_data.marker will be created"; echo "Plan: 1 to add, 0 to change, 0 to destroy."
    fi;;
  apply)
    echo "applied $(cat "$dir/\${@: -1}")" >> "\${FAKE_LOG:-/dev/null}";;
  *) exit 2;;
esac
`,
  );
  job.tool(
    "az",
    `#!/bin/bash
echo "az $*" >> "\${FAKE_LOG:-/dev/null}"
while [ $# -gt 0 ]; do [ "$1" = --name ] && key="$2"; shift; done
if [[ " $FAKE_STATES " == *" $key "* ]]; then echo '{"exists": true}'; else echo '{"exists": false}'; fi
`,
  );
  job.tool(
    "aws",
    `#!/bin/bash
echo "aws $*" >> "\${FAKE_LOG:-/dev/null}"
while [ $# -gt 0 ]; do [ "$1" = --key ] && key="$2"; shift; done
if [[ " $FAKE_STATES " == *" $key "* ]]; then echo '{"ContentLength": 180}'; exit 0; fi
echo "An error occurred (404) when calling the HeadObject operation: Not Found" >&2
exit 254
`,
  );
}
