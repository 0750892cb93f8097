// The clone.* engine operations in one module, so the engine registry loads them as one chunk: one split
// per op made nine small chunks per build, each a precache entry the Service Worker carries.
export { runCloneInstall } from './install';
export { runCloneStatus } from './status';
export { runCloneExtract } from './extract';
export { runCloneConvert } from './convert';
export { runCloneSpeak } from './speak';
export { runCloneTune } from './tune';
