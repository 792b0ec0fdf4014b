// Browser test of the dashboard: playwright-core drives Debian's chromium
// (never a downloaded browser) against a running engine whose ui_dashboard
// serves web/dist. Started by tests/runtime/dashboard_browser.sh, which runs
// the engine on okx-sim and then checks at okx-sim what this script did.
//
// Prints one "ok - …" / "not ok - …" line per check (as the runtime scripts
// do), writes the ids the shell checks at okx-sim to $BT_RESULTS, keeps
// screenshots of every page at both widths in $BT_ARTIFACTS, and exits 1
// when a check failed. Every wait is on a selector or a condition with a
// bounded timeout; nothing sleeps for a fixed time.
//
// Environment: BT_URL (http://127.0.0.1:PORT), BT_TOKEN, BT_CHROMIUM (the
// browser binary), BT_ARTIFACTS (a directory), BT_RESULTS (a JSON file),
// BT_ACCOUNT (the okx-sim demo account, long/short mode), BT_PAPER (the paper
// account), BT_INST, BT_TRADER (a trader whose "Run now" makes a decision),
// BT_MAX_LEVER (risk.limits' max_leverage for BT_INST), BT_NEWS_TITLE (a
// headline of the RSS feed the engine reads), BT_NEWS_SYMBOL (the coin it
// names), BT_NEWS_FEED (that feed's file: a story is added to it while the
// News page is open), BT_FNG_VALUE and BT_FNG_LABEL (the Fear & Greed
// index's latest reading), BT_TIMEOUT_MS (the default bound of a wait, 20000).
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined || v === "") {
    console.error(`dashboard.mjs: ${k} is not set`);
    process.exit(2);
  }
  return v;
};
const BASE = env("BT_URL").replace(/\/$/, "");
const TOKEN = env("BT_TOKEN");
const CHROMIUM = env("BT_CHROMIUM", "/usr/bin/chromium");
const ART = env("BT_ARTIFACTS");
const RESULTS = env("BT_RESULTS");
const ACCOUNT = env("BT_ACCOUNT");
const PAPER = env("BT_PAPER");
const INST = env("BT_INST");
const TRADER = env("BT_TRADER");
const MAX_LEVER = Number(env("BT_MAX_LEVER"));
const NEWS_TITLE = env("BT_NEWS_TITLE");
const NEWS_SYMBOL = env("BT_NEWS_SYMBOL");
const NEWS_FEED = env("BT_NEWS_FEED");
const FNG_VALUE = env("BT_FNG_VALUE");
const FNG_LABEL = env("BT_FNG_LABEL");
const T = Number(env("BT_TIMEOUT_MS", "20000"));

const WIDTHS = [
  { name: "1280", width: 1280, height: 800, isMobile: false },
  { name: "390", width: 390, height: 844, isMobile: true },
];
// Every page, with the elements that show it has loaded its data (a table,
// or the panel of a list that may be empty: its body is then checked to be
// neither loading nor an error).
const PAGES = [
  { id: "overview", ready: ["card-equity", "accounts-table", "risk-rules-table"] },
  { id: "trade", ready: ["order-ticket", "quote", "positions", "open-orders"] },
  { id: "traders", ready: ["trader-card", "timeline-list"] },
  { id: "arena", ready: ["arena-table", "arena-curves", "arena-bias"] },
  { id: "account", ready: ["balance-table", "positions", "open-orders", "order-history"] },
  { id: "market", ready: ["tickers-table", "book-table"] },
  { id: "news", ready: ["news-list", "fng-value", "fng-chart"] },
  { id: "system", ready: ["plugins-table", "connections-table", "latency-table"] },
];

let passes = 0;
let fails = 0;
const results = {};
const artifacts = [];

function ok(what) {
  passes++;
  console.log(`ok - ${what}`);
}
function notOk(what, why) {
  fails++;
  console.log(`not ok - ${what}`);
  if (why) console.log(`#   ${String(why).split("\n").slice(0, 6).join("\n#   ")}`);
}
const tid = (id) => `[data-testid="${id}"]`;

// check(what, fn): fn throws (a timeout, a failed expectation) to fail.
async function check(what, fn) {
  try {
    await fn();
    ok(what);
    return true;
  } catch (e) {
    notOk(what, e instanceof Error ? e.message : e);
    return false;
  }
}
function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}
// waitFor(what, fn, ms): poll fn (every 100 ms) until it returns a truthy
// value, which is returned; after ms, fail saying what was awaited.
async function waitFor(what, fn, ms = T) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (${last.message ?? last})` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
async function shot(page, name) {
  const file = path.join(ART, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  artifacts.push(file);
}

// --- console errors, per width and page ---------------------------------------
// Deliberate refusals are allowed narrowly: a resource URL and a status, as
// often as the test provoked them. Anything else at level "error", and any
// uncaught exception, fails the page it happened on.
const allowed = []; // {url, status, left}
const errors = new Map(); // "width/page" -> [text]
function allow(url, status) {
  allowed.push({ url, status, left: 1 });
}
function watchConsole(page, where) {
  const record = (text) => {
    const k = where.current;
    if (!errors.has(k)) errors.set(k, []);
    errors.get(k).push(text);
  };
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const text = m.text();
    const url = m.location()?.url ?? "";
    const st = /^Failed to load resource: the server responded with a status of (\d{3})\b/.exec(text);
    if (st) {
      const a = allowed.find((x) => x.left > 0 && x.url === url && x.status === Number(st[1]));
      if (a) {
        a.left--;
        return;
      }
    }
    record(`${text}${url ? ` (${url})` : ""}`);
  });
  page.on("pageerror", (e) => record(`uncaught: ${e.message}`));
  page.on("crash", () => record("the page crashed"));
}

// A page loaded: its root visible, the elements that show data visible, no
// panel still loading, and no panel showing an error.
async function pageLoaded(page, p) {
  await page.locator(tid(`page-${p.id}`)).waitFor({ state: "visible", timeout: T });
  for (const r of p.ready) await page.locator(`${tid(`page-${p.id}`)} ${tid(r)}`).first().waitFor({ state: "visible", timeout: T });
  await waitFor(`the panels of ${p.id} to finish loading`, async () => (await page.locator('[data-testid$="-loading"]').count()) === 0);
  const alerts = await page.locator('[role="alert"]').allInnerTexts();
  expect(alerts.length === 0, `error shown: ${alerts.join(" | ")}`);
}

async function openApp(browser, w, where) {
  const ctx = await browser.newContext({
    viewport: { width: w.width, height: w.height },
    isMobile: w.isMobile,
    hasTouch: w.isMobile,
    deviceScaleFactor: 1,
    timezoneId: "UTC",
  });
  ctx.setDefaultTimeout(T);
  const page = await ctx.newPage();
  watchConsole(page, where);
  // Every decision and news item the feed (/ws) pushes, with when it came.
  const pushed = [];
  const pushedNews = [];
  page.on("websocket", (ws) => {
    if (!ws.url().endsWith("/ws")) return;
    ws.on("framereceived", (f) => {
      try {
        const m = JSON.parse(typeof f.payload === "string" ? f.payload : f.payload.toString());
        if (m.type === "decision") pushed.push({ id: String(m.data.id), trader: m.data.trader, at: Date.now() });
        if (m.type === "news") pushedNews.push({ id: String(m.data.id), title: m.data.title, at: Date.now() });
      } catch {
        /* not JSON: not a message of the feed */
      }
    });
  });
  where.current = `${w.name}/overview`;
  await page.goto(`${BASE}/#token=${TOKEN}`);
  return { ctx, page, pushed, pushedNews };
}

async function visit(page, w, p, where) {
  where.current = `${w.name}/${p.id}`;
  await page.locator(tid(`nav-${p.id}`)).click();
  await pageLoaded(page, p);
}

// --- the trading steps, at 1280 px -------------------------------------------------
async function trading(page, where) {
  const trade = PAGES.find((p) => p.id === "trade");
  where.current = "1280/trade";
  await check("the feed (/ws) is live", () => page.locator(`${tid("ws-state")}[data-state="open"]`).waitFor({ timeout: T }));
  await check("the token from the URL is taken (and out of the address bar)", async () => {
    await page.locator(tid("token-forget")).waitFor({ timeout: T });
    expect(!page.url().includes(TOKEN), `the URL still holds the token: ${page.url()}`);
  });
  await page.locator(tid("nav-trade")).click();
  await page.evaluate((i) => {
    window.location.hash = `#/trade/${i}`;
  }, INST);
  await check("Trade loads", () => pageLoaded(page, trade));
  await check(`the ticket trades ${ACCOUNT} on ${INST}`, async () => {
    await page.locator(tid("account-select")).selectOption(ACCOUNT);
    await waitFor("the instrument picked", async () => (await page.locator(tid("instrument-select")).inputValue()) === INST);
    await waitFor("a last price in the quote", async () => /\d/.test(await page.locator(`${tid("quote")} b`).innerText()));
    await page.locator(tid("posside-long")).waitFor({ timeout: T });
  });

  const ticket = page.locator(tid("order-ticket"));
  const positions = page.locator(tid("positions"));
  const longRow = positions.locator(`${tid("positions-row")}[data-inst="${INST}"][data-posside="long"]`);

  // A market order: the answer in the ticket, the position in the table.
  let mkt = null;
  await check("a market buy of 1 contract (long, 3x) is sent from the ticket", async () => {
    await ticket.locator(tid("ordtype-market")).click();
    await ticket.locator(tid("posside-long")).click();
    await ticket.locator(tid("order-size")).fill("1");
    await ticket.locator(tid("order-lever")).fill("3");
    await ticket.locator(`${tid("order-buy")}:enabled`).waitFor({ timeout: T });
    await ticket.locator(tid("order-buy")).click();
    await ticket.locator(tid("order-result")).waitFor({ timeout: T + 12000 });
    mkt = {
      state: await ticket.locator(tid("order-result-state")).innerText(),
      ordId: await ticket.locator(tid("order-result-ordid")).innerText(),
      clOrdId: await ticket.locator(tid("order-result-clordid")).innerText(),
    };
    results.market = mkt;
  });
  await check("the ticket shows the venue's answer: ordId, clOrdId, state", () => {
    expect(mkt, "no answer");
    expect(/^\d+$/.test(mkt.ordId), `ordId '${mkt.ordId}'`);
    expect(/^manual\d+$/.test(mkt.clOrdId), `clOrdId '${mkt.clOrdId}'`);
    expect(/^(filled|partially_filled|live)$/.test(mkt.state), `state '${mkt.state}'`);
  });
  await check("the long of 1 contract appears in Positions", async () => {
    await longRow.locator(tid("positions-size")).waitFor({ timeout: T });
    await waitFor("size 1", async () => (await longRow.locator(tid("positions-size")).innerText()).trim() === "1");
    await longRow.locator(tid(`close-${INST}-long`)).waitFor({ timeout: T });
  });

  // A limit order far under the price: live in Open orders, then cancelled there.
  let lim = null;
  await check("a limit buy 20 % under the price is sent and rests (live)", async () => {
    const r = await fetch(`${BASE}/api/market/tickers?instId=${INST}`);
    const last = Number((await r.json())[0].last);
    const px = String(Math.floor(last * 0.8));
    await ticket.locator(tid("ordtype-limit")).click();
    await ticket.locator(tid("order-px")).fill(px);
    await ticket.locator(tid("order-size")).fill("2");
    await ticket.locator(tid("order-ttl")).fill("10m");
    await ticket.locator(tid("order-lever")).fill("3");
    await ticket.locator(`${tid("order-buy")}:enabled`).waitFor({ timeout: T });
    await ticket.locator(tid("order-buy")).click();
    await waitFor(
      "a new answer in the ticket",
      async () => (await ticket.locator(tid("order-result-ordid")).count()) > 0 && (await ticket.locator(tid("order-result-ordid")).innerText()) !== mkt?.ordId,
      T + 12000,
    );
    lim = {
      px,
      state: await ticket.locator(tid("order-result-state")).innerText(),
      ordId: await ticket.locator(tid("order-result-ordid")).innerText(),
      clOrdId: await ticket.locator(tid("order-result-clordid")).innerText(),
    };
    results.limit = lim;
    expect(lim.state === "live", `state '${lim.state}'`);
  });
  const openRow = page.locator(`${tid("open-orders")} ${tid("open-orders-row")}[data-ordid="${lim?.ordId ?? "none"}"]`);
  await check("it is listed in Open orders", () => openRow.waitFor({ timeout: T }));
  await check("Cancel on its row cancels it: it leaves Open orders", async () => {
    await openRow.locator(tid(`cancel-${lim.ordId}`)).click();
    await openRow.waitFor({ state: "detached", timeout: T });
    expect((await page.locator(tid(`cancel-${lim.ordId}-error`)).count()) === 0, "the cancel showed an error");
  });

  // A risk rejection: leverage over risk.limits' max_leverage, refused with the rule.
  await check(`an order at ${MAX_LEVER * 2}x (max_leverage ${MAX_LEVER}) is refused with its rule`, async () => {
    allow(`${BASE}/api/orders`, 422);
    await ticket.locator(tid("ordtype-market")).click();
    await ticket.locator(tid("order-size")).fill("1");
    await ticket.locator(tid("order-lever")).fill(String(MAX_LEVER * 2));
    await ticket.locator(`${tid("order-buy")}:enabled`).waitFor({ timeout: T });
    await ticket.locator(tid("order-buy")).click();
    const rule = ticket.locator(`${tid("order-error")} ${tid("order-error-rule")}`);
    await rule.waitFor({ timeout: T + 12000 });
    expect((await rule.innerText()).trim() === "risk.limits/max_leverage", `rule '${await rule.innerText()}'`);
    const msg = await ticket.locator(tid("order-error-message")).innerText();
    expect(/leverage/i.test(msg) && msg.includes(String(MAX_LEVER * 2)), `message '${msg}'`);
    expect((await ticket.locator(tid("order-result")).count()) === 0, "an order answer is shown too");
  });
  await check("and the position is still 1 contract", async () => {
    expect((await longRow.locator(tid("positions-size")).innerText()).trim() === "1", "the position changed");
  });
  await shot(page, "trade-after-orders-1280");
}

// --- a decision arriving live on the Traders page -----------------------------------
async function liveDecision(page, pushed, where) {
  const traders = PAGES.find((p) => p.id === "traders");
  where.current = "1280/traders";
  await page.locator(tid("nav-traders")).click();
  await check("Traders loads", () => pageLoaded(page, traders));
  const card = page.locator(`${tid("trader-card")}[data-trader="${TRADER}"]`);
  let before = [];
  await check(`the trader ${TRADER} is shown with Run now`, async () => {
    await card.locator(tid("trader-run")).waitFor({ timeout: T });
    before = await page.locator(tid("decision")).evaluateAll((els) => els.map((e) => e.getAttribute("data-decision")));
  });
  await page.evaluate(() => {
    window.__notReloaded = true;
  });
  let fresh = null;
  await check("Run now: a new decision comes over /ws", async () => {
    await card.locator(tid("trader-run")).click();
    fresh = await waitFor("a decision of the trader on /ws", async () => pushed.find((d) => d.trader === TRADER && !before.includes(d.id)), T + 10000);
    results.decision = fresh.id;
  });
  // The timeline polls every 30 s; only the feed brings it in this soon.
  await check("and is in the timeline within 8 s of it, without a reload", async () => {
    expect(fresh, "no decision pushed");
    const entry = page.locator(`${tid("timeline-list")} ${tid("decision")}[data-decision="${fresh.id}"]`);
    await entry.waitFor({ timeout: Math.max(1, fresh.at + 8000 - Date.now()) });
    expect(await page.evaluate(() => window.__notReloaded === true), "the page was reloaded");
    expect((await entry.innerText()).includes(TRADER), "the entry does not name the trader");
  });
  await check("a click on it opens the raw answer and the prompt", async () => {
    const entry = page.locator(`${tid("decision")}[data-decision="${fresh.id}"]`);
    await entry.locator(tid("decision-open")).click();
    await page.locator(`${tid("decision-detail")} ${tid("detail-raw")}`).waitFor({ timeout: T });
    await page.locator(`${tid("decision-detail")} ${tid("detail-prompt")}`).waitFor({ timeout: T });
    await page.locator(tid("modal-close")).click();
    await page.locator(tid("decision-detail")).waitFor({ state: "detached", timeout: T });
  });
}

// --- the arena: a row per trader, sortable, the curves of those with fills ---------
async function arenaChecks(page, w) {
  const rows = () => page.locator(`${tid("arena-table")} ${tid("arena-row")}`).evaluateAll((els) => els.map((e) => e.getAttribute("data-trader")));
  let ids = [];
  await check(`arena at ${w.width} px shows one row per trader`, async () => {
    ids = (await (await fetch(`${BASE}/api/traders`)).json()).map((t) => t.id).sort();
    expect(ids.length >= 2, `traders: ${ids}`);
    const got = await rows();
    expect(JSON.stringify([...got].sort()) === JSON.stringify(ids), `rows ${got}, traders ${ids}`);
  });
  await check(`arena at ${w.width} px draws the curve of each trader with fills, with its legend`, async () => {
    const board = await (await fetch(`${BASE}/api/arena`)).json();
    const drawn = board.traders.filter((t) => t.equity_curve.length > 0).length;
    expect(drawn >= 1, "no trader has a curve");
    await page.locator(`${tid("arena-curves")} ${tid("arena-chart")} canvas`).first().waitFor({ timeout: T });
    expect((await page.locator(tid("arena-legend-item")).count()) === ids.length, "one legend item per trader");
    expect((await page.locator(tid("arena-bias-row")).count()) >= 1, "no direction bias row");
  });
  if (w.isMobile) return;
  await check("arena: a click on Trader sorts by name, a second click reverses it", async () => {
    await page.locator(tid("arena-sort-trader")).click();
    await waitFor("ascending names", async () => JSON.stringify(await rows()) === JSON.stringify(ids));
    await page.locator(tid("arena-sort-trader")).click();
    await waitFor("descending names", async () => JSON.stringify(await rows()) === JSON.stringify([...ids].reverse()));
  });
}

// --- news: the feed's headlines with their coins and scores, Fear & Greed ---------
const getJson = async (p) => (await fetch(`${BASE}${p}`)).json();
// the page's formats (web/src/lib/news.ts), worked out again here
const hundredths = (v) => Math.sign(v) * Math.round(Math.abs(v) * 100);
const fmtScore = (v) => {
  const h = hundredths(v);
  const t = (Math.abs(h) / 100).toFixed(2);
  return h > 0 ? `+${t}` : h < 0 ? `-${t}` : t;
};
const scoreClass = (v) => (v === null ? "muted" : hundredths(v) >= 5 ? "pos" : hundredths(v) <= -5 ? "neg" : "muted");

// The engine has read the RSS feed and the index (its first asks, at start).
async function newsStored() {
  await check("the engine stored the feed's headlines and the Fear & Greed readings (/api/news, /api/sentiment)", async () => {
    await waitFor(`"${NEWS_TITLE}" in /api/news`, async () => (await getJson("/api/news?limit=50")).some((n) => n.title === NEWS_TITLE));
    await waitFor(`Fear & Greed ${FNG_VALUE} in /api/sentiment`, async () => {
      const r = await getJson("/api/sentiment?feed=feargreed&limit=1");
      return r.length === 1 && String(Math.round(r[0].value)) === FNG_VALUE;
    });
  });
}

async function newsChecks(page, w, pushedNews) {
  const stored = await getJson("/api/news?limit=50");
  const row = stored.find((n) => n.title === NEWS_TITLE);
  const item = (title) => page.locator(tid("news-item")).filter({ has: page.locator(tid("news-title"), { hasText: title }) });
  const entry = item(NEWS_TITLE);
  await check(`news at ${w.width} px lists "${NEWS_TITLE}" with its source, time and ${NEWS_SYMBOL} chip`, async () => {
    expect(row, "not stored");
    await entry.waitFor({ timeout: T });
    const chips = await entry.locator(tid("news-symbol")).allInnerTexts();
    expect(chips.map((c) => c.trim()).includes(NEWS_SYMBOL), `chips ${chips}`);
    expect((await entry.locator(tid("news-feed")).innerText()).trim() === row.feed, "the feed's name");
    const time = entry.locator(tid("news-time"));
    expect(/^(just now|\d+[smhd] ago)$/.test((await time.innerText()).trim()), `time '${await time.innerText()}'`);
    expect(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/.test((await time.getAttribute("title")) ?? ""), "the exact time in its title");
    const a = entry.locator(`a${tid("news-title")}`);
    expect((await a.getAttribute("href")) === row.url, `href ${await a.getAttribute("href")}, url ${row.url}`);
    expect((await a.getAttribute("target")) === "_blank" && (await a.getAttribute("rel")) === "noopener noreferrer", "opens apart, noopener");
  });
  await check(`news at ${w.width} px shows each headline's score signed, coloured (${NEWS_TITLE}: ${row ? fmtScore(row.score) : "?"})`, async () => {
    expect(row && typeof row.score === "number" && row.score >= 0.05, `the stored score ${row?.score}`);
    for (const n of stored) {
      const score = item(n.title).first().locator(tid("news-score"));
      const text = (await score.innerText()).trim();
      expect(text === (n.score === null ? "—" : fmtScore(n.score)), `${n.title}: '${text}' for ${n.score}`);
      const cls = (await score.getAttribute("class")) ?? "";
      expect(cls.split(" ").includes(scoreClass(n.score)), `${n.title}: class '${cls}' for ${n.score}`);
    }
  });
  // impact and the LLM's score: shown when the engine sends them (newer engines)
  await check(`news at ${w.width} px shows impact and the LLM's score where the rows have them`, async () => {
    for (const n of stored) {
      const e = item(n.title).first();
      const impact = e.locator(tid("news-impact"));
      if (n.impact === undefined || n.impact === null) expect((await impact.count()) === 0, `${n.title}: an impact without one`);
      else expect((await impact.innerText()).trim() === `${Math.round(n.impact * 100)} %`, `${n.title}: impact '${await impact.innerText()}' for ${n.impact}`);
      const llm = e.locator(tid("news-llm"));
      if (n.llmScore === undefined || n.llmScore === null) expect((await llm.count()) === 0, `${n.title}: an LLM score without one`);
      else expect((await llm.innerText()).trim() === fmtScore(n.llmScore), `${n.title}: LLM '${await llm.innerText()}' for ${n.llmScore}`);
    }
  });
  await check(`news at ${w.width} px: Fear & Greed shows ${FNG_VALUE} (${FNG_LABEL}) and its history`, async () => {
    await waitFor("the latest value", async () => (await page.locator(tid("fng-value")).innerText()).trim() === FNG_VALUE);
    expect((await page.locator(tid("fng-label")).innerText()).trim() === FNG_LABEL, `label '${await page.locator(tid("fng-label")).innerText()}'`);
    await page.locator(`${tid("fng-chart")} canvas`).first().waitFor({ timeout: T });
  });
  if (w.isMobile) return;
  await check(`news: the ${NEWS_SYMBOL} filter shows only headlines naming ${NEWS_SYMBOL}, All all of them`, async () => {
    await page.locator(tid(`news-filter-${NEWS_SYMBOL}`)).click();
    const symbolsShown = () => page.locator(tid("news-item")).evaluateAll((els) => els.map((e) => e.getAttribute("data-symbols") ?? ""));
    const want = stored.filter((n) => (n.symbols ?? "").split(",").includes(NEWS_SYMBOL)).length;
    await waitFor(`${want} headlines naming ${NEWS_SYMBOL}`, async () => {
      const s = await symbolsShown();
      return (await page.locator(tid("news")).innerText()).includes(`Headlines · ${NEWS_SYMBOL}`) && s.length === want && s.every((x) => x.split(",").includes(NEWS_SYMBOL));
    });
    await page.locator(tid("news-filter-all")).click();
    await waitFor(`all ${stored.length} headlines`, async () => (await symbolsShown()).length === stored.length);
  });
  // A story added to the feed while the page is open: stored, pushed on
  // /ws, and on the page within 8 s of its push.
  const live = "Solana ETF approval sparks a rally";
  await check("news: a story added to the feed is stored", async () => {
    await page.evaluate(() => {
      window.__newsNotReloaded = true;
    });
    const xml = fs.readFileSync(NEWS_FEED, "utf8");
    const date = new Date().toUTCString().replace("GMT", "+0000");
    const story = `<item><title>${live}</title><link>https://coins.example/story/sol-etf</link><pubDate>${date}</pubDate></item>\n`;
    fs.writeFileSync(NEWS_FEED, xml.replace("</channel>", `${story}</channel>`));
    await waitFor(`"${live}" in /api/news`, async () => (await getJson("/api/news?limit=50")).some((n) => n.title === live));
  });
  let pushedAt = null;
  await check("news: the engine pushes the story on /ws", async () => {
    pushedAt = await waitFor("a news push", async () => pushedNews.find((n) => n.title === live), 5000);
  });
  if (!pushedAt) return;
  await check("news: the story pushed on /ws is prepended within 8 s, without a reload", async () => {
    await item(live).waitFor({ timeout: Math.max(1, pushedAt.at + 8000 - Date.now()) });
    const first = await page.locator(tid("news-item")).first().locator(tid("news-title")).innerText();
    expect(first.trim() === live, `the first headline is '${first}'`);
    expect(await page.evaluate(() => window.__newsNotReloaded === true), "the page was reloaded");
  });
}

// --- every page at a width: loaded, no overflow, a screenshot -----------------------
async function tour(page, w, where, pushedNews) {
  for (const p of PAGES) {
    await check(`${p.id} loads at ${w.width} px`, () => visit(page, w, p, where));
    if (p.id === "account") {
      // the paper account too: each account has its own tab
      await check(`account ${PAPER} (the paper venue) loads at ${w.width} px`, async () => {
        await page.locator(tid(`account-tab-${PAPER}`)).click();
        await pageLoaded(page, p);
        await shot(page, `account-paper-${w.name}`);
        await page.locator(tid(`account-tab-${ACCOUNT}`)).click();
        await pageLoaded(page, p);
      });
    }
    if (p.id === "arena") await arenaChecks(page, w);
    if (p.id === "news") await newsChecks(page, w, pushedNews);
    if (p.id === "system")
      await check(`system at ${w.width} px lists the refusal among the risk rejects`, async () => {
        const rows = page.locator(`${tid("rejects-table")} ${tid("reject-row")}`);
        await waitFor("risk.limits/max_leverage in the rejects table", async () =>
          (await rows.allInnerTexts()).some((r) => r.includes("risk.limits/max_leverage")),
        );
      });
    if (w.isMobile)
      await check(`${p.id} fits ${w.width} px (no sideways scrolling of the page)`, async () => {
        const sw = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(sw <= w.width, `the page is ${sw} px wide`);
      });
    await shot(page, `${p.id}-${w.name}`);
  }
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  } catch (e) {
    notOk(`chromium starts (${CHROMIUM})`, e.message);
    return;
  }
  ok(`chromium ${browser.version()} started from ${CHROMIUM}`);
  try {
    const where = { current: "" };
    const desk = await openApp(browser, WIDTHS[0], where);
    await trading(desk.page, where).catch((e) => notOk("the trading steps ran", e.message));
    await liveDecision(desk.page, desk.pushed, where).catch((e) => notOk("the decision steps ran", e.message));
    await newsStored();
    await tour(desk.page, WIDTHS[0], where, desk.pushedNews).catch((e) => notOk("the 1280 px tour ran", e.message));
    await desk.ctx.close();
    const phone = await openApp(browser, WIDTHS[1], where);
    await tour(phone.page, WIDTHS[1], where, phone.pushedNews).catch((e) => notOk("the 390 px tour ran", e.message));
    await phone.ctx.close();
    for (const w of WIDTHS)
      for (const p of PAGES) {
        const errs = errors.get(`${w.name}/${p.id}`) ?? [];
        if (errs.length === 0) ok(`no console errors on ${p.id} at ${w.width} px`);
        else notOk(`no console errors on ${p.id} at ${w.width} px`, errs.join("\n"));
      }
    const stray = [...errors.keys()].filter((k) => !WIDTHS.some((w) => PAGES.some((p) => k === `${w.name}/${p.id}`)));
    for (const k of stray) notOk(`no console errors (${k})`, errors.get(k).join("\n"));
    const unused = allowed.filter((a) => a.left > 0);
    if (unused.length === 0) ok("each deliberate refusal was seen once in the console, and only those were filtered");
    else notOk("each deliberate refusal was seen in the console", unused.map((a) => `${a.status} ${a.url}`).join(", "));
  } finally {
    await browser.close();
  }
}

await main().catch((e) => notOk("the browser test ran to its end", e.stack ?? e));
fs.writeFileSync(RESULTS, JSON.stringify(results, null, 2));
for (const a of artifacts) console.log(`# screenshot: ${a}`);
console.log(`# browser: ${passes} passed, ${fails} failed`);
process.exit(fails === 0 && passes > 0 ? 0 : 1);
