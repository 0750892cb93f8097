import { openDB, wrap, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { Voice } from '../voices/types';
import { PRESET_VOICES } from '../voices/presets';
import type { ApiKeyRecord } from '../auth/keys';
import type { JobRecord } from './records';
import type { InstalledModel } from './records';
import type { HistoryRecord } from './records';
import type { StoredLexiconEntry } from './records';
import type { VoicePreview } from './records';
import type { TranscriptRecord } from './records';
import type { ClipRecord } from './records';
import type { ProjectRecord } from './records';
import type { RateBucket } from './records';

export interface TimbreSchema extends DBSchema {
  voices: { key: string; value: Voice; indexes: { kind: string; updated_at: number } };
  apiKeys: { key: string; value: ApiKeyRecord; indexes: { hash: string } };
  rateLimits: { key: string; value: RateBucket };
  jobs: { key: string; value: JobRecord; indexes: { created_at: number } };
  meta: { key: string; value: unknown };
  /** v2: models whose every file is verified and stored (the bytes live in OPFS or Cache Storage). */
  models: { key: string; value: InstalledModel };
  /** v3: every speech generation (text, voice, parameters, audio). */
  history: { key: string; value: HistoryRecord; indexes: { created_at: number } };
  /** v3: pronunciation lexicon entries; id = `${scope}|${word lower-cased}`. */
  lexicon: { key: string; value: StoredLexiconEntry; indexes: { scope: string } };
  /** v3: short generated previews of voices, made on first request and kept. */
  previews: { key: string; value: VoicePreview };
  /** v4: the Transcribe view's transcripts (segments with edits, and the audio). */
  transcripts: { key: string; value: TranscriptRecord; indexes: { created_at: number } };
  /** v5: the clip library (recordings, imports, edits), audio as WAV bytes. */
  clips: { key: string; value: ClipRecord; indexes: { created_at: number } };
  /** v5: timeline projects (tracks of clips). */
  projects: { key: string; value: ProjectRecord; indexes: { updated_at: number } };
}

export type TimbreDB = IDBPDatabase<TimbreSchema>;

export const DB_NAME = 'timbre';
/** Bump with a new step in MIGRATIONS; steps run in order from the stored version. */
export const DB_VERSION = 5;

type Migration = (
  db: IDBPDatabase<TimbreSchema>,
  tx: IDBPTransaction<TimbreSchema, StoreNames<TimbreSchema>[], 'versionchange'>,
) => void;

const MIGRATIONS: Migration[] = [
  // v1: the voice library with the Kokoro presets, keys, limits, jobs.
  (db, tx) => {
    const voices = db.createObjectStore('voices', { keyPath: 'id' });
    voices.createIndex('kind', 'kind');
    voices.createIndex('updated_at', 'updated_at');
    const keys = db.createObjectStore('apiKeys', { keyPath: 'id' });
    keys.createIndex('hash', 'hash', { unique: true });
    db.createObjectStore('rateLimits', { keyPath: 'bucket' });
    const jobs = db.createObjectStore('jobs', { keyPath: 'id' });
    jobs.createIndex('created_at', 'created_at');
    db.createObjectStore('meta');
    const store = tx.objectStore('voices');
    for (const v of PRESET_VOICES) void store.put(v);
  },
  // v2: the model manager's record of installed models.
  (db) => {
    db.createObjectStore('models', { keyPath: 'id' });
  },
  // v3: speech history, the stored pronunciation lexicon, voice previews.
  (db) => {
    db.createObjectStore('history', { keyPath: 'id' }).createIndex('created_at', 'created_at');
    db.createObjectStore('lexicon', { keyPath: 'id' }).createIndex('scope', 'scope');
    db.createObjectStore('previews', { keyPath: 'voice_id' });
  },
  // v4: transcripts of the Transcribe view.
  (db) => {
    db.createObjectStore('transcripts', { keyPath: 'id' }).createIndex('created_at', 'created_at');
  },
  // v5: the clip library and timeline projects.
  (db) => {
    db.createObjectStore('clips', { keyPath: 'id' }).createIndex('created_at', 'created_at');
    db.createObjectStore('projects', { keyPath: 'id' }).createIndex('updated_at', 'updated_at');
  },
];

/**
 * Opens (and migrates) the studio database. Safe to call from the page, workers and the Service Worker.
 * `factory`: another IndexedDB than this context's own, e.g. the unpartitioned one a Storage Access handle
 * gives an embed on another site (`handle.indexedDB`).
 */
export async function openTimbreDB(name = DB_NAME, factory?: IDBFactory): Promise<TimbreDB> {
  const upgrade = (
    db: IDBPDatabase<TimbreSchema>,
    oldVersion: number,
    tx: IDBPTransaction<TimbreSchema, StoreNames<TimbreSchema>[], 'versionchange'>,
  ) => {
    for (let v = oldVersion; v < DB_VERSION; v++) MIGRATIONS[v]?.(db, tx);
  };
  // A newer version of the app wants to migrate: let it, this connection reopens on next use.
  const blocking = (db: TimbreDB) => db.close();
  if (!factory) {
    const db = await openDB<TimbreSchema>(name, DB_VERSION, {
      upgrade: (db, oldVersion, _n, tx) => upgrade(db, oldVersion, tx),
      blocking: () => db.close(),
    });
    return db;
  }
  // idb's openDB always uses the global indexedDB: the same steps over the given factory.
  const request = factory.open(name, DB_VERSION);
  request.addEventListener('upgradeneeded', (e) =>
    upgrade(
      wrap(request.result) as unknown as TimbreDB,
      e.oldVersion,
      wrap(request.transaction!) as unknown as IDBPTransaction<
        TimbreSchema,
        StoreNames<TimbreSchema>[],
        'versionchange'
      >,
    ),
  );
  const db = (await wrap(request)) as unknown as TimbreDB;
  db.addEventListener('versionchange', () => blocking(db));
  return db;
}
