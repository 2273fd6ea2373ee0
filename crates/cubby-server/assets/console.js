// Cubby console: keeps a locker's compartment grid live over server-sent
// events. Hand-written, no dependencies; the page works without it (it shows
// the state as of loading).
"use strict";

const WORDS = {
  available: "free",
  occupied: "occupied",
  reserved: "reserved",
  out_of_service: "out of service",
  alarm: "alarm",
};

function startGrid(grid) {
  const status = document.getElementById("live-status");
  const cells = new Map();
  for (const li of grid.querySelectorAll("li.cell")) cells.set(li.dataset.label, li);
  const source = new EventSource(grid.dataset.live);
  source.addEventListener("open", () => { status.textContent = "Live"; });
  source.addEventListener("error", () => { status.textContent = "Reconnecting…"; });
  source.addEventListener("grid", (event) => {
    const update = JSON.parse(event.data);
    for (const c of update.cells) {
      const li = cells.get(c.label);
      if (!li || li.dataset.state === c.state) continue;
      li.dataset.state = c.state;
      li.className = "cell state-" + c.state;
      const words = WORDS[c.state] || c.state;
      li.querySelector(".state").textContent = words;
      li.setAttribute("aria-label", c.label + ": " + words);
    }
    status.textContent = "Live";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const grid = document.getElementById("grid");
  if (grid && grid.dataset.live) startGrid(grid);
});

// Passkeys (the WebAuthn calls are in passkeys.js, loaded first).

function say(text) {
  const m = document.getElementById("message");
  if (m) m.textContent = text;
}

// A step-up: proves one of this staff member's passkeys, answers the proof.
async function stepUp(csrf) {
  const done = await provePasskey(
    "/console/step-up/start", { csrf }, "/console/step-up/finish", { csrf });
  return done.proof;
}

// Forms that open doors (or remove a passkey) carry a fresh step-up proof.
function guardWithStepUp(form) {
  form.addEventListener("submit", (event) => {
    if (form.elements.step_up.value) return;
    event.preventDefault();
    say("Confirm with your passkey…");
    stepUp(form.elements.csrf.value)
      .then((proof) => {
        form.elements.step_up.value = proof;
        form.submit();
      })
      .catch((e) => say("Not confirmed: " + e.message));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-step-up]")) guardWithStepUp(form);
  const enrol = document.getElementById("enrol-staff");
  if (enrol) {
    enrol.addEventListener("click", () => {
      say("Waiting for your device…");
      const code = new URLSearchParams(location.hash.slice(1)).get("code") || "";
      createPasskey("/console/passkeys", { code })
        .then((done) => location.assign(done.next))
        .catch((e) => say("That did not work: " + e.message));
    });
  }
  const add = document.getElementById("add-passkey");
  if (add) {
    add.addEventListener("click", () => {
      say("Confirm with a passkey you have, then create the new one…");
      const csrf = add.dataset.csrf;
      stepUp(csrf)
        .then((proof) => createPasskey("/console/passkeys", { csrf, step_up: proof }))
        .then((done) => location.assign(done.next))
        .catch((e) => say("That did not work: " + e.message));
    });
  }
  const signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    signIn.addEventListener("click", () => {
      say("Waiting for your device…");
      provePasskey("/console/passkeys/sign-in/start", {}, "/console/passkeys/sign-in/finish")
        .then((done) => location.assign(done.next))
        .catch(() => say("Sign-in did not work. Use a passkey enrolled for this console, or your token."));
    });
  }
});
