// Cubby: the browser half of WebAuthn, shared by the console and the
// resident portal. Hand-written, no dependencies. The server's options carry
// binary fields as base64url; the browser API wants ArrayBuffers, and the
// answers go back as base64url again.
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

async function postJson(path, body) {
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

// Registers a new passkey: start (with `startBody`), create, finish.
// Answers the server's final JSON.
async function createPasskey(prefix, startBody) {
  const start = await postJson(prefix + "/register/start", startBody);
  const pk = start.options.publicKey;
  pk.challenge = fromB64url(pk.challenge);
  pk.user.id = fromB64url(pk.user.id);
  for (const c of pk.excludeCredentials || []) c.id = fromB64url(c.id);
  const cred = await navigator.credentials.create({ publicKey: pk });
  return postJson(prefix + "/register/finish", {
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
}

// Proves a passkey: start (with `startBody`), get, finish (with `extra`
// fields added). Answers the server's final JSON.
async function provePasskey(startPath, startBody, finishPath, extra) {
  const start = await postJson(startPath, startBody);
  const pk = start.options.publicKey;
  pk.challenge = fromB64url(pk.challenge);
  for (const c of pk.allowCredentials || []) c.id = fromB64url(c.id);
  const cred = await navigator.credentials.get({ publicKey: pk });
  return postJson(finishPath, Object.assign({
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
  }, extra || {}));
}
