// The resident portal in a real browser (Debian chromium, playwright-core)
// with Chromium's virtual authenticator: a resident registers a passkey from
// the invitation link, sees the parcel waiting for them, signs out, and signs
// in again with the passkey. A used invitation and an unknown email get
// nowhere. axe-core finds no serious violation; no CSP violation; nothing is
// loaded from elsewhere.
//
// Then, at the locker's kiosk page (served by the agent), the resident
// collects once by the pass's QR token and, after a second delivery, by its
// code.
//
// Usage: node portal.mjs BASE_URL INVITE_PATH EMAIL TRACKING SHOT_DIR KIOSK_URL STAFF_TOKEN LOCKER_ID RESIDENT_ID
// (BASE_URL must use a host name, e.g. http://localhost:PORT: passkeys are
// never bound to a bare IP address.) Prints one JSON line; exits 0 when every
// check passed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, invite, email, tracking, shots, kiosk, staffToken, lockerId, residentId] = process.argv.slice(2);
if (!base || !invite || !email || !tracking || !shots || !kiosk || !staffToken || !lockerId || !residentId) {
  console.error("usage: node portal.mjs BASE_URL INVITE_PATH EMAIL TRACKING SHOT_DIR KIOSK_URL STAFF_TOKEN LOCKER_ID RESIDENT_ID");
  process.exit(2);
}

// Presents a code or a scanned QR token at the kiosk page until the
// locker's cache knows it (it follows the portal within a moment).
async function collectAt(k, value) {
  for (let i = 0; i < 6; i++) {
    await k.evaluate(() => { document.querySelector("#message").textContent = ""; });
    await k.fill("#code", value);
    await k.click("#collect button[type=submit]");
    await k.waitForFunction(() => document.querySelector("#message").textContent.length > 0);
    if ((await k.getAttribute("#message", "class")) === "ok") return await k.textContent("#message");
    await k.waitForTimeout(700);
  }
  return await k.textContent("#message");
}

// Posts a form of the page and waits for the answer page, whose notice it returns.
async function submitOn(page, selector) {
  await Promise.all([page.waitForEvent("load"), page.click(selector)]);
  return await page.textContent("#notice");
}

async function showPass(page) {
  await page.goto(`${base}/portal`);
  await page.click("text=Show my pick-up pass");
  await page.waitForSelector("#pass-code");
  return {
    code: (await page.textContent("#pass-code")).trim(),
    token: (await page.textContent("#pass-token")).trim(),
  };
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
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const origin = new URL(base).origin;
  page.on("request", (r) => { if (!r.url().startsWith(origin)) result.foreign.push(r.url()); });
  page.on("console", (m) => { if (m.text().includes("Content Security Policy")) result.csp.push(m.text()); });
  // A platform authenticator with user verification, as a phone has.
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "internal", hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });

  await page.goto(base + invite);
  await audit(page, "enrol");
  await page.click("#enrol");
  await page.waitForURL(`${base}/portal`, { timeout: 15000 });
  const creds = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  check("one passkey on the device", creds.credentials.length === 1, String(creds.credentials.length));
  check("the parcel is listed", (await page.textContent("#parcels")).includes(tracking), "");
  await audit(page, "home");
  await page.screenshot({ path: join(shots, "portal-home.png"), fullPage: true });

  // Signing out, then in again with the passkey.
  await page.click(".sign-out button");
  await page.waitForURL(`${base}/portal/sign-in`);
  await page.goto(`${base}/portal`);
  check("signed out for good", page.url().endsWith("/portal/sign-in"), page.url());
  await audit(page, "sign-in");
  await page.fill("#email", "nobody@example.org");
  await page.click("main button[type=submit]");
  await page.waitForFunction(() => document.getElementById("message").textContent.startsWith("Sign-in did not work"), null, { timeout: 15000 });
  check("an unknown email gets nowhere", page.url().endsWith("/portal/sign-in"), page.url());
  await page.fill("#email", email);
  await page.click("main button[type=submit]");
  await page.waitForURL(`${base}/portal`, { timeout: 15000 });
  check("signed in with the passkey", (await page.textContent("#parcels")).includes(tracking), "");
  await page.screenshot({ path: join(shots, "portal-signed-in.png"), fullPage: true });

  // A neighbour may collect it; the resident holds it a while longer.
  const submit = (selector) => submitOn(page, selector);
  await page.fill("input[name=name]", "Neighbour in A-2");
  const delegated = await submit("text=Give them a code");
  check("a delegate code is shown once", /Code for Neighbour in A-2: [0-9]{8}\./.test(delegated), delegated);
  const held = await submit("text=Keep it longer (hold)");
  check("the parcel is held", held.includes("is held for you"), held);
  check("and can be released", (await page.locator("text=End the hold").count()) === 1, "");
  await audit(page, "home-actions");
  const data = await page.evaluate(async () => (await fetch("/portal/my-data.json")).json());
  // The same document staff export (GET /api/v1/residents/{id}/export).
  const mine = data.data || {};
  check("my data: the resident", mine.residents && mine.residents[0].email === "anna@example.org", "");
  const custody = (mine.custody_events || []).filter((e) => mine.parcels.length >= 1 && e.parcel_id === mine.parcels[0].id);
  check("my data: parcels with custody", mine.parcels.length >= 1 && custody.length >= 2, String(custody.length));
  const delegates = (mine.pickup_credentials || []).filter((c) => c.kind === "delegate");
  check("my data: the delegate and the passkey", delegates.length === 1 && mine.passkeys.length === 1, "");

  // At the locker: the pass's QR token opens the parcel's door.
  const first = await showPass(page);
  check("the pass shows a QR code", (await page.locator(".qr svg").count()) === 1, "");
  check("and an 8-digit code", /^[0-9]{8}$/.test(first.code), first.code);
  await audit(page, "pass");
  await page.screenshot({ path: join(shots, "portal-pass.png"), fullPage: true });
  const k = await context.newPage();
  await k.goto(kiosk);
  const byQr = await collectAt(k, first.token);
  result.by_qr = byQr;
  check("collected at the kiosk by QR", byQr.startsWith("Open:") && byQr.includes("A01"), byQr);

  // A second parcel arrives; this time the code is typed.
  const res = await fetch(`${base.replace("localhost", "127.0.0.1")}/api/v1/lockers/${lockerId}/deposits`, {
    method: "POST",
    headers: { authorization: `Bearer ${staffToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      tracking_number: "PORTAL00002", carrier: "dhl",
      recipient: { resident_id: residentId },
      width_mm: 300, height_mm: 150, depth_mm: 200,
    }),
  });
  const second = await res.json();
  check("a second parcel deposited", res.status === 201, JSON.stringify(second));
  const pass2 = await showPass(page);
  check("a new code each time", pass2.code !== first.code, "");
  const byCode = await collectAt(k, pass2.code);
  result.by_code = byCode;
  check("collected at the kiosk by code", byCode.startsWith("Open:") && byCode.includes(second.compartment.label), byCode);

  // The house rules: read and acknowledged once.
  await page.goto(`${base}/portal`);
  check("house rules shown", (await page.textContent("#rules")).includes("No parcels in the corridor"), "");
  await page.click("#acknowledge");
  await page.waitForSelector("#rules-done");
  check("rules acknowledged", (await page.locator("#acknowledge").count()) === 0, "");

  // Home and visitors: a visitor code, the household, the notices' language.
  await page.goto(`${base}/portal`);
  await page.click("#settings");
  await page.waitForSelector("#visitor");
  await audit(page, "settings");
  await page.fill("#visitor", "Dog sitter");
  await page.fill("#hours", "2");
  await page.check("input[name=single_use]");
  const pinNotice = await submit("text=Make a visitor code");
  check("a visitor code is shown once", /Visitor code for Dog sitter: [0-9]{8}\./.test(pinNotice), pinNotice);
  check("and listed", (await page.textContent("#grants")).includes("Dog sitter"), "");
  const revoked = await submit("#grants button");
  check("and revoked", revoked.includes("is revoked"), revoked);
  await page.fill("#member-name", "Piotr Kowalski");
  await page.fill("#member-email", "piotr@example.org");
  const added = await submit("text=Add to my household");
  check("a household member added", (await page.textContent("#household")).includes("Piotr Kowalski"), added);
  await page.selectOption("#language", "pl");
  const language = await submit("form[action='/portal/language'] button");
  check("notices in Polish from now on", language.includes("Polski"), language);
  check("the delegate code is listed as spent", /Neighbour in A-2 · used or ended/.test(await page.textContent("#delegates")), await page.textContent("#delegates"));
  const away = await submit("form[action='/portal/vacation'] button");
  check("away: parcels held", away.includes("held while you are away"), away);
  check("and it says until when", (await page.textContent("#away")).includes("held until"), "");
  await page.screenshot({ path: join(shots, "portal-settings.png"), fullPage: true });
  const back = await submit("form[action='/portal/vacation'] button");
  check("back home", back.includes("Welcome back"), back);

  // Passkeys: add one for a second device, remove the first; the last one
  // stays (removing it would lock the resident out).
  await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: false });
  const { authenticatorId: second_device } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "usb", hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  await page.goto(`${base}/portal/settings`);
  await page.bringToFront(); // the kiosk's page had the focus; WebAuthn needs it
  await Promise.all([
    page.waitForEvent("load", { timeout: 15000 }).catch(async (e) => {
      throw new Error(`${e.message}; the page said: ${await page.textContent("#message")}`);
    }),
    page.click("#add-passkey"),
  ]);
  check("two passkeys listed", (await page.locator("#passkeys li").count()) === 2, await page.textContent("#passkeys"));
  check("a passkey added for a second device",
    (await cdp.send("WebAuthn.getCredentials", { authenticatorId: second_device })).credentials.length === 1, "");
  const removedKey = await submit("#passkeys li:first-child button");
  check("a passkey removed", removedKey.includes("was removed") && (await page.locator("#passkeys li").count()) === 1, removedKey);
  const lastKey = await submit("#passkeys li:first-child button");
  check("the last passkey stays", lastKey.includes("only passkey") && (await page.locator("#passkeys li").count()) === 1, lastKey);
  await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: true });

  // The invitation was spent by the first passkey.
  const again = await context.newPage();
  await again.goto(base + invite);
  await again.click("#enrol");
  await again.waitForFunction(() => document.getElementById("message").textContent.startsWith("That did not work"), null, { timeout: 15000 });
  check("a used invitation registers nothing", (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials.length === 1, "");
} catch (e) {
  check("no exception", false, String(e));
} finally {
  await browser.close();
}
check("nothing loaded from elsewhere", result.foreign.length === 0, result.foreign.join(" "));
check("no Content-Security-Policy violation", result.csp.length === 0, result.csp.join(" | "));
console.log(JSON.stringify(result));
process.exit(ok ? 0 : 1);
