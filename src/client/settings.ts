// The view choices kept across reloads (Speak's voice, Transcribe's model and language), in localStorage
// under `timbre:<name>`. A missing or refused storage (private mode, a full disk) only forgets.

const PREFIX = 'timbre:';

/** The stored value of a choice, or `fallback` when none is stored or it fails `valid`. */
export function recall(name: string, fallback: string, valid: (v: string) => boolean = () => true): string {
  try {
    const v = globalThis.localStorage?.getItem(PREFIX + name);
    return v !== null && v !== undefined && valid(v) ? v : fallback;
  } catch {
    return fallback;
  }
}

/** Keeps a choice for the next visit. */
export function remember(name: string, value: string): void {
  try {
    globalThis.localStorage?.setItem(PREFIX + name, value);
  } catch {
    // storage refused: the choice lasts this visit only
  }
}
