export { REQUIRED_TABLES } from "./checks.js";
export { validateWorkerIntegration } from "./integration.js";
export { measurePerformance, type PerformanceFigures, quickValidate } from "./quick.js";
export { type CheckResult, type CheckStatus, formatReport, type ValidationReport, worstStatus } from "./result.js";
export { QueueValidator, type ValidatorOptions } from "./validator.js";
