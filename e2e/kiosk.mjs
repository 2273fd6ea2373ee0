// The kiosk page in a real browser (Debian chromium, driven by playwright-core):
// a wrong code is refused with the generic message, the right code typed on the
// on-screen keypad opens the door; with a drop-off code, the "send" tab opens a
// door for a resident's return. The page must load nothing from elsewhere.
//
// Usage: node kiosk.mjs KIOSK_URL CODE SCREENSHOT_PATH [DROP_OFF_CODE]
// Prints one JSON line; exits 0 when every check passed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const [kioskUrl, code, screenshot, dropOffCode] = process.argv.slice(2);
if (!kioskUrl || !code || !screenshot) {
  console.error("usage: node kiosk.mjs KIOSK_URL CODE SCREENSHOT_PATH");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const result = { checks: [], foreign: [] };
let ok = true;
const check = (name, pass, detail) => {
  result.checks.push({ name, pass, detail });
  if (!pass) ok = false;
};
try {
  const page = await browser.newPage();
  const origin = new URL(kioskUrl).origin;
  page.on("request", (r) => {
    if (!r.url().startsWith(origin)) result.foreign.push(r.url());
  });
  const csp = [];
  page.on("console", (m) => { if (m.text().includes("Content Security Policy")) csp.push(m.text()); });
  await page.goto(kioskUrl);
  check("title", (await page.title()) === "Cubby locker", await page.title());

  // Accessibility (axe-core, WCAG 2.2 AA rules): no serious violation.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const out = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"] } });
    return out.violations.map((v) => ({ id: v.id, impact: v.impact }));
  });
  result.axe = violations;
  check("axe: no serious violations", !violations.some((v) => v.impact === "serious" || v.impact === "critical"), JSON.stringify(violations));
  check("keypad keys are labelled", (await page.getAttribute("#key-del", "aria-label")) === "Delete the last digit", "");

  // The language switch: the same wrong code, refused in Polish, then back.
  await page.click('.langs button[data-lang="pl"]');
  check("page language follows", (await page.getAttribute("html", "lang")) === "pl", "");
  check("labels translated", (await page.textContent("label[for=code]")).startsWith("Wpisz"), await page.textContent("label[for=code]"));
  await page.fill("#code", "12345678");
  await page.click("#collect button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#message").textContent.length > 0);
  check("refusal in Polish", (await page.textContent("#message")) === "Kod nie został przyjęty.", await page.textContent("#message"));
  await page.click('.langs button[data-lang="en"]');
  check("no CSP violation", csp.length === 0, csp.join(" | "));

  // A wrong code typed on a keyboard (or a scanner acting as one).
  await page.fill("#code", "00000000");
  await page.click("#collect button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#message").textContent.length > 0);
  const refused = await page.textContent("#message");
  check("wrong code refused", refused === "The code was not accepted.", refused);

  // The right code on the on-screen keypad.
  for (const digit of code) {
    await page.click(`#keys button:text-is("${digit}")`);
  }
  check("keypad typed the code", (await page.inputValue("#code")) === code, await page.inputValue("#code"));
  await page.click("#collect button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#message").className === "ok", null, { timeout: 10000 });
  const opened = await page.textContent("#message");
  result.opened = opened;
  check("door opened", opened.startsWith("Open:"), opened);
  check("code cleared after use", (await page.inputValue("#code")) === "", await page.inputValue("#code"));

  // A resident's return: the send tab takes the drop-off code.
  if (dropOffCode) {
    await page.click("#tab-send");
    check("send form shown", await page.isVisible("#drop-code") && !(await page.isVisible("#code")), "");
    await page.fill("#drop-code", dropOffCode);
    await page.click("#send button[type=submit]");
    await page.waitForFunction(() => document.querySelector("#message").className === "ok", null, { timeout: 10000 });
    const dropped = await page.textContent("#message");
    result.dropped = dropped;
    check("door opened for the return", dropped.startsWith("Put your parcel in"), dropped);
  }

  // The courier tab is reachable and labelled.
  await page.click("#tab-deliver");
  check("courier form shown", await page.isVisible("#pass"), "");
  check("form fields are labelled", (await page.locator("label[for=pass]").count()) === 1, "");
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  check("no exception", false, String(e));
} finally {
  await browser.close();
}
check("nothing loaded from elsewhere", result.foreign.length === 0, result.foreign.join(" "));
console.log(JSON.stringify(result));
process.exit(ok ? 0 : 1);
