// Cubby resident portal: passkey registration, sign-in and management.
// Hand-written; the WebAuthn calls are in passkeys.js, loaded first.
"use strict";

function say(text) {
  document.getElementById("message").textContent = text;
}

async function enrol() {
  const code = new URLSearchParams(location.hash.slice(1)).get("code") || "";
  const done = await createPasskey("/portal/passkeys", { code });
  location.assign(done.next);
}

async function signIn(email) {
  const done = await provePasskey(
    "/portal/passkeys/sign-in/start", { email }, "/portal/passkeys/sign-in/finish");
  location.assign(done.next);
}

document.addEventListener("DOMContentLoaded", () => {
  const add = document.getElementById("add-passkey");
  if (add) {
    add.addEventListener("click", () => {
      say("Waiting for your device…");
      createPasskey("/portal/passkeys", { csrf: add.dataset.csrf })
        .then(() => location.assign("/portal/settings"))
        .catch((e) => say("That did not work: " + e.message));
    });
  }
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
