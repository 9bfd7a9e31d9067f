// The status page is complete without this script. With it, the page
// follows the daemon live: GET /events says when a pass starts and
// finishes; on each event the page fetches itself again and swaps in the
// new <main> (the server renders everything, this script builds nothing
// from data). Relative times ("12 s ago") are kept current.
"use strict";
(function () {
  const live = document.getElementById("live");
  function say(text, cls) {
    live.textContent = text;
    live.className = "live" + (cls ? " " + cls : "");
  }
  // Each event starts a refresh; only the latest one's answer is used
  // (an earlier one may arrive after it, with an older page).
  let generation = 0;
  async function refresh() {
    const mine = ++generation;
    try {
      const resp = await fetch(location.pathname, { headers: { Accept: "text/html" }, cache: "no-store" });
      if (!resp.ok) return;
      const html = await resp.text();
      if (mine !== generation) return;
      const doc = new DOMParser().parseFromString(html, "text/html");
      const next = doc.getElementById("main");
      const cur = document.getElementById("main");
      if (next && cur) {
        // Keep the <details> the reader opened.
        const open = new Set([...cur.querySelectorAll("details[open]")].map(path));
        cur.replaceWith(next);
        next.querySelectorAll("details").forEach(d => { if (open.has(path(d))) d.open = true; });
      }
      const nextLive = doc.getElementById("live");
      // A pass that is running says so; "finished" stays until the next.
      if (nextLive && nextLive.textContent.startsWith("Pass ") && !live.classList.contains("offline")) say(nextLive.textContent, "running");
      document.title = doc.title;
      tick();
    } catch (e) { /* the next event tries again */ }
  }
  function path(el) {
    const parts = [];
    for (let e = el; e && e.id !== "main"; e = e.parentElement) {
      parts.push(e.tagName + ":" + [...(e.parentElement ? e.parentElement.children : [])].indexOf(e));
    }
    return parts.join("/");
  }
  function human(ms) {
    const s = Math.round(ms / 1000);
    if (s < 1) return "just now";
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min" + (s % 60 ? " " + (s % 60) + " s" : "") + " ago";
    const m = Math.round(s / 60);
    return Math.floor(m / 60) + " h" + (m % 60 ? " " + (m % 60) + " min" : "") + " ago";
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("time[data-ago]").forEach(t => {
      const at = Date.parse(t.getAttribute("datetime"));
      if (!isNaN(at)) t.textContent = human(Math.max(0, now - at));
    });
  }
  setInterval(tick, 5000);
  if (!window.EventSource) return;
  const es = new EventSource("/events");
  document.documentElement.dataset.live = "connecting";
  es.onopen = () => {
    document.documentElement.dataset.live = "open";
    if (live.classList.contains("offline")) { say("Reconnected.", ""); refresh(); }
  };
  es.onerror = () => {
    document.documentElement.dataset.live = "offline";
    say("Live updates interrupted; reconnecting…", "offline");
  };
  es.addEventListener("pass-started", ev => {
    const e = JSON.parse(ev.data);
    say("Pass " + e.pass + " running (" + e.reason + ")…", "running");
    refresh();
  });
  es.addEventListener("pass-finished", ev => {
    const e = JSON.parse(ev.data);
    say("Pass " + e.pass + " finished: " + e.result + ".", "");
    refresh();
  });
})();
