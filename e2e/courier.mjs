// The courier screens in a real browser (Debian chromium, playwright-core),
// at a handheld's size: sign in with a courier token, pick the locker,
// deposit a batch of three parcels (each answer names the open door), then
// a parcel that fits nowhere gets clear directions. axe-core finds no
// serious violation; nothing is loaded from elsewhere; no CSP violation.
//
// Usage: node courier.mjs BASE_URL COURIER_TOKEN SHOT_DIR
// Prints one JSON line; exits 0 when every check passed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, token, shots] = process.argv.slice(2);
if (!base || !token || !shots) {
  console.error("usage: node courier.mjs BASE_URL COURIER_TOKEN SHOT_DIR");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const result = { checks: [], foreign: [], csp: [], doors: [], axe: {} };
let ok = true;
const check = (name, pass, detail) => {
  result.checks.push({ name, pass, detail });
  if (!pass) ok = false;
};
async function audit(page, name) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const out = await window.axe.run(document, { resultTypes: ["violations"] });
    return out.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  result.axe[name] = r;
  const serious = r.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(`axe: ${name} has no serious violations`, serious.length === 0, JSON.stringify(serious));
}

try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const origin = new URL(base).origin;
  page.on("request", (r) => { if (!r.url().startsWith(origin)) result.foreign.push(r.url()); });
  page.on("console", (m) => { if (m.text().includes("Content Security Policy")) result.csp.push(m.text()); });

  await page.goto(`${base}/courier`);
  check("signed out goes to sign-in", page.url().endsWith("/courier/sign-in"), page.url());
  await audit(page, "sign-in");
  await page.fill("#token", token);
  await page.click("main button[type=submit]");
  await page.waitForURL(`${base}/courier`);
  await audit(page, "lockers");
  await page.screenshot({ path: join(shots, "courier-lockers.png"), fullPage: true });
  await page.click("a.choice");
  await page.waitForSelector("#tracking");
  await audit(page, "deposit");

  const batch = [
    ["COURIERBATCH1", "A-1", "Anna Kowalska", "small"],
    ["COURIERBATCH2", "A-2", "Jan Nowak", "medium"],
    ["COURIERBATCH3", "B-7", "Eva Müller", "large"],
  ];
  const started = Date.now();
  for (const [tracking, unit, name, size] of batch) {
    await page.fill("#tracking", tracking);
    await page.fill("#unit", unit);
    await page.fill("#name", name);
    await page.selectOption("#size", size);
    await page.click("main button[type=submit]");
    await page.waitForSelector("#outcome");
    const headline = (await page.textContent("#outcome .big")).trim();
    const door = (headline.match(/^Door (\S+) is open/) || [])[1];
    result.doors.push(door);
    check(`${tracking} opened a door`, !!door && (await page.getAttribute("#outcome", "class")).includes("opened"), headline);
  }
  result.batch_ms = Date.now() - started;
  check("three different doors", new Set(result.doors).size === 3, result.doors.join(","));
  check("the visit lists the batch", (await page.locator("#batch li").count()) === 3, "");
  await page.screenshot({ path: join(shots, "courier-deposit.png"), fullPage: true });

  // Nothing large is left: the courier is told where to go instead.
  await page.fill("#tracking", "COURIERBATCH4");
  await page.fill("#unit", "A-1");
  await page.fill("#name", "Anna Kowalska");
  await page.selectOption("#size", "large");
  await page.click("main button[type=submit]");
  await page.waitForSelector("#outcome.refused");
  const text = await page.textContent("#outcome");
  check("no fit is explained", text.includes("No compartment here fits"), text);
  check("and the parcel room offered", text.includes("parcel room"), text);
  check("the batch still lists three", (await page.locator("#batch li").count()) === 3, "");
  await audit(page, "no-fit");
  await page.screenshot({ path: join(shots, "courier-no-fit.png"), fullPage: true });
} catch (e) {
  check("no exception", false, String(e));
} finally {
  await browser.close();
}
check("nothing loaded from elsewhere", result.foreign.length === 0, result.foreign.join(" "));
check("no Content-Security-Policy violation", result.csp.length === 0, result.csp.join(" | "));
console.log(JSON.stringify(result));
process.exit(ok ? 0 : 1);
