// The OpenVoice v2 release played by a local server, laid out as Hugging Face serves it
// (<base>/converter/config.json and converter/checkpoint.pth), so the Clone view and clone.install can
// "install from the release URL" with no network.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';

const BASE_PATH = '/myshell-ai/OpenVoiceV2/resolve/main/';

export interface ReleaseServer {
  /** The release's base URL (ends in /), as the Clone view's field and clone.install's `base` take it. */
  readonly url: string;
  /** Files served so far (404s not counted). */
  readonly hits: number;
  close(): Promise<void>;
}

/** Serves `fixture`'s config.json and checkpoint.pth (e.g. tests/fixtures/openvoice-v2-tiny) as the release. */
export async function serveRelease(fixture: string): Promise<ReleaseServer> {
  const files = new Map<string, Buffer>();
  for (const name of ['config.json', 'checkpoint.pth'])
    files.set(`${BASE_PATH}converter/${name}`, await readFile(`${fixture}/${name}`));
  let hits = 0;
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    // The studio is cross-origin isolated: a cross-origin download needs CORS and CORP.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (!body) return void res.writeHead(404).end();
    hits++;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${BASE_PATH}`,
    get hits() {
      return hits;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
