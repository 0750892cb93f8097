// The one tuned onnxruntime: configuration, provider choice, session pool and the ONNX builder.
// DOM-free: runs in the engine worker and in Node (onnxruntime-web's WASM backend).
export { configureOrt, ortConfig, type OrtConfig, type OrtEnvLike } from './config';
export { SessionCreateError, RuntimeUnavailableError, describeError } from './errors';
export {
  chooseProvider,
  probeWebGpu,
  wasmThreads,
  type AdapterProbe,
  type ExecutionProvider,
  type ProviderChoice,
  type ProviderFacts,
  type ProviderPreference,
} from './provider';
export {
  SessionPool,
  DEFAULT_BUDGET_BYTES,
  type CreateHooks,
  type GetOptions,
  type LoadBytes,
  type PlatformFacts,
  type PoolOptions,
  type PooledSession,
  type Releasable,
  type RuntimeNotice,
  type SessionFactory,
} from './pool';
export { nonFiniteOutputs, type OutputsLike, type TensorLike } from './tensors';
export { ortSessionFactory, type OrtModule, type OrtSession, type OrtTensor } from './ort-session';
export { installRuntime, onRuntimeNotice, runtimeHost, type RuntimeHost, type RuntimeSetup } from './host';
