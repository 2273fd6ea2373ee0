// The manager console in a real browser (Debian chromium, playwright-core):
// sign in with a staff token, walk sites → site → locker, watch the
// compartment grid change live (server-sent events) when a courier deposits,
// without a reload; every page passes axe-core with no serious or critical
// violation, breaks no Content-Security-Policy rule and loads nothing from
// elsewhere. Screenshots of each page go to SHOT_DIR.
//
// Usage: node console.mjs BASE_URL STAFF_TOKEN LOCKER_ID RESIDENT_ID SHOT_DIR
// Prints one JSON line; exits 0 when every check passed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, token, lockerId, residentId, shots] = process.argv.slice(2);
if (!base || !token || !lockerId || !residentId || !shots) {
  console.error("usage: node console.mjs BASE_URL STAFF_TOKEN LOCKER_ID RESIDENT_ID SHOT_DIR");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

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
const result = { checks: [], foreign: [], csp: [], axe: {} };
let ok = true;
const check = (name, pass, detail) => {
  result.checks.push({ name, pass, detail });
  if (!pass) ok = false;
};

// axe-core runs inside the page (evaluated over the DevTools protocol, which
// the page's CSP does not govern); serious and critical violations fail.
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
  page.on("request", (r) => {
    if (!r.url().startsWith(origin)) result.foreign.push(r.url());
  });
  page.on("console", (m) => {
    if (m.text().includes("Content Security Policy")) result.csp.push(m.text());
  });

  // Not signed in: the console sends you to sign in.
  await page.goto(`${base}/console`);
  check("signed out goes to sign-in", page.url().endsWith("/console/sign-in"), page.url());
  await audit(page, "sign-in");
  await page.screenshot({ path: join(shots, "console-sign-in.png") });
  await page.fill("#token", "not-a-token");
  await page.click("button[type=submit]");
  check("a wrong token is refused", (await page.textContent(".error"))?.includes("not a valid token"), "");

  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/console`);
  check("sites listed", (await page.textContent("table")).includes("Test Court"), "");
  await audit(page, "sites");
  await page.screenshot({ path: join(shots, "console-sites.png"), fullPage: true });

  await page.click("table a");
  await page.waitForSelector("h1");
  check("site page", (await page.textContent("h1")) === "Test Court", await page.textContent("h1"));
  await audit(page, "site");
  await page.screenshot({ path: join(shots, "console-site.png"), fullPage: true });

  // The manager sets up a locker bank: a bank with no doors is refused with
  // a clear message, then three medium and one large door make a grid.
  await page.click("text=Add a locker bank");
  await page.waitForSelector("#name");
  await audit(page, "new-locker");
  await page.fill("#name", "Garage");
  await page.click("main button[type=submit]");
  const refusal = await page.textContent(".error");
  check("an empty bank is refused clearly", refusal.includes("1 to"), refusal);
  await page.fill("#medium", "3");
  await page.fill("#large", "1");
  await page.screenshot({ path: join(shots, "console-new-locker.png"), fullPage: true });
  await page.click("main button[type=submit]");
  await page.waitForSelector("#grid");
  const built = await page.$$eval("#grid li.cell", (cells) => cells.map((c) => c.dataset.label));
  check("the new bank's grid", JSON.stringify(built) === JSON.stringify(["B01", "B02", "B03", "C01"]), JSON.stringify(built));
  check("the new bank is named", (await page.textContent("h1")) === "Garage", await page.textContent("h1"));

  await page.goto(`${base}/console/lockers/${lockerId}`);
  await page.waitForFunction(() => document.getElementById("live-status").textContent === "Live");
  const cells = await page.locator("#grid li.cell").count();
  check("grid drawn", cells === 5, `${cells} cells`);
  check("all free at first", (await page.locator("#grid li.state-available").count()) === 5, "");
  await audit(page, "locker");

  // A courier deposits through the API; the grid follows without a reload.
  await page.evaluate(() => { window.__notReloaded = true; });
  const res = await fetch(`${base}/api/v1/lockers/${lockerId}/deposits`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      tracking_number: "CONSOLE0001", carrier: "dhl",
      recipient: { resident_id: residentId },
      width_mm: 300, height_mm: 60, depth_mm: 200,
    }),
  });
  const deposit = await res.json();
  const label = deposit.compartment && deposit.compartment.label;
  check("deposit accepted", res.status === 201 && !!label, JSON.stringify(deposit));
  await page.waitForSelector(`#grid li[data-label="${label}"].state-occupied`, { timeout: 10000 });
  check("cell turned occupied live", true, label);
  check("no reload", await page.evaluate(() => window.__notReloaded === true), "");
  check(
    "the cell says so in words",
    (await page.getAttribute(`#grid li[data-label="${label}"]`, "aria-label")) === `${label}: occupied`,
    "",
  );
  await page.screenshot({ path: join(shots, "console-locker.png"), fullPage: true });

  // Parcel search by unit, by name and by tracking number; the custody timeline.
  await page.click(".crumbs a");
  for (const q of ["A-1", "kowalska", "console0001"]) {
    await page.fill("#q", q);
    await page.click("form.search button");
    await page.waitForSelector("#parcels, #no-parcels");
    check(`search "${q}" finds the parcel`, (await page.textContent("main")).includes("CONSOLE0001"), q);
  }
  await audit(page, "parcels");
  await page.screenshot({ path: join(shots, "console-parcels.png"), fullPage: true });
  await page.click("#parcels a");
  await page.waitForSelector("#timeline");
  check("the custody timeline", (await page.textContent("#timeline")).includes("deposited"), await page.textContent("#timeline"));
  await audit(page, "parcel");
  await page.screenshot({ path: join(shots, "console-parcel.png"), fullPage: true });
  await page.goBack();

  // Reports: charts drawn as SVG in the page, numbers in words and tables.
  await page.click(".crumbs a");
  await page.click("text=Reports");
  await page.waitForSelector("#staff-hours");
  check("three charts", (await page.locator("svg.chart").count()) === 3, "");
  const bars = await page.$$eval("svg.chart:first-of-type rect title", (ts) => ts.map((t) => t.textContent));
  check("today's delivery is a bar", bars.some((t) => t.endsWith(": 1")), bars.slice(-3).join(" | "));
  check("the carrier table", (await page.textContent("#carriers")).includes("dhl"), await page.textContent("#carriers"));
  check("the compliance table", (await page.textContent("#compliance")).includes("no windows published"), await page.textContent("#compliance"));
  check("the impact, as an estimate", (await page.textContent("#impact")).includes("kg CO2e"), await page.textContent("#impact"));
  await audit(page, "reports");
  await page.screenshot({ path: join(shots, "console-reports.png"), fullPage: true });

  // Residents from CSV: one bad row stops the import and is named.
  await page.click(".crumbs a");
  await page.click("text=Residents and import");
  await page.waitForSelector("#csv");
  const before = await page.textContent("main p");
  await page.fill("#csv", "name,unit,email,language\nOla Nowak,C-3,ola@example.org,pl\n\"Kim, Lee\",C-4,not-an-email,en\n");
  await page.click("main form button[type=submit]");
  await page.waitForSelector("#import-errors");
  const report = await page.textContent("#import-errors");
  check("the bad row is reported by line", report.includes("3") && report.toLowerCase().includes("email"), report);
  check("nothing imported", (await page.textContent("main p")) === before, await page.textContent("main p"));
  await audit(page, "residents");
  await page.screenshot({ path: join(shots, "console-residents.png"), fullPage: true });
  await page.fill("#csv", "name,unit,email,language\nOla Nowak,C-3,ola@example.org,pl\n\"Kim, Lee\",C-4,kim@example.org,en\n");
  await page.click("main form button[type=submit]");
  await page.waitForSelector("#imported");
  check("two residents imported", (await page.textContent("#imported")).includes("Imported 2"), await page.textContent("#imported"));
  await page.goto(`${base}/console`);
  await page.click("table a");
  await page.fill("#q", "ZZZ999");
  await page.click("form.search button");
  await page.waitForSelector("#no-parcels");
  check("no match said plainly", (await page.textContent("#no-parcels")).includes("No parcel matches"), "");

  // Incidents, and carriers with their couriers' own accounts.
  await page.goto(`${base}/console`);
  await page.click("table a");
  await page.click("text=All incidents");
  await page.waitForSelector("h1");
  await audit(page, "incidents");
  await page.click("nav >> text=Carriers");
  await page.waitForSelector("#code");
  await page.fill("#code", "DHL");
  await page.fill("#carrier-name", "DHL Parcel");
  await Promise.all([page.waitForEvent("load"), page.click("form.narrow button[type=submit]")]);
  check("a carrier added", (await page.textContent("#notice")).includes("DHL Parcel (dhl) added"), await page.textContent("#notice"));
  // A courier account comes with a token: it needs the manager's passkey,
  // and this manager has none, so nothing is opened.
  await page.fill("section input[name=name]", "Marek");
  await page.click("text=Open the account");
  await page.waitForFunction(() => (document.getElementById("message")?.textContent || "").startsWith("Not confirmed"));
  check("a courier account needs a passkey step-up", (await page.textContent("#message")).startsWith("Not confirmed"), await page.textContent("#message"));
  check("no courier account was opened", !(await page.textContent("section")).includes("Marek"), "");
  await audit(page, "carriers");
  await page.screenshot({ path: join(shots, "console-carriers.png"), fullPage: true });

  // Signing out ends the session.
  await page.click(".sign-out button");
  await page.waitForURL(`${base}/console/sign-in`);
  await page.goto(`${base}/console`);
  check("signed out for good", page.url().endsWith("/console/sign-in"), page.url());
} catch (e) {
  check("no exception", false, String(e));
} finally {
  await browser.close();
}
check("nothing loaded from elsewhere", result.foreign.length === 0, result.foreign.join(" "));
check("no Content-Security-Policy violation", result.csp.length === 0, result.csp.join(" | "));
console.log(JSON.stringify(result));
process.exit(ok ? 0 : 1);
