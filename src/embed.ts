// /embed.html: hosts an engine and answers a parent page's RPC over a MessageChannel, through the same
// router as the Service Worker, with the key's origin allow-list enforced.
//
// It listens before anything else and bounds every step of start-up, so each `timbre:connect` settles
// with `timbre:ready` or `timbre:refused {code, message}`. Under a page of another site the browser
// partitions (or blocks) this frame's storage: the studio's own keys, library and models are reached
// through the Storage Access API after the user's click in the frame, or the site's own partition is used
// when the user picks it (issue #20).
import { openTimbreDB, type TimbreDB } from './lib/storage/db';
import { createApiContext } from './lib/api/context';
import { createRouter } from './lib/api/routes';
import { EventBus } from './lib/api/events';
import { gatherSystemFacts } from './lib/system/info';
import { KeyStore } from './lib/storage/keys';
import { ModelRegistry } from './lib/storage/models';
import { OpfsModelStore, type OpfsDirHandle } from './lib/models/store';
import { modelFilesSource } from './lib/models/source';
import { isCrossSite } from './lib/embed/site';
import type {
  ConnectMessage,
  EmbedNotice,
  EmbedRefusalCode,
  EmbedReply,
  EmbedStorageMode,
  RpcRequest,
  RpcResponse,
} from './lib/embed/protocol';
import { EngineBridge } from './client/engine';
import { becomeEngineHost } from './client/host';
import { ModelsBridge } from './client/models';

/** Each connect settles well within 10 s even when every step below runs out its own limit. */
const LIMITS = { accessCheck: 1500, openDb: 3000, verify: 1500, engine: 3500 };
/** What the site's own storage needs for speech: Kokoro. */
const FALLBACK_MODEL = 'kokoro-82m-q8';

/** The Storage Access API's handle ("beyond cookies"); Chromium 125+ offers it. */
interface StorageAccessHandle {
  indexedDB: IDBFactory;
  getDirectory(): Promise<FileSystemDirectoryHandle>;
}
interface AccessDocument {
  hasStorageAccess?(): Promise<boolean>;
  requestStorageAccess?(types?: Record<string, boolean>): Promise<StorageAccessHandle | undefined>;
}
const doc = document as unknown as AccessDocument;

class EmbedRefusal extends Error {
  override name = 'EmbedRefusal';
  constructor(
    readonly code: EmbedRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

function within<T>(p: Promise<T>, ms: number, code: EmbedRefusalCode, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new EmbedRefusal(code, message)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

interface Opened {
  db: TimbreDB;
  keys: KeyStore;
  engine: EngineBridge;
  mode: EmbedStorageMode;
}

const status = document.getElementById('status')!;
const consentButton = document.getElementById('consent') as HTMLButtonElement;
const ownButton = document.getElementById('own') as HTMLButtonElement;
const router = createRouter();
const bus = new EventBus();

let opened: Promise<Opened> | null = null;
let handle: StorageAccessHandle | null = null;
/** The user chose this site's own (partitioned) storage after access was refused or unsupported. */
let ownStorage = false;
/** Where the last connect came from: the only origin a key created here is sent to. */
let parentOrigin: string | null = null;

const show = (text: string) => (status.textContent = text);
const notify = (n: EmbedNotice, origin = '*') => parent.postMessage(n, origin);

/**
 * Whether this frame's own storage is the studio's: on the studio's site, yes. On another site a browser
 * that blocks third-party storage says no through hasStorageAccess; one that allows third-party cookies
 * (Chrome's default) says yes yet partitions IndexedDB and OPFS, so another site always goes through the
 * Storage Access handle.
 */
async function hasAccess(origin: string): Promise<boolean> {
  if (isCrossSite(origin, location.origin)) return false;
  // No API (older engines): storage is what it is; same-site embeds always have it.
  if (typeof doc.hasStorageAccess !== 'function') return true;
  return within(
    doc.hasStorageAccess(),
    LIMITS.accessCheck,
    'timeout',
    'The browser did not say within 1.5 s whether Timbre may use its storage here.',
  );
}

/** Third-party cookies allowed here (then requestStorageAccess needs no click either). */
async function cookieAccess(): Promise<boolean> {
  if (typeof doc.hasStorageAccess !== 'function') return false;
  return within(doc.hasStorageAccess(), LIMITS.accessCheck, 'timeout', '').catch(() => false);
}

/** Access the user granted on an earlier visit needs no new click (Chromium: permission "granted"). */
async function grantedBefore(): Promise<boolean> {
  try {
    const p = await within(
      navigator.permissions.query({ name: 'storage-access' as PermissionName }),
      LIMITS.accessCheck,
      'timeout',
      '',
    );
    return p.state === 'granted';
  } catch {
    return false;
  }
}

async function requestAccess(): Promise<StorageAccessHandle> {
  if (typeof doc.requestStorageAccess !== 'function')
    throw new EmbedRefusal(
      'storage_access_denied',
      'This browser has no Storage Access API: Timbre on this site can only use storage of its own.',
    );
  let h: StorageAccessHandle | undefined;
  try {
    h = await doc.requestStorageAccess({ indexedDB: true, getDirectory: true });
  } catch (e) {
    throw new EmbedRefusal(
      'storage_access_denied',
      `The browser refused Timbre access to its storage on this site (${(e as Error).message || 'denied'}).`,
    );
  }
  // Engines that grant only cookies (Firefox, Safari) return no handle to IndexedDB or OPFS.
  if (!h || !h.indexedDB || typeof h.getDirectory !== 'function')
    throw new EmbedRefusal(
      'storage_access_denied',
      "This browser grants embedded pages their cookies only, not the studio's IndexedDB and files: Timbre on this site can only use storage of its own.",
    );
  return h;
}

async function openDb(factory?: IDBFactory): Promise<TimbreDB> {
  try {
    return await within(
      openTimbreDB(undefined, factory),
      LIMITS.openDb,
      'storage_unavailable',
      'Timbre could not open its storage within 3 s.',
    );
  } catch (e) {
    if (e instanceof EmbedRefusal) throw e;
    throw new EmbedRefusal(
      'storage_unavailable',
      `The browser does not let Timbre open its storage here (${(e as Error).message}). ` +
        (ownStorage
          ? 'It blocks storage for pages embedded from another site; allow third-party storage for this site, or open the studio itself.'
          : ''),
    );
  }
}

async function open(origin: string): Promise<Opened> {
  if (!handle && !ownStorage && !(await hasAccess(origin))) {
    // Access granted on an earlier visit, or third-party cookies allowed: no click needed.
    if ((await grantedBefore()) || (await cookieAccess()))
      handle = await within(requestAccess(), LIMITS.accessCheck, 'timeout', '').catch(() => null);
    if (!handle) {
      consentButton.hidden = false;
      show('Timbre needs your permission to use its storage on this site.');
      throw new EmbedRefusal(
        'storage_access_required',
        'Timbre is embedded from another site, where the browser keeps its storage apart. Click "Use Timbre on this site" in the Timbre frame to use the studio\'s keys, voices and installed models here.',
      );
    }
  }
  if (handle) {
    const h = handle;
    const db = await openDb(h.indexedDB);
    // The engine worker stays in this frame's partition: it reads the studio's models through this page.
    const store = new OpfsModelStore(async () => (await h.getDirectory()) as unknown as OpfsDirHandle);
    const files = modelFilesSource({ registry: new ModelRegistry(db), store });
    return { db, keys: new KeyStore(db), engine: new EngineBridge(undefined, { files }), mode: 'studio' };
  }
  const db = await openDb();
  const engine = new EngineBridge();
  if (!ownStorage && 'serviceWorker' in navigator) {
    // Same site: this frame shares the studio's storage and Service Worker, so it can host its compute.
    void navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
    becomeEngineHost(engine);
  }
  return { db, keys: new KeyStore(db), engine, mode: ownStorage ? 'partition' : 'studio' };
}

/** Opened once; a refusal lets the next connect try again (after a click, or once storage frees up). */
function storage(origin: string): Promise<Opened> {
  opened ??= open(origin).catch((e: unknown) => {
    opened = null;
    throw e;
  });
  return opened;
}

async function respond(s: Opened, req: RpcRequest, origin: string): Promise<RpcResponse> {
  const ctx = createApiContext({
    db: s.db,
    engine: s.engine,
    bus,
    version: __APP_VERSION__,
    callerOrigin: origin,
    system: () => gatherSystemFacts(),
  });
  const headers = new Headers(req.headers ?? {});
  let body: BodyInit | undefined;
  if (req.body instanceof ArrayBuffer || ArrayBuffer.isView(req.body)) body = req.body as BodyInit;
  else if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  }
  const res = await router.handle(
    new Request(new URL(req.path, location.origin), { method: req.method, headers, body }),
    ctx,
  );
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => (out[k] = v));
  const isJson = (res.headers.get('Content-Type') ?? '').includes('json');
  return {
    id: req.id,
    status: res.status,
    headers: out,
    body: isJson ? await res.json() : await res.arrayBuffer(),
  };
}

async function connect(msg: ConnectMessage, port: MessagePort, origin: string): Promise<void> {
  const refuse = (code: EmbedRefusalCode, message: string) => {
    port.postMessage({ type: 'timbre:refused', error: { code, message } } satisfies EmbedReply);
    port.close();
  };
  let s: Opened;
  try {
    s = await storage(origin);
    const key =
      typeof msg.key === 'string'
        ? await within(
            s.keys.verify(msg.key),
            LIMITS.verify,
            'storage_unavailable',
            'Timbre could not read its API keys within 1.5 s.',
          )
        : undefined;
    if (!key)
      return refuse(
        'unauthorized',
        s.mode === 'partition'
          ? "The API key is not valid in this site's own Timbre storage: use the key the Timbre frame created for this site."
          : 'The API key is not valid (unknown or revoked).',
      );
    if (!key.allowed_origins.includes(origin))
      return refuse(
        'forbidden',
        `This key does not allow embedding from ${origin}. Add the origin to the key in Timbre's "API keys" view.`,
      );
    await within(
      s.engine.ping(),
      LIMITS.engine,
      'engine_unavailable',
      'The Timbre engine did not start within 3.5 s; reload the page to try again.',
    ).catch((e: unknown) => {
      if (e instanceof EmbedRefusal) throw e;
      throw new EmbedRefusal(
        'engine_unavailable',
        `The Timbre engine could not start: ${(e as Error).message}`,
      );
    });
  } catch (e) {
    if (e instanceof EmbedRefusal) return refuse(e.code, e.message);
    return refuse('internal_error', `Timbre could not start: ${(e as Error).message}`);
  }
  port.onmessage = async (e: MessageEvent<RpcRequest>) => {
    const req = e.data;
    // Every call carries the key, so the router checks scopes and limits exactly as for fetch.
    const withKey = { ...req, headers: { ...(req.headers ?? {}), 'X-API-Key': msg.key } };
    port.postMessage(await respond(s, withKey, origin));
  };
  port.postMessage({ type: 'timbre:ready', version: __APP_VERSION__, storage: s.mode } satisfies EmbedReply);
  show(`Timbre connected to ${origin}${s.mode === 'partition' ? " (this site's own storage)" : ''}`);
}

addEventListener('message', (ev: MessageEvent) => {
  const msg = ev.data as ConnectMessage | null;
  const port = ev.ports[0];
  if (msg?.type !== 'timbre:connect' || !port || ev.source !== parent) return;
  parentOrigin = ev.origin;
  void connect(msg, port, ev.origin);
});

// The click gives the user activation requestStorageAccess needs; it must happen in this frame.
consentButton.addEventListener('click', async () => {
  consentButton.disabled = true;
  try {
    handle = await requestAccess();
    opened = null;
    consentButton.hidden = true;
    show('Timbre may use its storage on this site.');
    notify({ type: 'timbre:storage', granted: true, storage: 'studio' });
  } catch (e) {
    const r = e as EmbedRefusal;
    consentButton.hidden = true;
    ownButton.hidden = false;
    show(`${r.message} You can use Timbre with this site's own storage instead.`);
    notify({
      type: 'timbre:storage',
      granted: false,
      storage: 'studio',
      error: { code: r.code, message: r.message },
    });
  } finally {
    consentButton.disabled = false;
  }
});

// The fallback: this frame's partition, with a key created here for the embedding page and the speech
// model installed into it (its progress shown here and sent to the parent).
ownButton.addEventListener('click', async () => {
  ownButton.disabled = true;
  ownStorage = true;
  opened = null;
  try {
    if (!parentOrigin) throw new EmbedRefusal('internal_error', 'Connect from the embedding page first.');
    const s = await storage(origin);
    const { secret } = await s.keys.create({
      name: `Embedded in ${parentOrigin}`,
      now: Date.now(),
      allowed_origins: [parentOrigin],
    });
    ownButton.hidden = true;
    notify({ type: 'timbre:storage', granted: true, storage: 'partition', key: secret }, parentOrigin);
    await installFallbackModel(parentOrigin);
  } catch (e) {
    ownStorage = false;
    const r = e instanceof EmbedRefusal ? e : new EmbedRefusal('storage_unavailable', (e as Error).message);
    show(r.message);
    if (parentOrigin)
      notify(
        {
          type: 'timbre:storage',
          granted: false,
          storage: 'partition',
          error: { code: r.code, message: r.message },
        },
        parentOrigin,
      );
  } finally {
    ownButton.disabled = false;
  }
});

async function installFallbackModel(origin: string): Promise<void> {
  const models = new ModelsBridge();
  const report = (fraction: number, done: boolean, error?: string) =>
    notify({ type: 'timbre:models', model: FALLBACK_MODEL, fraction, done, error }, origin);
  try {
    await models.install(FALLBACK_MODEL, (p) => {
      const fraction = p.total > 0 ? p.done / p.total : 0;
      show(`Installing the speech model for this site: ${Math.round(fraction * 100)} %`);
      report(fraction, false);
    });
    show("Timbre is ready with this site's own storage.");
    report(1, true);
  } catch (e) {
    show(`The speech model could not be installed: ${(e as Error).message}`);
    report(0, true, (e as Error).message);
  }
}

show('Timbre engine ready');
// Tell the parent we are listening (it may have loaded us before adding its message listener).
notify({ type: 'timbre:loaded' });
