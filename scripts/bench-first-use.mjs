// `npm run bench:first-use`: how soon a new user hears speech, in headless Chromium driving the built
// studio as a person would (#21). Each run of each scenario gets a fresh browser profile:
//   (a) fresh_install: Generate pressed the moment the first-start install of the bundled models completes;
//   (b) installed_10s: Generate pressed 10 s after opening Speak on an installed studio;
//   (c) typed_ahead: Generate on text typed 3 s earlier (the first sentence spoken ahead);
//   (d) preview_warm: a voice preview ▶ with the model warm.
// First audio = from the click to when the page's audio actually starts: every AudioBufferSourceNode.start
// is hooked, and its start is the call's time plus how far ahead on the audio clock it was scheduled.
// Prints one JSON object on stdout (load averages before and after each run: the machine may be shared);
// progress goes to stderr. BENCH_FIRST_USE_RUNS=n changes the three runs per scenario.
import { chromium } from 'playwright-core';
import {
  CHROMIUM,
  FLAGS,
  ensureBuild,
  loadAverages,
  logger,
  machine,
  median,
  packageVersion,
  round,
  serve,
} from './lib/bench.mjs';

const log = logger('bench:first-use');
const RUNS = Math.max(1, Number(process.env.BENCH_FIRST_USE_RUNS ?? 3));
const TEXT =
  'Welcome to Timbre, the voice studio in your browser. It runs on this device, and nothing leaves it.';
const GOALS = { fresh_install: 5000, installed_10s: 1500, typed_ahead: 300, preview_warm: 3000 };
const KOKORO = 'kokoro-82m-q8';

/** Records when each buffer starts playing (page clock, ms), and the engine's speech jobs' runs made ahead. */
function probe() {
  const g = globalThis;
  g.__audioStarts = [];
  const start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function (when) {
    const ctx = this.context;
    const ahead = Math.max(0, (when ?? ctx.currentTime) - ctx.currentTime);
    g.__audioStarts.push(performance.now() + ahead * 1000);
    return start.call(this, when);
  };
}

async function fresh(browser, base, { autoInstall }) {
  const context = await browser.newContext();
  await context.addInitScript(probe);
  if (!autoInstall) await context.addInitScript(() => localStorage.setItem('timbre:auto-install', 'off'));
  return context;
}

async function open(context, base, hash) {
  const page = await context.newPage();
  page.on('pageerror', (e) => log('[pageerror]', e.message));
  await page.goto(`${base}/${hash}`);
  await page.waitForFunction(() => '__timbre' in globalThis, null, { timeout: 120_000 });
  return page;
}

/** Installs Kokoro into the profile, then opens the studio afresh (an installed studio, a new visit). */
async function installed(browser, base, hash) {
  const context = await fresh(browser, base, { autoInstall: false });
  const setup = await open(context, base, '#/models');
  await setup.evaluate((id) => globalThis.__timbre.models.install(id), KOKORO);
  await setup.close();
  return { context, page: await open(context, base, hash) };
}

/** Clicks `selector` and waits for the next buffer start; ms from the click to it. */
async function clickToAudio(page, selector, timeout = 600_000) {
  const before = await page.evaluate(() => globalThis.__audioStarts.length);
  const t0 = await page.evaluate(() => performance.now());
  await page.click(selector);
  await page.waitForFunction((n) => globalThis.__audioStarts.length > n, before, { timeout });
  const at = await page.evaluate((n) => globalThis.__audioStarts[n], before);
  return at - t0;
}

const SCENARIOS = {
  async fresh_install(browser, base) {
    const context = await fresh(browser, base, { autoInstall: true });
    const page = await open(context, base, '#/speak');
    // The moment the install is over: its progress entry goes when the last model is in.
    await page.waitForFunction(() => 'bundled' in globalThis.__timbre.installs, null, { timeout: 120_000 });
    const t = Date.now();
    await page.waitForFunction(() => !('bundled' in globalThis.__timbre.installs), null, {
      timeout: 1_800_000,
      polling: 50,
    });
    // Typed and pressed at once: nothing spoken ahead, only the warm-up during the install counts.
    await page.fill('#speak-text', TEXT);
    const ms = await clickToAudio(page, '[data-testid=generate]');
    return { context, first_audio_ms: ms, install_s: round((Date.now() - t) / 1000) };
  },
  async installed_10s(browser, base) {
    const { context, page } = await installed(browser, base, '#/speak');
    await page.waitForTimeout(10_000);
    // Typed and pressed at once: nothing spoken ahead, the warm-up while the page idled is what counts.
    await page.fill('#speak-text', TEXT);
    return { context, first_audio_ms: await clickToAudio(page, '[data-testid=generate]') };
  },
  async typed_ahead(browser, base) {
    const { context, page } = await installed(browser, base, '#/speak');
    await page.waitForTimeout(10_000);
    await page.fill('#speak-text', TEXT);
    await page.waitForTimeout(3000);
    return { context, first_audio_ms: await clickToAudio(page, '[data-testid=generate]') };
  },
  async preview_warm(browser, base) {
    const { context, page } = await installed(browser, base, '#/speak');
    // Warm: one generation made (the session and espeak-ng loaded), then a voice never previewed.
    await page.fill('#speak-text', 'Ready.');
    await clickToAudio(page, '[data-testid=generate]');
    await page.locator('[data-testid=result]').waitFor({ timeout: 600_000 });
    await page.waitForFunction(() => {
      const s = globalThis.__timbre.engine.state;
      return s.running === 0 && s.queued === 0;
    });
    await page.fill('[data-testid=voice-search]', 'george');
    const ms = await clickToAudio(page, 'button[aria-label="Preview George"]');
    return { context, first_audio_ms: ms };
  },
};

async function main() {
  const started = Date.now();
  ensureBuild(log);
  const server = await serve();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, '--autoplay-policy=no-user-gesture-required'],
  });
  const results = {};
  try {
    const only = process.env.BENCH_FIRST_USE_ONLY?.split(',');
    for (const [name, run] of Object.entries(SCENARIOS)) {
      if (only && !only.includes(name)) continue;
      results[name] = [];
      for (let i = 0; i < RUNS; i++) {
        const load_before = loadAverages();
        log(`${name} run ${i + 1}/${RUNS} (load ${load_before.join(' ')})…`);
        const r = await run(browser, server.base);
        await r.context.close();
        const { context: _c, ...figures } = r;
        results[name].push({
          ...figures,
          first_audio_ms: round(r.first_audio_ms),
          load_before,
          load_after: loadAverages(),
        });
        log(`  first audio ${round(r.first_audio_ms)} ms`);
      }
    }
  } finally {
    await browser.close();
    server.stop();
  }
  const goals = Object.fromEntries(
    Object.entries(results).map(([name, runs]) => {
      const m = median(runs.map((r) => r.first_audio_ms));
      return [name, { goal_ms: GOALS[name], median_ms: round(m), met: m <= GOALS[name] }];
    }),
  );
  const out = {
    bench: 'first-use',
    date: new Date().toISOString(),
    machine: { ...machine(), load_average: loadAverages() },
    chromium: CHROMIUM,
    playwright: packageVersion('playwright-core'),
    text: TEXT,
    runs_per_scenario: RUNS,
    note:
      'First audio: from the click to the first buffer the page starts on its AudioContext. Each run on a fresh ' +
      'profile. Load averages are the 1, 5 and 15 minute ones: on a shared or busy machine the figures grow with them.',
    scenarios: results,
    goals,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
