// The studio's page-side state: database, stores, engine, update prompt and notices.
import { openTimbreDB, type TimbreDB } from '../lib/storage/db';
import { VoiceStore } from '../lib/storage/voices';
import { KeyStore } from '../lib/storage/keys';
import { HistoryStore } from '../lib/storage/history';
import { PreviewStore } from '../lib/storage/previews';
import { EngineBridge } from './engine';
import { ModelsBridge } from './models';
import { FormatsBridge } from './formats';
import type { InstallProgress } from '../lib/models/types';
import { CancelledError } from '../lib/core/run';
import { modelOfProgress } from '../lib/ui/install-status';
import { IdleTune } from '../lib/ui/idle-tune';
import type { ProviderPreference } from '../lib/runtime/provider';
import type { SettingsResult } from '../lib/engine/runtime-ops';

function readPreference(): ProviderPreference {
  const v = globalThis.localStorage?.getItem('timbre:ep');
  return v === 'webgpu' || v === 'wasm' ? v : 'auto';
}

export interface Toast {
  id: number;
  message: string;
  kind: 'info' | 'error' | 'success';
  action?: { label: string; run: () => void | Promise<void> };
}

export class Studio {
  readonly engine = new EngineBridge();
  // Any change to the installed models reloads the views that depend on them.
  readonly models = new ModelsBridge(() => this.touch());
  /** Audio formats through ffmpeg.wasm (encode, convert, decode, probe); its worker starts on first use. */
  readonly formats = new FormatsBridge();
  /** Progress of installs under way, by model id ('bundled' for the first-start install of the bundled set). */
  installs = $state<Record<string, InstallProgress>>({});
  /** Models of the first-start install that are in already, usable before the rest is (in install order). */
  installedEarly = $state<string[]>([]);
  db!: TimbreDB;
  voices!: VoiceStore;
  keys!: KeyStore;
  /** Speech generations (the Speak view's history). */
  history!: HistoryStore;
  /** Voice previews, generated on first request. */
  previews!: PreviewStore;
  ready = $state(false);
  updateAvailable = $state(false);
  offlineReady = $state(false);
  toasts = $state<Toast[]>([]);
  /** The user's execution-provider choice for models, kept in localStorage. */
  providerPreference = $state<ProviderPreference>(readPreference());
  /** Bumped whenever library data changes, so views reload. */
  revision = $state(0);
  private applyUpdate: (() => Promise<void>) | null = null;
  private nextToast = 1;
  /**
   * The voice converter's int8 variant made, or measured again after a busy measurement, when the studio
   * is idle (src/lib/ui/idle-tune.ts): never inside a person's conversion. Only once the engine has run in
   * this page (a page that never used it does not start it for this).
   */
  private readonly idleTune = new IdleTune({
    status: () => this.engine.run('clone.status', {}),
    tune: () => this.engine.runWhileIdle('clone.tune', {}),
    idle: () => this.engine.state.alive && !this.engine.busy,
    changed: () => this.touch(),
  });

  /**
   * Watches for idle time: the engine's jobs and a person's input on `target` (the page) restart the wait.
   * main.ts calls it once.
   */
  watchIdle(target: EventTarget): void {
    this.engine.onChange(() => this.idleTune.activity());
    const active = () => this.idleTune.activity();
    for (const type of ['pointerdown', 'keydown', 'wheel', 'input'])
      target.addEventListener(type, active, { capture: true, passive: true });
  }

  async init(): Promise<void> {
    this.db = await openTimbreDB();
    this.voices = new VoiceStore(this.db);
    this.keys = new KeyStore(this.db);
    this.history = new HistoryStore(this.db);
    this.previews = new PreviewStore(this.db);
    this.ready = true;
  }

  /**
   * On first start (and after an interrupted one) the bundled models install from the app's own origin,
   * so speech and transcription work offline. `localStorage['timbre:auto-install'] = 'off'` turns it off.
   */
  async installBundledModels(): Promise<void> {
    try {
      if (globalThis.localStorage?.getItem('timbre:auto-install') === 'off') return;
      const list = await this.models.list();
      if (list.filter((m) => m.bundled).every((m) => m.installed)) return;
      let current = '';
      await this.models.installBundled((p) => {
        this.progress('bundled', p);
        // The set installs one model after another: when the next begins, the one before is usable, and
        // the views that need it (Speak warms its model) hear of it now rather than at the end.
        const model = modelOfProgress(p);
        if (current && model !== current && !this.installedEarly.includes(current)) {
          this.installedEarly = [...this.installedEarly, current];
          this.touch();
        }
        current = model;
      });
      this.toast('The bundled models are installed: Timbre now works offline.', { kind: 'success' });
    } catch (e) {
      if (!(e instanceof CancelledError)) this.fail(e, 'Installing the bundled models stopped');
    } finally {
      this.progress('bundled', null);
      this.touch();
    }
  }

  /** Records (or clears, with null) the progress of an install shown in the Models view. */
  progress(id: string, p: InstallProgress | null): void {
    const next = { ...this.installs };
    if (p) next[id] = p;
    else delete next[id];
    this.installs = next;
  }

  /** Applies the execution-provider choice to the engine (and remembers it). */
  async setProviderPreference(p: ProviderPreference): Promise<SettingsResult> {
    const r = await this.engine.run('runtime.settings', { preference: p });
    this.providerPreference = p;
    globalThis.localStorage?.setItem('timbre:ep', p);
    return r;
  }

  setUpdater(apply: () => Promise<void>): void {
    this.applyUpdate = apply;
    this.updateAvailable = true;
  }

  async update(): Promise<void> {
    await this.applyUpdate?.();
  }

  touch(): void {
    this.revision++;
    // Models changed (an install, say): the idle wait starts over, so a new converter is tuned too.
    this.idleTune.activity();
  }

  toast(message: string, opts: { kind?: Toast['kind']; action?: Toast['action']; ms?: number } = {}): void {
    const id = this.nextToast++;
    this.toasts = [...this.toasts, { id, message, kind: opts.kind ?? 'info', action: opts.action }];
    setTimeout(() => this.dismiss(id), opts.ms ?? (opts.action ? 8000 : 4000));
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  /** Runs a library change: on success views reload, on failure the error is shown. True when it worked. */
  async act(what: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      this.touch();
      return true;
    } catch (e) {
      this.fail(e, what);
      return false;
    }
  }

  /** Shows an error as a notice a person can read; never a stack. */
  fail(e: unknown, what: string): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.toast(`${what}: ${msg}`, { kind: 'error', ms: 8000 });
  }
}
