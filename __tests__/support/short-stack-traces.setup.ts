import { installShortStackTraces } from "../../scripts/short-stack-traces.cjs";

// Every test file synthesizes as `npm run synth` does, with cdktf's token stack traces kept short.
installShortStackTraces();
