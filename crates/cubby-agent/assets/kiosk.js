// The locker's touchscreen. Hand-written, no dependencies: it talks only to
// the agent beside it, so it works with the server unreachable.
"use strict";

const $ = (id) => document.getElementById(id);
const message = $("message");

function say(text, ok) {
  message.textContent = text;
  message.className = ok ? "ok" : "no";
}

function show(which) {
  const collect = which === "collect";
  $("collect").hidden = !collect;
  $("deliver").hidden = collect;
  $("tab-collect").setAttribute("aria-pressed", String(collect));
  $("tab-deliver").setAttribute("aria-pressed", String(!collect));
  message.textContent = "";
  message.className = "";
  (collect ? $("code") : $("pass")).focus();
}
$("tab-collect").addEventListener("click", () => show("collect"));
$("tab-deliver").addEventListener("click", () => show("deliver"));

// An on-screen keypad for touchscreens without a keyboard.
const keys = $("keys");
for (const k of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "C"]) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = k;
  b.addEventListener("click", () => {
    const input = $("code");
    if (k === "⌫") input.value = input.value.slice(0, -1);
    else if (k === "C") input.value = "";
    else input.value += k;
    input.focus();
  });
  keys.appendChild(b);
}

async function post(path, body) {
  try {
    const res = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    return { status: res.status, data };
  } catch (e) {
    return { status: 0, data: { message: "The locker is not answering. Try again." } };
  }
}

function doors(list) {
  return list.length === 1 ? "door " + list[0] : "doors " + list.join(", ");
}

$("collect").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $("code");
  const { status, data } = await post("/kiosk/api/pickup", { code: input.value.trim() });
  input.value = "";
  if (status === 200 && data.opened && data.opened.length) {
    say("Open: " + doors(data.opened) + ". Please close the door after taking your parcel.", true);
  } else {
    say(data.message || "The code was not accepted.", false);
  }
});

$("deliver").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const tracking = $("tracking");
  const { status, data } = await post("/kiosk/api/deposit", {
    pass: $("pass").value.trim(),
    tracking_number: tracking.value.trim(),
  });
  if (status === 200 && data.opened) {
    say("Put the parcel in " + doors(data.opened) + " and close the door.", true);
    tracking.value = "";
    tracking.focus();
  } else {
    say(data.message || "The deposit was refused.", false);
  }
});
