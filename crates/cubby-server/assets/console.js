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
