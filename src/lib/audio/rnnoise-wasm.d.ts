// The package ships no types: its default export is the Emscripten module factory (see denoise.ts).
declare module '@echogarden/rnnoise-wasm' {
  const factory: (moduleArg?: object) => Promise<unknown>;
  export default factory;
}
