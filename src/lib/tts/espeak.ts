// espeak-ng, offline, in a worker and in Node. Two builds, both from npm:
// - `phonemizer@1.2.1` (espeak-ng in wasm inside its JS, 1.3 MB) for English: the G2P kokoro-js uses. It
//   holds English only (its data has en_dict alone and its voice list is filtered to "en").
// - `espeak-ng@1.0.2` (the espeak-ng command line in wasm, every language's data embedded, 18 MB) for the
//   other seven languages, loaded only when one of them is spoken.
// Both take text without clause punctuation (phonemize.ts splits it out) and return one phoneme string per
// section.
import type ESpeakNg from 'espeak-ng';
import { PhonemizerError } from './errors';

/** Phonemes of each section, in order; espeak's clause lines within one section are joined by a space. */
export type SectionPhonemizer = (sections: readonly string[], voice: string) => Promise<string[]>;

const isNode = () =>
  typeof process === 'object' && typeof process.versions === 'object' && !!process.versions.node;

// ---------------------------------------------------------------------------------------------------------
// English: phonemizer

interface PhonemizerModule {
  phonemize(text: string, language?: string): Promise<string[]>;
  list_voices(
    language?: string,
  ): Promise<{ name: string; identifier: string; languages: { name: string }[] }[]>;
}

let phonemizerModule: Promise<PhonemizerModule> | null = null;

function loadPhonemizer(): Promise<PhonemizerModule> {
  // Its types say list_voices returns one voice; it returns the list.
  phonemizerModule ??= (import('phonemizer') as unknown as Promise<PhonemizerModule>).catch((e: unknown) => {
    phonemizerModule = null;
    throw new PhonemizerError(`Could not load espeak-ng (phonemizer): ${(e as Error).message}`);
  });
  return phonemizerModule;
}

export const englishEspeak: SectionPhonemizer = async (sections, voice) => {
  const { phonemize } = await loadPhonemizer();
  const out: string[] = [];
  for (const s of sections) {
    if (!s.trim()) {
      out.push('');
      continue;
    }
    try {
      out.push((await phonemize(s, voice)).join(' '));
    } catch (e) {
      throw new PhonemizerError(`espeak-ng could not phonemise "${s.slice(0, 40)}": ${(e as Error).message}`);
    }
  }
  return out;
};

/** The voice names phonemizer accepts (its list_voices, languages and identifiers). */
export async function englishVoiceNames(): Promise<Set<string>> {
  const voices = await (await loadPhonemizer()).list_voices();
  return new Set(voices.flatMap((v) => [v.identifier, ...v.languages.map((l) => l.name)]));
}

// ---------------------------------------------------------------------------------------------------------
// Every language: the espeak-ng command line

type Factory = typeof ESpeakNg;

let factory: Promise<Factory> | null = null;
let compiled: Promise<WebAssembly.Module> | null = null;

interface NodeFs {
  readFile(path: string): Promise<Uint8Array>;
}
interface NodeModule {
  createRequire(from: string): { resolve(id: string): string };
}

const WASM_PATH = 'espeak-ng/dist/espeak-ng.wasm';

/** The 18 MB wasm, compiled once per context: from node_modules in Node, from the app's assets elsewhere. */
function wasmModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    if (isNode()) {
      // Variable specifiers: the bundler must leave these Node-only imports alone.
      const fsName = 'node:fs/promises';
      const moduleName = 'node:module';
      const fs = (await import(/* @vite-ignore */ fsName)) as NodeFs;
      const { createRequire } = (await import(/* @vite-ignore */ moduleName)) as NodeModule;
      const bytes = await fs.readFile(createRequire(import.meta.url).resolve(WASM_PATH));
      return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    }
    const { default: url } = await import('espeak-ng/dist/espeak-ng.wasm?url');
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return WebAssembly.compile(await res.arrayBuffer());
  })().catch((e: unknown) => {
    compiled = null;
    throw new PhonemizerError(`Could not load espeak-ng: ${(e as Error).message}`);
  });
  return compiled;
}

function loadFactory(): Promise<Factory> {
  factory ??= import('espeak-ng')
    .then((m) => m.default)
    .catch((e: unknown) => {
      factory = null;
      throw new PhonemizerError(`Could not load espeak-ng: ${(e as Error).message}`);
    });
  return factory;
}

/**
 * The Emscripten build knows pages, classic workers and Node, not module workers (no importScripts there):
 * it would take one for a JS shell and abort. A stand-in importScripts during its synchronous environment
 * check makes it take the worker path; the wasm is handed in, so nothing is ever fetched through it.
 */
function asWorker<T>(fn: () => T): T {
  const g = globalThis as { importScripts?: unknown; window?: unknown };
  if (isNode() || typeof g.importScripts === 'function' || typeof g.window === 'object') return fn();
  g.importScripts = () => {
    throw new Error('importScripts is not available here');
  };
  try {
    return fn();
  } finally {
    delete g.importScripts;
  }
}

/**
 * One espeak-ng run: every line of `lines` is read as one clause (`-l`), written as IPA with "^" ties
 * (as misaki asks espeak for it); returns the output lines. Each run is a fresh wasm instance (the build
 * exports only main), about 0.1–0.3 s.
 */
async function runEspeak(lines: readonly string[], voice: string): Promise<string[]> {
  const [create, module] = await Promise.all([loadFactory(), wasmModule()]);
  const errors: string[] = [];
  let fail: (e: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const args = ['-q', '-b', '1', '--ipa', '--tie=^', '-l', '1000000', '--phonout', '/out.txt'];
  const instance = await Promise.race([
    asWorker(() =>
      create({
        arguments: [...args, '-v', voice, '-f', '/in.txt'],
        print: () => {},
        printErr: (line) => errors.push(line),
        quit: (status, toThrow) => {
          if (status !== 0) errors.push(`exit status ${status}`);
          throw toThrow;
        },
        instantiateWasm: (imports, done) => {
          WebAssembly.instantiate(module, imports)
            .then((inst) => done(inst, module))
            .catch(fail);
          return {};
        },
        preRun: [(m) => m.FS.writeFile('/in.txt', lines.join('\n'))],
      }),
    ),
    failed,
  ]).catch((e: unknown) => {
    throw new PhonemizerError(`espeak-ng failed: ${(e as Error)?.message ?? String(e)}`);
  });
  let text: string;
  try {
    text = instance.FS.readFile('/out.txt', { encoding: 'utf8' });
  } catch {
    throw new PhonemizerError(
      `espeak-ng (${voice}) gave no phonemes${errors.length ? `: ${errors.join('; ')}` : ''}.`,
    );
  }
  const out = text.split('\n');
  if (out[out.length - 1] === '') out.pop();
  return out;
}

export const fullEspeak: SectionPhonemizer = async (sections, voice) => {
  const idx = sections.map((s, i) => (s.trim() ? i : -1)).filter((i) => i >= 0);
  const result = sections.map(() => '');
  if (!idx.length) return result;
  const lines = idx.map((i) => sections[i]!.replace(/\s+/g, ' ').trim());
  // One run for all sections; espeak writes one line per input line. Should a line yield none or two (a
  // very long clause), fall back to one run per section, whose lines all belong to it.
  const out = await runEspeak(lines, voice);
  if (out.length === lines.length) {
    idx.forEach((i, k) => (result[i] = out[k]!.trim()));
    return result;
  }
  for (const [k, i] of idx.entries()) result[i] = (await runEspeak([lines[k]!], voice)).join(' ').trim();
  return result;
};

/** The voice names of the full espeak-ng build (`espeak-ng --voices`, second column). */
export async function fullVoiceNames(): Promise<Set<string>> {
  const [create, module] = await Promise.all([loadFactory(), wasmModule()]);
  const lines: string[] = [];
  await asWorker(() =>
    create({
      arguments: ['--voices'],
      print: (l) => lines.push(l),
      printErr: () => {},
      quit: (_s, toThrow) => {
        throw toThrow;
      },
      instantiateWasm: (imports, done) => {
        void WebAssembly.instantiate(module, imports).then((inst) => done(inst, module));
        return {};
      },
    }),
  );
  return new Set(lines.slice(1).map((l) => l.trim().split(/\s+/)[1] ?? ''));
}
