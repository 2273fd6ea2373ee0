// Cubby resident portal: passkey registration and sign-in (WebAuthn).
// Hand-written, no dependencies. The server's options carry binary fields as
// base64url; the browser API wants ArrayBuffers, and the answers go back as
// base64url again.
"use strict";

function fromB64url(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
}

function toB64url(buf) {
  const bytes = new Uint8Array(buf);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function post(path, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.message || "The server refused.");
  return json;
}

function say(text) {
  document.getElementById("message").textContent = text;
}

async function enrol() {
  const code = new URLSearchParams(location.hash.slice(1)).get("code") || "";
  const start = await post("/portal/passkeys/register/start", { code });
  const pk = start.options.publicKey;
  pk.challenge = fromB64url(pk.challenge);
  pk.user.id = fromB64url(pk.user.id);
  for (const c of pk.excludeCredentials || []) c.id = fromB64url(c.id);
  const cred = await navigator.credentials.create({ publicKey: pk });
  const done = await post("/portal/passkeys/register/finish", {
    ceremony: start.ceremony,
    credential: {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toB64url(cred.response.attestationObject),
        clientDataJSON: toB64url(cred.response.clientDataJSON),
      },
      extensions: cred.getClientExtensionResults(),
    },
  });
  location.assign(done.next);
}

async function signIn(email) {
  const start = await post("/portal/passkeys/sign-in/start", { email });
  const pk = start.options.publicKey;
  pk.challenge = fromB64url(pk.challenge);
  for (const c of pk.allowCredentials || []) c.id = fromB64url(c.id);
  const cred = await navigator.credentials.get({ publicKey: pk });
  const done = await post("/portal/passkeys/sign-in/finish", {
    ceremony: start.ceremony,
    credential: {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toB64url(cred.response.authenticatorData),
        clientDataJSON: toB64url(cred.response.clientDataJSON),
        signature: toB64url(cred.response.signature),
        userHandle: cred.response.userHandle ? toB64url(cred.response.userHandle) : null,
      },
      extensions: cred.getClientExtensionResults(),
    },
  });
  location.assign(done.next);
}

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("enrol");
  if (button) {
    button.addEventListener("click", () => {
      say("Waiting for your device…");
      enrol().catch((e) => say("That did not work: " + e.message));
    });
  }
  const form = document.getElementById("sign-in");
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      say("Waiting for your device…");
      signIn(document.getElementById("email").value).catch(() =>
        say("Sign-in did not work. Check the email, or ask your building for a new invitation."));
    });
  }
});
