import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  FORMATS,
  FORMAT_IDS,
  FormatOptionError,
  UnsupportedFormatError,
  decodeArgs,
  encodeArgs,
  formatFor,
  logTail,
  maxBitrate,
  parseProbe,
  probeArgs,
  resampleFilter,
  resolveDecode,
  resolveEncode,
  reviveFormatError,
  vorbisQuality,
  type EncodeOptions,
} from '../../src/lib/codec/formats';
import { CancelledError } from '../../src/lib/core/run';

const mono24k = { sampleRate: 24000, channels: 1 };

function optionError(fn: () => unknown): FormatOptionError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatOptionError);
    return e as FormatOptionError;
  }
  throw new Error('no error thrown');
}

describe('the format table', () => {
  it('has the Content-Type and extension of every format', () => {
    const table = Object.fromEntries(FORMAT_IDS.map((id) => [id, [FORMATS[id].mime, FORMATS[id].extension]]));
    expect(table).toEqual({
      wav: ['audio/wav', 'wav'],
      pcm: ['application/octet-stream', 'pcm'],
      mp3: ['audio/mpeg', 'mp3'],
      opus: ['audio/ogg; codecs=opus', 'opus'],
      ogg: ['audio/ogg', 'ogg'],
      flac: ['audio/flac', 'flac'],
      aac: ['audio/aac', 'aac'],
      m4a: ['audio/mp4', 'm4a'],
      webm: ['audio/webm', 'webm'],
    });
    for (const id of FORMAT_IDS) expect(FORMATS[id].id).toBe(id);
  });

  it('knows which are lossy and their codecs', () => {
    expect(FORMAT_IDS.filter((id) => FORMATS[id].lossy)).toEqual([
      'mp3',
      'opus',
      'ogg',
      'aac',
      'm4a',
      'webm',
    ]);
    expect(FORMATS.ogg.codec).toBe('vorbis');
    expect(FORMATS.webm.codec).toBe('opus');
    expect(FORMATS.m4a.codec).toBe('aac');
  });

  it('finds a format by extension or Content-Type', () => {
    expect(formatFor('.m4a')?.id).toBe('m4a');
    expect(formatFor('MP3')?.id).toBe('mp3');
    expect(formatFor('audio/ogg; codecs=opus')?.id).toBe('opus');
    expect(formatFor('audio/ogg')?.id).toBe('ogg');
    expect(formatFor('audio/x-wav')?.id).toBe('wav');
    expect(formatFor('audio/webm;codecs=opus')?.id).toBe('webm');
    expect(formatFor('video/x-msvideo')).toBeNull();
  });
});

describe('encode options', () => {
  it('defaults to the input rate and channels and the format bitrate', () => {
    const r = resolveEncode({ format: 'mp3' }, mono24k);
    expect([r.format.id, r.sampleRate, r.channels, r.bitrate, r.sampleFormat]).toEqual([
      'mp3',
      24000,
      1,
      128,
      's16',
    ]);
    expect(resolveEncode({ format: 'opus' }, mono24k).bitrate).toBe(64);
    expect(resolveEncode({ format: 'wav' }, { sampleRate: 44100, channels: 6 }).channels).toBe(2);
  });

  it('takes a rate, channels and bitrate on request', () => {
    const r = resolveEncode({ format: 'mp3', sampleRate: 44100, channels: 2, bitrate: 192 }, mono24k);
    expect([r.sampleRate, r.channels, r.bitrate]).toEqual([44100, 2, 192]);
  });

  it('ignores a bitrate for lossless formats but still checks it', () => {
    expect(resolveEncode({ format: 'flac', bitrate: 320 }, mono24k).bitrate).toBeNull();
    expect(optionError(() => resolveEncode({ format: 'wav', bitrate: 1000 }, mono24k)).field).toBe('bitrate');
  });

  it('refuses out-of-range values with the field named', () => {
    const cases: [Partial<EncodeOptions>, string, RegExp][] = [
      [{ bitrate: 63 }, 'bitrate', /between 64 and 320 kbps \(got 63\)/],
      [{ bitrate: 321 }, 'bitrate', /between 64 and 320/],
      [{ bitrate: 128.5 }, 'bitrate', /whole number/],
      [{ bitrate: '128' as unknown as number }, 'bitrate', /whole number/],
      [{ sampleRate: 7999 }, 'sampleRate', /between 8000 and 48000 Hz/],
      [{ sampleRate: 96000 }, 'sampleRate', /between 8000 and 48000 Hz/],
      [{ channels: 3 as 1 }, 'channels', /1 \(mono\) or 2 \(stereo\)/],
      [{ channels: 0 as 1 }, 'channels', /1 \(mono\) or 2/],
      [{ sampleFormat: 'f32' }, 'sampleFormat', /wav and pcm only/],
    ];
    for (const [extra, field, re] of cases) {
      const e = optionError(() => resolveEncode({ format: 'mp3', ...extra }, mono24k));
      expect(e.field).toBe(field);
      expect(e.message).toMatch(re);
      expect(e.message.startsWith(`${field}: `)).toBe(true);
    }
  });

  it('refuses rates the codec cannot write, and picks the nearest above when none was asked', () => {
    expect(optionError(() => resolveEncode({ format: 'opus', sampleRate: 44100 }, mono24k)).message).toMatch(
      /opus takes 8000, 12000, 16000, 24000, 48000 Hz, not 44100/,
    );
    expect(optionError(() => resolveEncode({ format: 'mp3', sampleRate: 44000 }, mono24k)).field).toBe(
      'sampleRate',
    );
    expect(resolveEncode({ format: 'opus' }, { sampleRate: 22050, channels: 1 }).sampleRate).toBe(24000);
    expect(resolveEncode({ format: 'webm' }, { sampleRate: 44100, channels: 2 }).sampleRate).toBe(48000);
    expect(resolveEncode({ format: 'mp3' }, { sampleRate: 96000, channels: 2 }).sampleRate).toBe(48000);
    expect(resolveEncode({ format: 'flac' }, { sampleRate: 96000, channels: 2 }).sampleRate).toBe(96000);
    expect(resolveEncode({ format: 'ogg', sampleRate: 44000 }, mono24k).sampleRate).toBe(44000);
  });

  it('keeps a bitrate within what the encoder takes', () => {
    expect(resolveEncode({ format: 'mp3', bitrate: 320 }, mono24k).bitrate).toBe(160);
    expect(resolveEncode({ format: 'mp3', bitrate: 320, sampleRate: 44100 }, mono24k).bitrate).toBe(320);
    expect(resolveEncode({ format: 'mp3', bitrate: 128, sampleRate: 8000 }, mono24k).bitrate).toBe(64);
    expect(resolveEncode({ format: 'opus', bitrate: 320 }, mono24k).bitrate).toBe(256);
    expect(resolveEncode({ format: 'opus', bitrate: 320, channels: 2 }, mono24k).bitrate).toBe(320);
    expect(resolveEncode({ format: 'aac', bitrate: 320 }, mono24k).bitrate).toBe(144);
    expect(maxBitrate(FORMATS.m4a, 48000, 2)).toBe(576);
  });

  it('takes a sample format for wav and pcm', () => {
    expect(resolveEncode({ format: 'wav', sampleFormat: 'f32' }, mono24k).sampleFormat).toBe('f32');
    expect(resolveEncode({ format: 'pcm' }, mono24k).sampleFormat).toBe('s16');
    expect(
      optionError(() => resolveEncode({ format: 'wav', sampleFormat: 's24' as 's16' }, mono24k)).field,
    ).toBe('sampleFormat');
  });

  it('refuses unknown formats with UnsupportedFormatError', () => {
    expect(() => resolveEncode({ format: 'wma' as 'wav' }, mono24k)).toThrow(UnsupportedFormatError);
    expect(() => resolveEncode({ format: 'toString' as 'wav' }, mono24k)).toThrow(/not an output format/);
    expect(() => resolveEncode(null as unknown as EncodeOptions, mono24k)).toThrow(FormatOptionError);
  });

  it('maps a bitrate to a Vorbis quality', () => {
    expect(vorbisQuality(64)).toBe(0);
    expect(vorbisQuality(128)).toBe(4);
    expect(vorbisQuality(144)).toBe(4.5);
    expect(vorbisQuality(320)).toBe(9);
    const qs = [64, 96, 128, 160, 200, 256, 300, 320].map(vorbisQuality);
    expect([...qs].sort((a, b) => a - b)).toEqual(qs);
  });
});

describe('ffmpeg arguments', () => {
  const argsFor = (o: EncodeOptions, src = mono24k) =>
    encodeArgs(
      { path: 'input.f32', raw: { ...src, sampleFormat: 'f32' } },
      resolveEncode(o, src),
      'output.x',
    );

  it('reads raw float input and writes the output last', () => {
    const a = argsFor({ format: 'mp3' });
    const i = a.indexOf('-i');
    expect(a.slice(i - 6, i + 2)).toEqual(['-f', 'f32le', '-ar', '24000', '-ac', '1', '-i', 'input.f32']);
    expect(a.at(-1)).toBe('output.x');
    expect(a.slice(0, 3)).toEqual(['-hide_banner', '-loglevel', 'error']);
    expect(a.join(' ')).toContain('-map 0:a:0 -vn -sn -dn');
  });

  it('sets each encoder and muxer', () => {
    const tail = (o: EncodeOptions) => {
      const a = argsFor(o);
      return a.slice(a.indexOf('-c:a'), a.indexOf('-map_metadata')).join(' ');
    };
    expect(tail({ format: 'wav' })).toBe('-c:a pcm_s16le -f wav');
    expect(tail({ format: 'wav', sampleFormat: 'f32' })).toBe('-c:a pcm_f32le -f wav');
    expect(tail({ format: 'pcm' })).toBe('-c:a pcm_s16le -f s16le');
    expect(tail({ format: 'mp3', bitrate: 128 })).toBe('-c:a libmp3lame -b:a 128k -f mp3');
    expect(tail({ format: 'opus', bitrate: 96 })).toBe('-c:a libopus -b:a 96k -f ogg');
    expect(tail({ format: 'webm' })).toBe('-c:a libopus -b:a 64k -f webm');
    expect(tail({ format: 'opus', channels: 2 })).toBe('-c:a libopus -b:a 64k -mapping_family 255 -f ogg');
    expect(tail({ format: 'ogg', bitrate: 128 })).toBe('-c:a libvorbis -q:a 4 -f ogg');
    expect(tail({ format: 'flac' })).toBe('-c:a flac -sample_fmt s16 -f flac');
    expect(tail({ format: 'aac', bitrate: 96 })).toBe('-c:a aac -b:a 96k -f adts');
    expect(tail({ format: 'm4a' })).toBe('-c:a aac -b:a 128k -movflags +faststart -f ipod');
  });

  it('resamples and mixes with the anti-aliasing resampler, at the settled rate and channels', () => {
    const a = argsFor({ format: 'mp3', sampleRate: 44100, channels: 2 }).join(' ');
    expect(a).toContain(`-af pan=stereo|c0=c0|c1=c0,${resampleFilter(44100)} -ar 44100 -ac 2`);
    const b = argsFor({ format: 'mp3', channels: 1 }, { sampleRate: 24000, channels: 2 }).join(' ');
    expect(b).toContain(`-af ${resampleFilter(24000)} -ar 24000 -ac 1`);
    expect(resampleFilter(16000)).toBe(
      'aresample=16000:resampler=swr:filter_size=128:phase_shift=10:cutoff=0.91:rematrix_maxval=1',
    );
    expect(resampleFilter(16000, { mono: true })).toMatch(/:ochl=mono$/);
  });

  it('strips metadata so a wav has a plain header', () => {
    expect(argsFor({ format: 'wav' }).join(' ')).toContain(
      '-map_metadata -1 -fflags +bitexact -flags:a +bitexact',
    );
  });

  it('converts a detected input without raw options', () => {
    const a = encodeArgs({ path: 'input' }, resolveEncode({ format: 'flac' }, mono24k), 'output.flac');
    expect(a.slice(3, 5)).toEqual(['-i', 'input']);
  });

  it('decodes to float mono at the asked rate', () => {
    const d = resolveDecode({ sampleRate: 16000 }, { sampleRate: 44100, channels: 2 });
    expect(d).toEqual({ sampleRate: 16000, mono: true, channels: 1 });
    const a = decodeArgs({ path: 'input' }, d, 'output.f32').join(' ');
    expect(a).toContain(
      `-af ${resampleFilter(16000, { mono: true })} -ar 16000 -ac 1 -c:a pcm_f32le -f f32le output.f32`,
    );
    const stereo = resolveDecode({ mono: false }, { sampleRate: 44100, channels: 2 });
    expect(stereo).toEqual({ sampleRate: 44100, mono: false, channels: 2 });
    expect(decodeArgs({ path: 'input' }, stereo, 'o').join(' ')).not.toContain('-ac');
    const raw = decodeArgs({ path: 'input', raw: { sampleRate: 24000, channels: 1 } }, d, 'o');
    expect(raw.slice(3, 11)).toEqual(['-f', 's16le', '-ar', '24000', '-ac', '1', '-i', 'input']);
  });

  it('checks decode options', () => {
    expect(optionError(() => resolveDecode({ sampleRate: 4000 }, mono24k)).field).toBe('sampleRate');
    expect(optionError(() => resolveDecode({ mono: 'yes' as unknown as boolean }, mono24k)).field).toBe(
      'mono',
    );
    expect(
      optionError(() =>
        decodeArgs({ path: 'i', raw: { sampleRate: 24000, channels: 0 } }, mono24k as never, 'o'),
      ).field,
    ).toBe('input.channels');
  });

  it('asks ffprobe for JSON', () => {
    const a = probeArgs('input', 'probe.json');
    expect(a.slice(-5)).toEqual(['-of', 'json', '-o', 'probe.json', 'input']);
  });
});

describe('probe results', () => {
  const probe = (format: object, streams: object[]) => parseProbe(JSON.stringify({ format, streams }));

  it('reads the first audio stream and names the format', () => {
    const r = probe({ format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '1.000000', bit_rate: '81672' }, [
      { codec_type: 'audio', codec_name: 'aac', sample_rate: '24000', channels: 1, bit_rate: '80000' },
    ]);
    expect(r).toEqual({
      format: 'm4a',
      container: 'mov,mp4,m4a,3gp,3g2,mj2',
      codec: 'aac',
      sampleRate: 24000,
      channels: 1,
      duration: 1,
      bitrate: 80000,
    });
    const a = { codec_type: 'audio', sample_rate: '48000', channels: 2 };
    expect(probe({ format_name: 'ogg' }, [{ ...a, codec_name: 'opus' }]).format).toBe('opus');
    expect(probe({ format_name: 'ogg' }, [{ ...a, codec_name: 'vorbis' }]).format).toBe('ogg');
    expect(probe({ format_name: 'matroska,webm' }, [{ ...a, codec_name: 'opus' }]).format).toBe('webm');
    const mp4 = probe({ format_name: 'mov,mp4,m4a,3gp,3g2,mj2' }, [
      { codec_type: 'video' },
      { ...a, codec_name: 'aac' },
    ]);
    expect([mp4.format, mp4.duration]).toEqual(['mp4', null]);
    expect(probe({ format_name: 'webm', duration: 'N/A' }, [{ ...a, duration: '2.5' }]).duration).toBe(2.5);
  });

  it('says what is missing', () => {
    expect(() => probe({ format_name: 'mjpeg' }, [{ codec_type: 'video' }])).toThrow(/no audio stream/);
    expect(() => parseProbe('{}')).toThrow(DecodeError);
    expect(() => parseProbe('not json')).toThrow(/no usable answer/);
    expect(() => probe({ format_name: 'wav' }, [{ codec_type: 'audio', codec_name: 'pcm_s16le' }])).toThrow(
      /no sample rate/,
    );
  });
});

describe('log tails and errors', () => {
  it('keeps the last meaningful lines, without scratch names or exit noise', () => {
    const t = logTail(
      [
        '[mp3 @ 0x1a2b3c] Header missing',
        '[mp3 @ 0x1a2b3c] Header missing',
        'input: Invalid data found when processing input',
        'Conversion failed!',
        'Aborted()',
      ],
      ['input'],
    );
    expect(t).toBe('[mp3] Header missing; Invalid data found when processing input');
    expect(logTail(['x'.repeat(1000)], [], 4, 50)).toHaveLength(50);
    expect(logTail([])).toBe('');
  });

  it('revives named errors after a worker boundary', () => {
    const send = (e: Error) => reviveFormatError({ name: e.name, message: e.message });
    const opt = send(new FormatOptionError('bitrate', 'must be between 64 and 320 kbps (got 9).'));
    expect(opt).toBeInstanceOf(FormatOptionError);
    expect((opt as FormatOptionError).field).toBe('bitrate');
    expect(opt.message).toBe('bitrate: must be between 64 and 320 kbps (got 9).');
    expect(send(new DecodeError('bad'))).toBeInstanceOf(DecodeError);
    expect(send(new UnsupportedFormatError('no'))).toBeInstanceOf(UnsupportedFormatError);
    expect(send(new CancelledError())).toBeInstanceOf(CancelledError);
    expect(reviveFormatError({ name: 'TypeError', message: 'x' }).name).toBe('TypeError');
  });
});
