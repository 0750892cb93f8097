/** Scopes and their default per-key limits (requests per minute), from the product documents. */
export const SCOPES = [
  'tts:generate',
  'tts:timeline',
  'voices:read',
  'voices:write',
  'clone:create',
  'audio:process',
  'projects:read',
  'projects:write',
  'system:read',
  'ws:connect',
] as const;

export type Scope = (typeof SCOPES)[number];

export const DEFAULT_LIMITS: Record<Scope, number> = {
  'tts:generate': 10,
  'tts:timeline': 30,
  'voices:read': 60,
  'voices:write': 20,
  'clone:create': 2,
  'audio:process': 5,
  'projects:read': 60,
  'projects:write': 20,
  'system:read': 60,
  'ws:connect': 5,
};

export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'tts:generate': 'Generate speech',
  'tts:timeline': 'Timeline editor access',
  'voices:read': 'Read voices',
  'voices:write': 'Modify and delete voices',
  'clone:create': 'Create voice clones and designed voices',
  'audio:process': 'Process audio (split, duration, transcribe, convert)',
  'projects:read': 'Read compositions',
  'projects:write': 'Modify compositions',
  'system:read': 'System information, jobs and API keys',
  'ws:connect': 'Real-time event stream',
};

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** Requests per minute allowed before a key is identified (public routes and failed authentication). */
export const ANONYMOUS_LIMIT = 120;
