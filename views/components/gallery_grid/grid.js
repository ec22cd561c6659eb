// The Gallery's grid element (Streamlit components v2, no iframe): every thumbnail of the window of
// pages Python holds, selection in the browser, and requests for the next or previous keyset page.
//
// Python sends `data` = {epoch, pages: [{index, tiles}], has_next, has_prev, count, ack, cleared, done,
// paused, extra}; `paused` while the image dialog is open (a prefetch would rerun it under the user's keys).
// This function runs again whenever that data changes; the DOM (and each decoded <img>) is kept and
// only what changed is touched. Events back to Python (state values, one fragment rerun each):
//   more    {dir: "next" | "prev", index, seq}  near an end of the window
//   open    {key: "generation-image"}           a plain click on a tile (or Enter)
//   action  {op, keys, name, seq}               a bulk action on the selection
//   missing {keys}                              tiles that came without a source this page lost
// Selection (click on the check, Ctrl/Cmd-click, Shift-click ranges) stays here: no rerun.
// A `more` or an `action` not answered (ack / done) within RETRY_MS is sent again (the server was busy
// or the rerun was lost); Python ignores a repeat by its seq.

const STATES = new WeakMap();
// Thumbnail sources by tile key, for this browser page: Python sends each one once (a tile it already
// sent comes without "src"), so a scroll step carries only the new page's. Bounded like Python's record.
const SOURCES = new Map();
const SOURCES_KEPT = 4000;
const NEAR_PX = 1500; // ask for the next page this far before the end is on screen
const RETRY_MS = 4000; // a request Python did not answer (it was busy) may be asked again after this

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let s = STATES.get(parentElement);
  if (!s) {
    s = setup(parentElement);
    STATES.set(parentElement, s);
  }
  // Events are state values stamped with a fresh `t`, not triggers: two triggers sent before the server
  // starts the first rerun are folded into one (the older lost), while each state key keeps its newest
  // value and fires its own callback.
  s.trigger = (name, value) => setStateValue(name, { ...value, t: `${Date.now()}.${++s.stamp}` });
  render(s, data || {});
  return () => teardown(s, parentElement);
}

function setup(host) {
  const root = host.querySelector(".g-root");
  const s = {
    host, root,
    pagesEl: root.querySelector(".g-pages"),
    bar: root.querySelector(".g-bar"),
    count: root.querySelector(".g-count"),
    nameInput: root.querySelector(".g-name"),
    extra: root.querySelector(".g-extra"),
    status: root.querySelector(".g-status"),
    top: root.querySelector(".g-top"),
    end: root.querySelector(".g-end"),
    pages: new Map(), // index -> page element
    tiles: new Map(), // key -> tile element
    order: [], // keys in view order
    sel: new Set(),
    anchor: null,
    pending: null,
    action: null,
    missing: [],
    missingTimer: null,
    seq: 0,
    cleared: 0,
    epoch: null,
    data: {},
    trigger: null,
    stamp: 0,
  };
  s.onClick = (event) => clickTile(s, event);
  s.onBar = (event) => clickBar(s, event);
  s.onKey = (event) => keyOnTile(s, event);
  s.pagesEl.addEventListener("click", s.onClick);
  s.pagesEl.addEventListener("keydown", s.onKey);
  s.bar.addEventListener("click", s.onBar);
  s.io = new IntersectionObserver(() => check(s), { rootMargin: `${NEAR_PX}px 0px ${NEAR_PX}px 0px` });
  s.io.observe(s.top);
  s.io.observe(s.end);
  return s;
}

function teardown(s, host) {
  s.io.disconnect();
  if (s.action) clearTimeout(s.action.timer);
  clearTimeout(s.missingTimer);
  s.pagesEl.removeEventListener("click", s.onClick);
  s.pagesEl.removeEventListener("keydown", s.onKey);
  s.bar.removeEventListener("click", s.onBar);
  STATES.delete(host);
}

// --- drawing ---------------------------------------------------------------------------------------

function render(s, data) {
  s.data = data;
  if (data.epoch !== s.epoch) {
    s.pagesEl.replaceChildren();
    s.pages.clear();
    s.tiles.clear();
    s.epoch = data.epoch;
    s.pending = null;
  }
  if (s.pending && (data.ack ?? 0) >= s.pending.seq) s.pending = null;
  if (s.action && (data.done ?? 0) >= s.action.seq) {
    clearTimeout(s.action.timer);
    s.action = null;
  }
  if ((data.cleared ?? 0) > s.cleared) {
    s.cleared = data.cleared;
    s.sel.clear();
  }
  const anchor = visibleTile(s);
  const before = anchor ? anchor.getBoundingClientRect().top : 0;

  const pages = data.pages || [];
  const wanted = new Set(pages.map((p) => p.index));
  for (const [index, el] of s.pages) {
    if (!wanted.has(index)) {
      el.remove();
      s.pages.delete(index);
    }
  }
  const missing = [];
  for (const page of pages) {
    for (const tile of page.tiles) {
      if ("src" in tile) {
        if (tile.src) remember(tile.k, tile.src);
      } else if (SOURCES.has(tile.k)) {
        tile.src = SOURCES.get(tile.k);
      } else {
        missing.push(tile.k);
        tile.src = null;
        tile.img = false;
        tile.err = "loading…";
      }
    }
  }
  s.missing = missing;
  if (missing.length) askMissing(s, 0);
  const keep = new Set();
  let previous = null;
  for (const page of pages) {
    let el = s.pages.get(page.index);
    const version = signature(page.tiles);
    if (!el) {
      el = document.createElement("div");
      el.className = "g-page";
      el.dataset.index = page.index;
      s.pages.set(page.index, el);
    }
    if (el.dataset.v !== version) {
      el.replaceChildren(...page.tiles.map((tile) => tileElement(s, tile)));
      el.dataset.v = version;
    }
    for (const tile of page.tiles) keep.add(tile.k);
    const next = previous ? previous.nextSibling : s.pagesEl.firstChild;
    if (next !== el) s.pagesEl.insertBefore(el, next);
    previous = el;
  }
  for (const key of [...s.tiles.keys()]) if (!keep.has(key)) s.tiles.delete(key);
  s.order = pages.flatMap((p) => p.tiles.map((t) => t.k));

  if (anchor && anchor.isConnected) {
    const moved = anchor.getBoundingClientRect().top - before;
    if (Math.abs(moved) > 0.5) scroller(s.host).scrollBy(0, moved); // a page dropped or added above
  }
  drawExtra(s, data.extra || []);
  paintSelection(s);
  drawStatus(s);
  requestAnimationFrame(() => check(s));
}

function askMissing(s, tries) {
  clearTimeout(s.missingTimer);
  if (!s.missing.length || !s.root.isConnected) return;
  s.trigger("missing", { keys: s.missing });
  if (tries < 2) s.missingTimer = setTimeout(() => askMissing(s, tries + 1), RETRY_MS);
}

function remember(key, src) {
  SOURCES.delete(key);
  SOURCES.set(key, src);
  if (SOURCES.size > SOURCES_KEPT) {
    for (const old of [...SOURCES.keys()].slice(0, SOURCES.size - SOURCES_KEPT)) SOURCES.delete(old);
  }
}

function signature(tiles) {
  return tiles.map((t) => `${t.k}${t.fav ? "*" : ""}${t.miss ? "!" : ""}${t.src ? t.src.length : 0}`).join(",");
}

function tileElement(s, t) {
  let el = s.tiles.get(t.k);
  if (!el) {
    el = document.createElement("div");
    el.className = "g-tile";
    el.dataset.k = t.k;
    el.tabIndex = 0;
    s.tiles.set(t.k, el);
  }
  const img = el.querySelector("img");
  if (t.src) {
    if (!img || img.getAttribute("src") !== t.src) {
      const fresh = document.createElement("img");
      fresh.decoding = "async";
      if (!t.src.startsWith("data:")) fresh.loading = "lazy";
      fresh.alt = "";
      fresh.draggable = false;
      fresh.src = t.src;
      el.replaceChildren(fresh);
    } else {
      el.replaceChildren(img);
    }
  } else {
    const note = document.createElement("div");
    note.className = "g-note";
    note.textContent = t.miss ? "The file of this image is missing; `python -m studio doctor` settles it." : (t.err || "no image");
    el.replaceChildren(note);
  }
  el.classList.toggle("g-failed", !t.img);
  const check = document.createElement("span");
  check.className = "g-check";
  check.title = "Select";
  const badges = document.createElement("span");
  badges.className = "g-badges";
  if (t.fav) badges.append(badge("★", "g-fav", "favourite"));
  if (t.ed) badges.append(badge("✎", "g-ed", t.ed));
  if (t.st === "failed") badges.append(badge("!", "g-err", "failed"));
  else if (t.st && t.st !== "succeeded") badges.append(badge("…", "g-err", t.st));
  if (t.miss) badges.append(badge("?", "g-err", "file missing"));
  const cap = document.createElement("div");
  cap.className = "g-cap";
  cap.textContent = t.p;
  el.append(check, badges, cap);
  el.title = `${t.p}\n#${t.k.split("-")[0]} · ${t.d} · ${t.m}${t.wh ? " · " + t.wh : ""}`;
  el.dataset.fav = t.fav ? "1" : "0";
  return el;
}

function badge(text, cls, title) {
  const b = document.createElement("span");
  b.className = `g-badge ${cls}`;
  b.textContent = text;
  b.title = title;
  return b;
}

function drawExtra(s, extra) {
  const want = extra.map((e) => `${e.op}:${e.label}`).join("|");
  if (s.extra.dataset.v === want) return;
  s.extra.dataset.v = want;
  s.extra.replaceChildren(...extra.map((e) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.op = e.op;
    button.textContent = e.label;
    return button;
  }));
}

function drawStatus(s) {
  const d = s.data;
  if (!d.count) {
    s.status.textContent = "";
  } else if (s.pending) {
    s.status.textContent = "Loading…";
  } else {
    s.status.textContent = d.has_next ? `${d.count} shown · scroll for more` : `${d.count} shown · the end of this view`;
  }
}

// --- loading more ----------------------------------------------------------------------------------

function near(el) {
  const r = el.getBoundingClientRect();
  return r.top < window.innerHeight + NEAR_PX && r.bottom > -NEAR_PX;
}

function check(s) {
  if (!s.trigger || !s.root.isConnected || s.data.paused) return;
  if (s.pending && Date.now() - s.pending.at < RETRY_MS) return;
  const pages = s.data.pages || [];
  if (!pages.length) return;
  if (s.data.has_next && near(s.end)) ask(s, "next", pages[pages.length - 1].index);
  else if (s.data.has_prev && near(s.top)) ask(s, "prev", pages[0].index);
}

function ask(s, dir, index) {
  s.seq = Math.max(s.seq, s.data.ack ?? 0) + 1;
  s.pending = { seq: s.seq, at: Date.now() };
  s.trigger("more", { dir, index, seq: s.pending.seq });
  drawStatus(s);
}

function visibleTile(s) {
  for (const el of s.pagesEl.querySelectorAll(".g-tile")) {
    if (el.getBoundingClientRect().bottom > 0) return el;
  }
  return null;
}

function scroller(host) {
  let el = host.host || host; // a shadow root's host, or the element itself
  while (el && el !== document.documentElement) {
    if (el instanceof Element) {
      const overflow = getComputedStyle(el).overflowY;
      if ((overflow === "auto" || overflow === "scroll") && el.scrollHeight > el.clientHeight) return el;
    }
    el = el.parentElement || (el.getRootNode && el.getRootNode().host) || null;
  }
  return document.scrollingElement || document.documentElement;
}

// --- selection -------------------------------------------------------------------------------------

function clickTile(s, event) {
  const tile = event.target.closest(".g-tile");
  if (!tile) return;
  event.preventDefault();
  const key = tile.dataset.k;
  if (event.shiftKey && s.anchor && s.order.includes(s.anchor)) {
    const [a, b] = [s.order.indexOf(s.anchor), s.order.indexOf(key)].sort((x, y) => x - y);
    for (const k of s.order.slice(a, b + 1)) s.sel.add(k);
  } else if (event.ctrlKey || event.metaKey || event.shiftKey || event.target.closest(".g-check") || s.sel.size) {
    if (s.sel.has(key)) s.sel.delete(key);
    else s.sel.add(key);
    s.anchor = key;
  } else {
    s.anchor = key;
    s.trigger("open", { key });
    return;
  }
  paintSelection(s);
}

function keyOnTile(s, event) {
  // Keyboard: Tab to a tile, Enter opens it, Space selects it (Shift+Space: the range from the last one).
  const tile = event.target.closest(".g-tile");
  if (!tile || (event.key !== "Enter" && event.key !== " ")) return;
  event.preventDefault();
  const key = tile.dataset.k;
  if (event.key === "Enter") {
    s.anchor = key;
    s.trigger("open", { key });
    return;
  }
  if (event.shiftKey && s.anchor && s.order.includes(s.anchor)) {
    const [a, b] = [s.order.indexOf(s.anchor), s.order.indexOf(key)].sort((x, y) => x - y);
    for (const k of s.order.slice(a, b + 1)) s.sel.add(k);
  } else {
    if (s.sel.has(key)) s.sel.delete(key);
    else s.sel.add(key);
    s.anchor = key;
  }
  paintSelection(s);
}

function clickBar(s, event) {
  const button = event.target.closest("button[data-op]");
  if (!button) return;
  const op = button.dataset.op;
  if (op === "clear") {
    s.sel.clear();
    paintSelection(s);
    return;
  }
  s.seq = Math.max(s.seq, s.data.ack ?? 0, s.data.done ?? 0, s.cleared) + 1;
  if (s.action) clearTimeout(s.action.timer);
  s.action = { op, keys: [...s.sel], name: s.nameInput.value, seq: s.seq, tries: 0 };
  sendAction(s);
}

function sendAction(s) {
  const a = s.action;
  if (!a || !s.root.isConnected) return;
  s.trigger("action", { op: a.op, keys: a.keys, name: a.name, seq: a.seq });
  a.tries += 1;
  if (a.tries < 3) a.timer = setTimeout(() => sendAction(s), RETRY_MS);
}

function paintSelection(s) {
  for (const [key, el] of s.tiles) el.classList.toggle("g-sel", s.sel.has(key));
  const n = s.sel.size;
  s.bar.hidden = n === 0;
  s.root.classList.toggle("g-selecting", n > 0);
  s.count.textContent = `${n} selected`;
}
