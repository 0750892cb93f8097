// The Projects view's timeline edits (src/lib/ui/timeline-edit.ts), on plain projects.
import { describe, expect, it } from 'vitest';
import { newClip, newProject, newTrack, speechKey, type Project } from '../../src/lib/documents/project';
import {
  absorbMeasured,
  clipLabel,
  findClip,
  lastClip,
  projectErrorText,
  relinkFollowers,
  speakerTrack,
} from '../../src/lib/ui/timeline-edit';

const speech = (text: string) => ({ kind: 'speech' as const, text, voice: 'af_heart', speed: 1 });

describe('timeline edits', () => {
  it('finds clips, the last one, and labels them', () => {
    const p = newProject('P');
    const a = newClip(speech('One.'), { start: 0, source_duration: 2 });
    const b = newClip({ kind: 'library', clip_id: 'lib1' }, { start: 1, source_duration: 3 });
    p.tracks[0]!.clips.push(a);
    p.tracks.push(newTrack('Music', { clips: [b] }));
    expect(findClip(p, b.id)).toEqual({ track: p.tracks[1], clip: b, index: 0 });
    expect(findClip(p, 'nope')).toBeNull();
    expect(findClip(null, a.id)).toBeNull();
    expect(lastClip(p)).toBe(b);
    expect(clipLabel(a)).toBe('One.');
    expect(clipLabel(b, { lib1: 'Jingle' })).toBe('Jingle');
    expect(clipLabel(b)).toBe('Library clip');
  });

  it('gives a speaker their own track, an empty "Track n", or a new one', () => {
    const p = newProject('P');
    const t = speakerTrack(p, 'Ann');
    expect(t).toBe(p.tracks[0]);
    expect(t.name).toBe('Ann');
    expect(speakerTrack(p, 'Ann')).toBe(t);
    const bob = speakerTrack(p, 'Bob');
    expect(p.tracks).toHaveLength(2);
    expect(bob.name).toBe('Bob');
  });

  it('relinks the clips that followed a deleted one', () => {
    const p = newProject('P');
    const [a, b, c] = [newClip(speech('a')), newClip(speech('b')), newClip(speech('c'))];
    b.after = { clip: a.id, gap: 0.4 };
    c.after = { clip: b.id, gap: 0.2 };
    p.tracks[0]!.clips.push(a, c);
    relinkFollowers(p, b.id, b.after);
    expect(c.after).toEqual({ clip: a.id, gap: 0.4 });
    relinkFollowers(p, a.id, undefined);
    expect(c.after).toBeUndefined();
  });

  it('takes measured lengths back, except from clips edited meanwhile', () => {
    const p = newProject('P');
    const kept = newClip(speech('Same.'));
    const edited = newClip(speech('Changed.'));
    p.tracks[0]!.clips.push(kept, edited);
    const rendered = structuredClone(p) as Project;
    for (const c of rendered.tracks[0]!.clips) {
      if (c.content.kind !== 'speech') continue;
      c.source_duration = 1.5;
      c.content.generated = { key: speechKey(c.content.text, 'af_heart', 1), clip_id: 'gen' };
    }
    if (edited.content.kind === 'speech') edited.content.text = 'Changed again.';
    expect(absorbMeasured(p, rendered)).toBe(true);
    expect(kept.source_duration).toBe(1.5);
    expect(kept.content.kind === 'speech' && kept.content.generated?.clip_id).toBe('gen');
    expect(edited.source_duration).toBeNull();
    expect(absorbMeasured(newProject('Other'), rendered)).toBe(false);
  });

  it('says errors in words a person can act on', () => {
    const full = new Error('quota');
    full.name = 'StorageFullError';
    expect(projectErrorText(full)).toMatch(/Not enough browser storage/);
    expect(projectErrorText(new Error(''))).toBe('Something went wrong.');
    expect(projectErrorText('plain')).toBe('plain');
  });
});
