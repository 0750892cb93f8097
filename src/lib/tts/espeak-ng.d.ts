// espeak-ng@1.0.2 ships no types: the parts of its Emscripten module used by src/lib/tts/espeak.ts.
declare module 'espeak-ng' {
  export interface ESpeakNgModule {
    FS: {
      writeFile(path: string, data: string): void;
      readFile(path: string, opts: { encoding: 'utf8' }): string;
    };
  }
  export interface ESpeakNgOptions {
    /** The espeak-ng command line; main() runs once, when the module is ready. */
    arguments: string[];
    print?: (line: string) => void;
    printErr?: (line: string) => void;
    /** Called on exit(); without it the Node build sets process.exitCode. */
    quit?: (status: number, toThrow: unknown) => void;
    instantiateWasm?: (
      imports: WebAssembly.Imports,
      done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
    ) => object;
    preRun?: Array<(m: ESpeakNgModule) => void>;
  }
  const ESpeakNg: (opts: ESpeakNgOptions) => Promise<ESpeakNgModule>;
  export default ESpeakNg;
}
