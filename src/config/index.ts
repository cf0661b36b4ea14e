// The configuration layer: titus-compatible options into a checked Config.
export * from "./errors";
export { OPTIONS, isOptionName, type OptionName, type OptionSpec, type Scope as OptionScope, type ListenAddress, type Backend, type LogLevel, type WasiChoice } from "./options";
export { parseArgs, parseConfigFile, parseConfigText, MAX_INCLUDE_DEPTH, type RawConfig, type RawVhost, type ParseOptions } from "./parse";
export * from "./config";
export { renderReference } from "./reference";
export { ExitCode, checkMain, readConfiguration, exitCodeFor, type CheckOutput, type ConfigOutcome } from "./cli";
export { SUITES, Tls12Suite, suiteName, groupName } from "./ciphers";
