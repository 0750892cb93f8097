// DOM-free text of the Clone view: the script to read aloud, the quality report of clone.extract as rows
// a person can read, how the converter's install progress is told, and its precision choices.
import type { Progress } from '../core/run';
import type { CloneChecks, CloneWarning, ConverterPrecision, FastConverterInfo } from '../clone/contract';
import { fastIsDefault, fastLabel, MIN_SPEECH_SECONDS, PUBLISHED_V2 } from '../clone/contract';

/** The Hugging Face release of OpenVoice v2 (config.json and checkpoint.pth under converter/). */
export const OFFICIAL_RELEASE_URL = PUBLISHED_V2.base;
/** About what the release's converter weighs (checkpoint.pth + config.json). */
export const RELEASE_MEGABYTES = 131;

/** Read in a natural voice: ~30 s with varied sounds (plosives, sibilants, vowels, a question). */
export const RECORDING_SCRIPT = [
  'The quick brown fox jumps over the lazy dog, and then it rests beside the river.',
  'On Thursday morning we shared fresh bread, sharp cheese and a pot of strong coffee.',
  'Could you tell me which way leads to the old lighthouse on the hill?',
  'Six bright jewels sparkled in the sunshine while the children laughed and played.',
  'I usually read a chapter or two before bed, unless the story is too exciting to stop.',
];

export type RowLevel = 'ok' | 'warn' | 'error';

export interface ReportRow {
  label: string;
  value: string;
  level: RowLevel;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 && x > 0 ? 2 : 1)} %`;
const secs = (s: number) => `${s.toFixed(1)} s`;

/** The checks of clone.extract as rows; a row is 'warn' when a warning names it, 'error' under the speech minimum. */
export function reportRows(c: CloneChecks): ReportRow[] {
  const warned = new Set(c.warnings.map((w) => w.code));
  return [
    {
      label: 'Speech',
      value: `${secs(c.speech_seconds)} of ${secs(c.total_seconds)}`,
      level: c.speech_seconds < MIN_SPEECH_SECONDS ? 'error' : warned.has('short') ? 'warn' : 'ok',
    },
    {
      label: 'Clipping',
      value: pct(c.clipped_fraction),
      level: warned.has('clipping') ? 'warn' : 'ok',
    },
    {
      label: 'Signal to noise',
      value: Number.isFinite(c.snr_db) ? `${c.snr_db.toFixed(1)} dB` : 'no measurable noise',
      level: warned.has('noisy') ? 'warn' : 'ok',
    },
    {
      label: 'Not speech',
      value: pct(c.non_speech_fraction),
      level: warned.has('non_speech') ? 'warn' : 'ok',
    },
    ...(c.music
      ? [
          {
            label: 'Music',
            value: warned.has('music') ? 'likely' : 'none found',
            level: (warned.has('music') ? 'warn' : 'ok') as RowLevel,
          },
        ]
      : []),
    ...(c.speakers
      ? [
          {
            label: 'Speakers',
            value: c.speakers
              .map((s) => s.shares.map((x) => `${Math.round(x * 100)} %`).join(' + ') || 'none')
              .join('; '),
            level: (warned.has('multiple_speakers') ? 'warn' : 'ok') as RowLevel,
          },
        ]
      : []),
    {
      label: 'Averaged',
      value: `${c.pieces} ${c.pieces === 1 ? 'piece' : 'pieces'} from ${c.samples} ${c.samples === 1 ? 'sample' : 'samples'}`,
      level: 'ok',
    },
  ];
}

/** One line saying how good the reference is overall. */
export function verdict(c: CloneChecks): { level: RowLevel; text: string } {
  if (c.speech_seconds < MIN_SPEECH_SECONDS)
    return {
      level: 'error',
      text: `Only ${secs(c.speech_seconds)} of speech: at least ${MIN_SPEECH_SECONDS} s are needed (10–60 s is best).`,
    };
  if (c.warnings.length)
    return {
      level: 'warn',
      text: `Usable, with ${c.warnings.length} ${c.warnings.length === 1 ? 'warning' : 'warnings'}: the voice may sound less like the speaker.`,
    };
  return { level: 'ok', text: 'Good reference: clean speech of a useful length.' };
}

/** Warnings the engine returned, with a hint of what to do about each. */
export function warningAdvice(w: CloneWarning): string {
  switch (w.code) {
    case 'clipping':
      return 'Record further from the microphone or lower its gain.';
    case 'noisy':
      return 'Record in a quieter room, away from fans and traffic.';
    case 'non_speech':
      return 'Choose a region with only the one speaker and no music.';
    case 'music':
      return 'Record without music playing, or choose a part with the voice alone.';
    case 'multiple_speakers':
      return 'Select a region where only the one person speaks.';
    case 'short':
      return 'Add another sample or choose a longer region: 10–60 s of speech works best.';
  }
}

const INSTALL_STAGES: Record<string, string> = {
  download: 'Downloading the release',
  read: 'Reading the checkpoint',
  build: 'Building the ONNX graphs',
  store: 'Storing the graphs on this device',
  // 'tune' says its own step (clone/fast.ts): "Timing the int8 graph · 5 of 6".
  done: 'Installed',
};

/**
 * The line under "Say something" or "Convert" for a clone.speak / clone.convert progress event (neither
 * makes the fast converter: that is idle-time work, clone.tune).
 */
export function cloneStageLine(kind: 'speak' | 'convert', p: Progress): string {
  const lines: Record<string, string> =
    kind === 'speak'
      ? { base: 'Preparing the base voice…', chunk: 'Speaking while the rest is made…' }
      : {
          decode: 'Reading the recording…',
          embed: 'Measuring the source voice…',
          chunk: 'Converting while you listen…',
        };
  return lines[p.stage] ?? p.message ?? 'Working…';
}

/**
 * What the converter's int8 variant measured on this device, in a line worded from the figures ("1.6×
 * faster · 31.4 dB from full precision", "slower here: not used · …").
 */
export function fastSummary(f: FastConverterInfo): string {
  const label = fastLabel(f);
  return label.includes(' dB ') ? label : `${label} · ${f.snr_db.toFixed(1)} dB from full precision`;
}

/** The converter choices of the Clone view: the int8 variant (when made) first if it is the default. */
export function precisionOptions(
  f: FastConverterInfo | undefined,
): { value: ConverterPrecision; label: string }[] {
  const full = { value: 'fp32' as const, label: 'Full precision (float32)' };
  if (!f) return [full];
  const fast = { value: 'int8' as const, label: `Fast (int8) · ${fastSummary(f)}` };
  return fastIsDefault(f) ? [fast, full] : [full, fast];
}

/** A line for clone.install progress ("Downloading the release · 12.0 of 131.0 MB"). */
export function installLine(p: Progress): string {
  const name = INSTALL_STAGES[p.stage] ?? p.message ?? p.stage;
  if (!p.total) return p.stage === 'download' && p.done ? `${name} · ${(p.done / 1e6).toFixed(1)} MB` : name;
  if (p.stage === 'download')
    return `${name} · ${(p.done / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(1)} MB`;
  return `${name} · ${p.done} of ${p.total}`;
}

/** The release's two files among dropped or picked ones: config.json and the .pth checkpoint. */
export function pickReleaseFiles<F extends { name: string }>(
  files: readonly F[],
): { config?: F; checkpoint?: F } {
  const config = files.find((f) => /\.json$/i.test(f.name));
  const checkpoint = files.find((f) => /\.(pth|pt|ckpt)$/i.test(f.name));
  return { config, checkpoint };
}

/** A release URL as clone.install wants it: the repository root, ending in '/'. */
export function releaseBase(url: string): string {
  const u = url.trim();
  return u.endsWith('/') ? u : `${u}/`;
}
