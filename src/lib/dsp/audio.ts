// The one shape of mono audio passed between modules: samples and their rate (never `rate` alone).
export interface MonoAudio {
  samples: Float32Array;
  sampleRate: number;
}
