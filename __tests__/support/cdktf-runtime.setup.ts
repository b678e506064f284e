import { installCdktfRuntime } from "./cdktf-runtime";

// Every test file synthesizes as `npm run synth` does.
installCdktfRuntime();
