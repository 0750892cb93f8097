// A script added to an open project (src/lib/ui/project-script.ts).
import { describe, expect, it } from 'vitest';
import { newClip, newProject } from '../../src/lib/documents/project';
import { appendScript, EmptyScriptError, readScript } from '../../src/lib/ui/project-script';

const voices = {
  resolve: (v: string) => (v === 'gone' ? null : v),
  label: (v: string) => `Voice ${v}`,
};

describe('project scripts', () => {
  it('reads a script, or says why it cannot', () => {
    expect(readScript('  ')).toEqual({ lines: [], problems: [] });
    expect(readScript('[Ann] Hello there.').lines).toHaveLength(1);
  });

  it('puts each speaker on their track, after the last clip, and keeps the text', () => {
    const p = newProject('P', { cast: { Ann: 'af_heart', Bob: 'am_adam' } });
    const first = newClip(
      { kind: 'speech', text: 'Before.', voice: 'af_heart', speed: 1 },
      { source_duration: 1 },
    );
    p.tracks[0]!.clips.push(first);
    const text = '[Ann] Hello there.\n[Bob] Hi, Ann.';
    appendScript(p, text, voices);
    const names = p.tracks.map((t) => t.name);
    expect(names).toContain('Ann');
    expect(names).toContain('Bob');
    const ann = p.tracks.find((t) => t.name === 'Ann')!.clips[0]!;
    expect(ann.after).toEqual({ clip: first.id, gap: 0.4 });
    expect(p.script).toBe(text);
    appendScript(p, '[Ann] Again.', voices);
    expect(p.script).toBe(`${text}\n\n[Ann] Again.`);
  });

  it('changes nothing for an empty script or a voice gone from the library', () => {
    const p = newProject('P', { cast: { Ann: 'gone' } });
    const before = structuredClone(p);
    expect(() => appendScript(p, '\n\n', voices)).toThrow(EmptyScriptError);
    expect(() => appendScript(p, '[Ann] Hi.', voices)).toThrow(/Voice gone/);
    expect(p).toEqual(before);
  });
});
