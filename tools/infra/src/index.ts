export { up, down, status, endpoints, provision, stopServer, restartServer, startPrivateInflux, startPrivateKubeApiserver, InfraError, type ServerStatus, type Progress } from './infra.js';
export { cacheDir, stateDir, ports, host } from './layout.js';
export { kubectlPath, localAdminToken, pkiDir } from './servers.js';
export { waitFor } from './processes.js';
export { ProcessGroup, SERVICE_NAMES, repoRoot, type ServiceName, type ServiceProcessSpec } from './pipeline.js';
export { startLocalPipeline, type LocalPipeline, type LocalPipelineOptions } from './local-pipeline.js';
export { bundleServices } from './bundle.js';
