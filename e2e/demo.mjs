// What a new user sees after `cubby demo`: the console address and token it
// prints lead to a live locker grid, which changes while the simulated
// couriers and residents work, without a reload, within a minute.
//
// Usage: node demo.mjs CONSOLE_URL ADMIN_TOKEN
// Prints one JSON line; exits 0 when every check passed.
import { chromium } from "playwright-core";

const [consoleUrl, token] = process.argv.slice(2);
if (!consoleUrl || !token) {
  console.error("usage: node demo.mjs CONSOLE_URL ADMIN_TOKEN");
  process.exit(2);
}
const started = Date.now();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const result = { checks: [] };
let ok = true;
const check = (name, pass, detail) => {
  result.checks.push({ name, pass, detail });
  if (!pass) ok = false;
};
try {
  const page = await browser.newPage();
  await page.goto(consoleUrl);
  await page.fill("#token", token);
  await page.click("main button[type=submit]");
  await page.waitForSelector("table a");
  check("the demo site is listed", (await page.textContent("table")).includes("Riverside Court"), "");
  await page.click("table a");
  await page.click("ul.lockers a");
  await page.waitForFunction(() => document.getElementById("live-status").textContent === "Live");
  const snapshot = () => page.$$eval("#grid li.cell", (cells) => cells.map((c) => c.className).join(","));
  const first = await snapshot();
  await page.evaluate(() => { window.__notReloaded = true; });
  await page.waitForFunction(
    (before) => Array.from(document.querySelectorAll("#grid li.cell")).map((c) => c.className).join(",") !== before,
    first,
    { timeout: 50000, polling: 250 },
  );
  result.seconds = (Date.now() - started) / 1000;
  check("the grid changed live", true, "");
  check("without a reload", await page.evaluate(() => window.__notReloaded === true), "");
  check("within a minute of starting", result.seconds < 60, String(result.seconds));
} catch (e) {
  check("no exception", false, String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(ok ? 0 : 1);
