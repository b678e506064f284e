// `npm run doctor`: the deployed platform, checked read-only (docs/operations.md, "Doctor").
import { main } from "../tools/doctor/cli";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  },
);
