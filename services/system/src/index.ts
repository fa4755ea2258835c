export { forgetStoppedDeployments } from './forget-stopped.js';
export { type PipelineContext, startPipeline } from './pipeline.js';
export { ROLES, type Role, type StartOptions, type System, startSystem } from './system.js';
