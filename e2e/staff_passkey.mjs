// Staff passkeys in a real browser (Debian chromium, playwright-core, with
// Chromium's virtual authenticator): the first admin enrols from the link
// printed at first start, signs out, signs in again with the passkey alone,
// and opens a locker door remotely, which asks for the passkey again
// (step-up). The last passkey cannot be removed. axe-core finds no serious
// violation; no CSP violation; nothing is loaded from elsewhere.
//
// Usage: node staff_passkey.mjs BASE_URL INVITE_URL LOCKER_ID SHOT_DIR
// (BASE_URL must use a host name, e.g. http://localhost:PORT.) Prints one
// JSON line; exits 0 when every check passed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, invite, lockerId, shots] = process.argv.slice(2);
if (!base || !invite || !lockerId || !shots) {
  console.error("usage: node staff_passkey.mjs BASE_URL INVITE_URL LOCKER_ID SHOT_DIR");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const result = { checks: [], foreign: [], csp: [], axe: {} };
let ok = true;
const check = (name, pass, detail) => {
  result.checks.push({ name, pass, detail });
  if (!pass) ok = false;
};
async function audit(page, name) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const out = await window.axe.run(document, { resultTypes: ["violations"] });
    return out.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, where: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  result.axe[name] = r;
  const serious = r.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(`axe: ${name} has no serious violations`, serious.length === 0, JSON.stringify(serious));
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const origin = new URL(base).origin;
  page.on("request", (r) => { if (!r.url().startsWith(origin)) result.foreign.push(r.url()); });
  page.on("console", (m) => { if (m.text().includes("Content Security Policy")) result.csp.push(m.text()); });
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "internal", hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });

  // Enrol from the first-start link; it signs the admin in.
  await page.goto(invite);
  await audit(page, "passkey-enrol");
  await page.click("#enrol-staff");
  await page.waitForURL(`${base}/console/passkeys`, { timeout: 15000 });
  const creds = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
  check("one discoverable passkey on the device", creds.length === 1 && creds[0].isResidentCredential, JSON.stringify(creds.map((c) => c.isResidentCredential)));
  // Beside the test's software passkey, enrolled first from the first-start link.
  check("listed on the passkeys page", (await page.locator("table tbody tr").count()) === 2, "");
  await audit(page, "passkeys");
  await page.screenshot({ path: join(shots, "console-passkeys.png"), fullPage: true });

  // Sign out, then in with the passkey alone.
  await page.click(".sign-out button");
  await page.waitForURL(`${base}/console/sign-in`);
  await audit(page, "sign-in-with-passkey");
  await page.click("#passkey-sign-in");
  await page.waitForURL(`${base}/console`, { timeout: 15000 });
  const who = await page.textContent(".who");
  check("signed in with the passkey", who.includes("first admin"), who);

  // A remote open asks for the passkey first, then reaches the locker.
  await page.goto(`${base}/console/lockers/${lockerId}`);
  await page.selectOption("#open-label", "A01");
  await page.fill("#open-reason", "Resident's phone is dead; ID checked at the desk");
  await audit(page, "locker-with-remote-open");
  await Promise.all([page.waitForEvent("load", { timeout: 15000 }), page.click("form[data-step-up] button[type=submit]")]);
  const opened = await page.textContent("#notice");
  check("the door was sent the command after the step-up", opened.includes("Door A01 was sent the command to open"), opened);
  await page.screenshot({ path: join(shots, "console-remote-open.png"), fullPage: true });

  // Without the passkey (the device refuses), nothing is sent.
  await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
  await page.fill("#open-reason", "no passkey this time");
  const before = page.url();
  await page.click("form[data-step-up] button[type=submit]");
  await page.waitForFunction(() => document.getElementById("message").textContent.startsWith("Not confirmed"), null, { timeout: 15000 });
  check("no step-up, no open: the page says so and stays", page.url() === before, page.url());
  await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: true });

  // One of two passkeys may be removed (after a step-up); the last stays.
  await page.goto(`${base}/console/passkeys`);
  await Promise.all([page.waitForEvent("load", { timeout: 15000 }), page.click("form[data-step-up] button")]);
  const removed = await page.textContent("#notice");
  check("one of two passkeys is removed", removed.includes("The passkey was removed"), removed);
  await Promise.all([page.waitForEvent("load", { timeout: 15000 }), page.click("form[data-step-up] button")]);
  const last = await page.textContent("#notice");
  check("the last passkey cannot be removed", last.includes("only passkey"), last);
} catch (e) {
  check("no exception", false, String(e));
} finally {
  await browser.close();
}
check("nothing loaded from elsewhere", result.foreign.length === 0, result.foreign.join(" "));
check("no Content-Security-Policy violation", result.csp.length === 0, result.csp.join(" | "));
console.log(JSON.stringify(result));
process.exit(ok ? 0 : 1);
