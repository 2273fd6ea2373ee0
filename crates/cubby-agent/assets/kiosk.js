// The locker's touchscreen. Hand-written, no dependencies: it talks only to
// the agent beside it, so it works with the server unreachable. Four
// languages; a wrong code and a code for no parcel get the same words.
"use strict";

const $ = (id) => document.getElementById(id);
const message = $("message");

const TEXT = {
  en: {
    send: "Send or return a parcel", drop_code: "Type the drop-off code you were given", open_to_send: "Open a door for my parcel",
    dropped: (d) => `Put your parcel in ${d} and close the door. The carrier collects it from there.`,
    title: "Parcel locker", collect: "Collect a parcel", deliver: "Deliver (couriers)",
    code: "Type your pick-up code or scan your QR code", open: "Open my compartment",
    pass: "Courier pass", tracking: "Tracking number (type or scan)",
    open_for_parcel: "Open a door for this parcel", keypad: "Keypad",
    del: "Delete the last digit", clear: "Clear the code",
    rejected: "The code was not accepted.",
    locked: "Too many wrong codes. Use your QR code or ask staff.",
    unavailable: "The locker cannot check codes right now. Please ask staff.",
    offline: "The locker is not answering. Try again.",
    opened: (d) => `Open: ${d}. Please close the door after taking your parcel.`,
    put: (d) => `Put the parcel in ${d} and close the door.`,
    refused: "The deposit was refused.",
    door: "door", doors: "doors",
  },
  es: {
    send: "Enviar o devolver un paquete", drop_code: "Escriba el código de entrega que recibió", open_to_send: "Abrir una puerta para mi paquete",
    dropped: (d) => `Ponga su paquete en ${d} y cierre la puerta. El transportista lo recoge allí.`,
    title: "Taquilla de paquetes", collect: "Recoger un paquete", deliver: "Entregar (mensajeros)",
    code: "Escriba su código de recogida o escanee su código QR", open: "Abrir mi compartimento",
    pass: "Pase de mensajero", tracking: "Número de seguimiento (escríbalo o escanéelo)",
    open_for_parcel: "Abrir una puerta para este paquete", keypad: "Teclado",
    del: "Borrar el último dígito", clear: "Borrar el código",
    rejected: "El código no ha sido aceptado.",
    locked: "Demasiados códigos erróneos. Use su código QR o pida ayuda al personal.",
    unavailable: "La taquilla no puede comprobar códigos ahora. Pida ayuda al personal.",
    offline: "La taquilla no responde. Inténtelo de nuevo.",
    opened: (d) => `Abierto: ${d}. Cierre la puerta después de recoger su paquete.`,
    put: (d) => `Ponga el paquete en ${d} y cierre la puerta.`,
    refused: "La entrega ha sido rechazada.",
    door: "puerta", doors: "puertas",
  },
  pl: {
    send: "Nadaj lub zwróć paczkę", drop_code: "Wpisz otrzymany kod nadania", open_to_send: "Otwórz skrytkę dla mojej paczki",
    dropped: (d) => `Włóż paczkę do: ${d} i zamknij drzwiczki. Przewoźnik odbierze ją stąd.`,
    title: "Paczkomat", collect: "Odbierz paczkę", deliver: "Nadaj (kurierzy)",
    code: "Wpisz kod odbioru lub zeskanuj kod QR", open: "Otwórz moją skrytkę",
    pass: "Przepustka kuriera", tracking: "Numer przesyłki (wpisz lub zeskanuj)",
    open_for_parcel: "Otwórz drzwiczki dla tej paczki", keypad: "Klawiatura",
    del: "Usuń ostatnią cyfrę", clear: "Wyczyść kod",
    rejected: "Kod nie został przyjęty.",
    locked: "Zbyt wiele błędnych kodów. Użyj kodu QR lub poproś obsługę.",
    unavailable: "Paczkomat nie może teraz sprawdzić kodów. Poproś obsługę.",
    offline: "Paczkomat nie odpowiada. Spróbuj ponownie.",
    opened: (d) => `Otwarte: ${d}. Zamknij drzwiczki po wyjęciu paczki.`,
    put: (d) => `Włóż paczkę do: ${d} i zamknij drzwiczki.`,
    refused: "Nadanie zostało odrzucone.",
    door: "skrytka", doors: "skrytki",
  },
  de: {
    send: "Paket senden oder zurückgeben", drop_code: "Geben Sie den erhaltenen Abgabecode ein", open_to_send: "Eine Tür für mein Paket öffnen",
    dropped: (d) => `Legen Sie Ihr Paket in ${d} und schließen Sie die Tür. Der Zusteller holt es dort ab.`,
    title: "Paketstation", collect: "Paket abholen", deliver: "Zustellen (Kuriere)",
    code: "Geben Sie Ihren Abholcode ein oder scannen Sie Ihren QR-Code", open: "Mein Fach öffnen",
    pass: "Kurierausweis", tracking: "Sendungsnummer (eingeben oder scannen)",
    open_for_parcel: "Eine Tür für dieses Paket öffnen", keypad: "Tastenfeld",
    del: "Letzte Ziffer löschen", clear: "Code löschen",
    rejected: "Der Code wurde nicht angenommen.",
    locked: "Zu viele falsche Codes. Nutzen Sie Ihren QR-Code oder fragen Sie das Personal.",
    unavailable: "Die Station kann gerade keine Codes prüfen. Bitte fragen Sie das Personal.",
    offline: "Die Station antwortet nicht. Bitte erneut versuchen.",
    opened: (d) => `Offen: ${d}. Bitte schließen Sie die Tür, nachdem Sie Ihr Paket entnommen haben.`,
    put: (d) => `Legen Sie das Paket in ${d} und schließen Sie die Tür.`,
    refused: "Die Zustellung wurde abgelehnt.",
    door: "Fach", doors: "Fächer",
  },
};
let lang = "en";
const t = (key) => TEXT[lang][key];

function setLanguage(next) {
  lang = TEXT[next] ? next : "en";
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  for (const b of document.querySelectorAll(".langs button")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  $("key-del").setAttribute("aria-label", t("del"));
  $("key-clear").setAttribute("aria-label", t("clear"));
  message.textContent = "";
  message.className = "";
}

function say(text, ok) {
  message.textContent = text;
  message.className = ok ? "ok" : "no";
}

const FIRST_FIELD = { collect: "code", send: "drop-code", deliver: "pass" };

function show(which) {
  for (const form of Object.keys(FIRST_FIELD)) {
    $(form).hidden = form !== which;
    $("tab-" + form).setAttribute("aria-pressed", String(form === which));
  }
  message.textContent = "";
  message.className = "";
  $(FIRST_FIELD[which]).focus();
}
for (const form of Object.keys(FIRST_FIELD)) {
  $("tab-" + form).addEventListener("click", () => show(form));
}
for (const b of document.querySelectorAll(".langs button")) {
  b.addEventListener("click", () => setLanguage(b.dataset.lang));
}

// An on-screen keypad for touchscreens without a keyboard.
const keys = $("keys");
for (const k of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "C"]) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = k;
  if (k === "⌫") b.id = "key-del";
  if (k === "C") b.id = "key-clear";
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
    return { status: 0, data: {} };
  }
}

function doors(list) {
  return (list.length === 1 ? t("door") : t("doors")) + " " + list.join(", ");
}

// The words for a refusal come from the status alone, so a wrong code and a
// code for no parcel cannot be told apart.
function refusal(status) {
  if (status === 429) return t("locked");
  if (status === 503) return t("unavailable");
  if (status === 0) return t("offline");
  return t("rejected");
}

$("collect").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $("code");
  const { status, data } = await post("/kiosk/api/pickup", { code: input.value.trim() });
  input.value = "";
  if (status === 200 && data.opened && data.opened.length) {
    say(t("opened")(doors(data.opened)), true);
  } else {
    say(refusal(status), false);
  }
});

// A resident's return or shipment: the locker opens a free door that fits.
$("send").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $("drop-code");
  const { status, data } = await post("/kiosk/api/drop-off", { code: input.value.trim() });
  input.value = "";
  if (status === 200 && data.opened && data.opened.length) {
    say(t("dropped")(doors(data.opened)), true);
  } else if (status === 409) {
    say(data.message || t("refused"), false);
  } else {
    say(refusal(status), false);
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
    say(t("put")(doors(data.opened)), true);
    tracking.value = "";
    tracking.focus();
  } else if (status === 0 || status === 429 || status === 503) {
    say(refusal(status), false);
  } else {
    say(data.message || t("refused"), false);
  }
});

setLanguage("en");
