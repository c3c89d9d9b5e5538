// The Podium console: a run list and a run page (DAG, Gantt of every attempt, step
// detail), refreshed every 2 s while a run is not finished. Plain DOM, no build step.
// Every value from the API is put in the page as text (never as HTML).
"use strict";

(() => {
  const POLL_MS = 2000;
  const IDLE_POLL_MS = 10000;
  const PAGE = 50;
  const RUNS_PAGE = 100, RUNS_MAX = 200; // rows of the run list: first, and at most (the view's cap)
  const RUN_STATUSES = ["QUEUED", "RUNNING", "PAUSED", "SUCCEEDED", "FAILED", "STOPPED", "TIMED_OUT", "DISCARDED"];
  const TERMINAL = new Set(["SUCCEEDED", "FAILED", "STOPPED", "TIMED_OUT", "DISCARDED"]);
  const STEP_STATUSES = [
    "RUNNING", "RETRY_WAIT", "FAILED", "TIMED_OUT", "STOPPED", "WAITING_FOR_PERMITS",
    "WAITING_FOR_SIGNALS", "PAUSED", "READY", "PENDING", "FAILED_IGNORED", "SUCCEEDED",
    "SKIPPED", "NOT_STARTED",
  ];
  // A run a bus: podium trigger started is its place down a chain of them (run.chain, 0:
  // none started it); a trigger starts none past this (core/engine/trigger_events.py).
  const CHAIN_MAX = 10;
  const SINCE = [["", "Any time"], ["1h", "Last hour"], ["24h", "Last 24 hours"], ["7d", "Last 7 days"], ["30d", "Last 30 days"]];

  const main = document.getElementById("main");
  const detail = document.getElementById("detail");
  const live = document.getElementById("live");
  const liveText = document.getElementById("live-text");
  let timer = null;
  let generation = 0; // bumps on navigation: late answers of an old page are dropped
  // note: what the last action on this run answered (kept across the page's refreshes);
  // expanded: the long texts shown whole ("Show all"), by key, until another step or run;
  // logs: the open step's CloudWatch logs read on request (loadLogs), likewise.
  const runState = { id: null, offset: 0, status: "", node: "", q: "", selected: null, graphKey: null, data: null, failedOnly: false, iterFrom: "",
    note: null, expanded: new Set(), folds: new Map(), logs: null, trail: { key: "", starts: [] } };

  // -- helpers ------------------------------------------------------------------------
  // Bidirectional controls reorder the text around them: a run id "invoice<U+202E>fdp.exe"
  // reads "invoiceexe.pdf", an error can hide what it says. Every text the page shows
  // (and every tooltip) has them written out as their code point, visibly.
  const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
  const codePoint = (c) => `\u27e8U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}\u27e9`;
  function visible(text) { return String(text).replace(BIDI, codePoint); }
  // A filter the user types (or pastes) or the address gives (a tag, a step name) is shown
  // so too, in its box and wherever it is said again; what is sent is the text itself:
  // a control written out is read back as the control.
  const SHOWN_BIDI = /\u27e8U\+(061C|200E|200F|202[A-E]|206[6-9])\u27e9/g;
  function typed(text) { return String(text).replace(SHOWN_BIDI, (_, hex) => String.fromCharCode(parseInt(hex, 16))); }
  function filterInput(attrs, value, commit) {
    const input = h("input", { ...attrs, value: visible(value || "") });
    input.addEventListener("input", () => {
      const raw = input.value;
      if (raw.search(BIDI) < 0) return;
      const caret = input.selectionStart === null ? null : visible(raw.slice(0, input.selectionStart)).length;
      input.value = visible(raw);
      if (caret !== null) input.setSelectionRange(caret, caret);
    });
    input.addEventListener("change", () => commit(typed(input.value).trim()));
    return input;
  }
  const SHOWN_ATTRS = new Set(["title", "aria-label", "placeholder"]); // read by people, not code
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "style") el.style.cssText = v;
      else el.setAttribute(k, v === true ? "" : SHOWN_ATTRS.has(k) ? visible(v) : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(visible(kid)));
    }
    return el;
  }
  // A folded section (a traceback) stays as the user left it, open or shut, while the
  // page refreshes (runState.folds, by key, until another step or run).
  function fold(key, openByDefault, summary, body) {
    const kept = runState.folds.get(key);
    const el = h("details", { class: "tb", "data-fold": key, open: kept === undefined ? openByDefault : kept },
      h("summary", {}, summary), body);
    el.addEventListener("toggle", () => { if (el.isConnected) runState.folds.set(key, el.open); });
    return el;
  }
  // A long text (a 1 MB output, a traceback, 10,000 step names) is shown cut, with a button
  // that shows it whole; the choice is kept while the page refreshes (runState.expanded).
  const CLIP_CHARS = 5000;
  function clip(text, key, max = CLIP_CHARS) {
    const all = String(text);
    if (all.length <= max || runState.expanded.has(key)) return all;
    let cut = max;
    const last = all.charCodeAt(cut - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut -= 1; // not half of a surrogate pair
    const part = h("span", { class: "clipped", "data-clip": key }, all.slice(0, cut), "… ");
    part.append(h("button", { class: "btn small show-all", type: "button", "data-clip": key,
      onclick: (e) => { e.stopPropagation(); runState.expanded.add(key); part.replaceWith(visible(all)); } },
    `Show all ${num(all.length)} characters`));
    return part;
  }
  // replaceChildren would turn a null into the text "null": drop the absent parts first.
  function put(el, ...kids) {
    el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  }
  // A live page redraws its head, its steps and the open step every 2 s with new elements:
  // the one that had the focus (an action button, a step row) goes with the old ones and
  // the focus falls back to <body>, where a keyboard user must start over. It is found
  // again by what it stands for (its id, or its data-action, data-step... inside the
  // nearest part with an id) and given the focus back.
  // The keys an element is found again by, those that name one element first (an
  // iteration cell has a data-index and a data-status that other cells share).
  const FOCUS_KEYS = ["data-index", "data-step", "data-node", "data-action", "data-clip", "href", "data-status", "data-tag"];
  function focusPlace(el) {
    if (!el || el === document.body || !(main.contains(el) || detail.contains(el))) return null;
    const tag = el.tagName.toLowerCase();
    if (el.id) return { selector: `${tag}#${CSS.escape(el.id)}`, nth: 0 };
    const key = FOCUS_KEYS.find((k) => el.hasAttribute(k));
    const scope = el.parentElement && el.parentElement.closest("[id]");
    if (!key || !scope) return null;
    const selector = `#${CSS.escape(scope.id)} ${tag}[${key}="${CSS.escape(el.getAttribute(key))}"]`;
    // Several may match (a tag chip on every row that has it): the same one by position.
    const place = { selector, nth: Math.max(0, [...document.querySelectorAll(selector)].indexOf(el)) };
    // An action done takes its button away (Pause gives way to Resume, Retry to Stop):
    // the focus stays in the row of actions, on the button now at its place.
    if (ACTION_ROWS.has(scope.id)) {
      const row = `#${scope.id} button`;
      place.near = { selector: row, nth: Math.max(0, [...document.querySelectorAll(row)].indexOf(el)) };
    }
    return place;
  }
  const ACTION_ROWS = new Set(["run-actions", "step-actions"]);
  // Called before a redraw; what it returns, called after, puts the focus back.
  function holdFocus() {
    const before = document.activeElement, place = focusPlace(before);
    return () => {
      if (!place || before.isConnected) return; // not redrawn: the focus never moved
      let again = document.querySelectorAll(place.selector)[place.nth];
      if (!again && place.near) {
        const row = document.querySelectorAll(place.near.selector);
        again = row[Math.min(place.near.nth, row.length - 1)];
      }
      if (again) again.focus({ preventScroll: true });
    };
  }
  // A page the user's own action redraws (a filter, a pager, a chip, Load more: each
  // writes the address, and route() builds the page anew) took the control used with it,
  // and the focus fell to <body>: a keyboard user started again at the top bar. The
  // control is found again as the new page draws it (a pager only once its answer came),
  // or, gone, the one that stands for it (Newest runs for Older runs, the status select
  // for a status chip the list no longer shows).
  let carried = null; // {place, instead: [selectors], gen}
  const INSTEAD = {
    "runs-older": ["#runs-newest"], "runs-newest": ["#runs-older"],
    // Load more: the first row it brought (a keyboard user reads on from there).
    "runs-load-more": [`#runs-body tr.run-row:nth-child(${RUNS_PAGE + 1}) a`, "#runs-older", "#runs-newest"],
    "page-next": ["#page-prev"], "page-prev": ["#page-next"],
  };
  function insteadOf(el) {
    if (el.id) return INSTEAD[el.id] || [];
    const scope = el.parentElement && el.parentElement.closest("[id]");
    if (el.hasAttribute("data-tag")) return ["#f-tag"];
    if (el.hasAttribute("data-status")) return scope && scope.id === "run-counts" ? ["#f-status"] : ["#step-status"];
    return [];
  }
  function carryFocus() {
    const el = document.activeElement, place = focusPlace(el);
    carried = place ? { place, instead: insteadOf(el), gen: generation } : null;
  }
  // Called as the new page draws; ``final``: its answer is drawn (what is not there now
  // will not come, the control that stands for it is taken).
  function landFocus(final) {
    const want = carried;
    if (!want) return;
    const active = document.activeElement;
    if (want.gen !== generation || (active && active !== document.body)) { carried = null; return; } // the user went on
    const usable = (el) => !!el && el.isConnected && !el.disabled;
    const all = document.querySelectorAll(want.place.selector);
    let el = all[Math.min(want.place.nth, all.length - 1)];
    if (!usable(el) && final) el = want.instead.map((sel) => document.querySelector(sel)).find(usable);
    if (usable(el)) el.focus({ preventScroll: true });
    if (usable(el) || final) carried = null;
  }
  const SVG = "http://www.w3.org/2000/svg";
  function s(tag, attrs, ...kids) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, SHOWN_ATTRS.has(k) ? visible(v) : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(visible(kid)));
    }
    return el;
  }

  // -- signing: the page served by a deployed stack (GET /console/app) ---------------------
  // Under `podium dev` (no auth) and `podium console` (the local proxy signs), the page
  // calls api/console/... as is. Served by the stack, the page has a <meta podium-auth>
  // and signs each call itself (SigV4, aws4fetch) with temporary credentials the user
  // pastes once: they stay in this tab's sessionStorage and leave it only as signatures.
  const metaContent = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  const SIGNED = metaContent("podium-auth") === "sigv4";
  const CREDS_KEY = "podium.credentials";
  const hostRegion = (location.hostname.match(/\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/) || [])[1];
  const defaultRegion = metaContent("podium-region") || hostRegion || "";
  let signer = null;

  class AuthError extends Error {}
  class NoAnswer extends Error {} // nothing answered: a request that may never have arrived
  // The server answered with an error: its HTTP status says whether asking again can help
  // (a 404 run stays gone, a 400 address stays bad; a 5xx, a throttle may pass).
  // ``paths``: the places of the request it names (errors[].path: "query.node"), so a
  // 404 at a query parameter is told from a 404 of the run itself.
  class HttpError extends Error {
    constructor(status, message, paths = []) { super(message); this.status = status; this.paths = paths; }
  }
  const mayPass = (err) => !(err instanceof HttpError) || err.status >= 500 || err.status === 429 || err.status === 408;

  function storedCredentials() {
    try { return JSON.parse(sessionStorage.getItem(CREDS_KEY) || "null"); } catch (e) { return null; }
  }
  function useCredentials(c) {
    signer = c ? new aws4fetch.AwsClient({
      accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken || undefined, region: c.region, service: "execute-api", retries: 0,
    }) : null;
    showAuthState(c);
  }
  // The console's views sit next to the page: /console/app -> /console/runs, ...
  const apiUrl = (url) => (SIGNED ? new URL(url.replace(/^api\/console\//, ""), location.href).href : url);

  // A refused request names each problem (a bad filter: "query.tag: ...", a reason too
  // long: "body.reason: ...").
  const issuesOf = (body) => (body.errors || body.issues || []).filter((i) => i && i.message);
  function refusal(r, body) {
    const found = issuesOf(body);
    const issues = found.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    // A 404 at a place says its message twice (as the answer's and as its place's): once.
    const said = body.message && found.some((i) => i.path && i.message === body.message) ? [] : [body.message || `${r.status} ${r.statusText || "error"}`];
    return [...said, ...issues].join(" · ");
  }
  // fetch (or the signer's) rejects with a bare "Failed to fetch" when nothing answered.
  async function send(url, init) {
    try {
      return SIGNED ? await signer.fetch(url, init) : await fetch(url, init);
    } catch (err) {
      throw new NoAnswer(`No answer from the server (${err.message || err}): is it running and reachable?`);
    }
  }

  async function getJSON(url) {
    const init = { headers: { accept: "application/json" }, cache: "no-store" };
    if (SIGNED && !signer) throw new AuthError("Paste AWS credentials above to sign the console's calls to this API.");
    const r = await send(SIGNED ? apiUrl(url) : url, init);
    let body = {};
    try { body = await r.json(); } catch (e) { /* not JSON */ }
    if (SIGNED && r.status === 403) {
      // API Gateway's refusal: no or a bad signature, expired credentials, or no
      // execute-api:Invoke for this identity.
      const said = body.message || body.Message || "Forbidden";
      const err = new AuthError(`The API refused the signed request (403: ${said}). The credentials may be ` +
        "missing, wrong or expired, or not allowed execute-api:Invoke on this API. Paste fresh credentials in the form.");
      showCredentialsForm(err.message);
      throw err;
    }
    if (!r.ok) throw new HttpError(r.status, refusal(r, body), issuesOf(body).map((i) => String(i.path || "")));
    return body;
  }

  // -- actions: stop, kill, pause, resume, restart a run; skip, retry, stop, resume a step -----
  // The buttons shown are the ones core's matrix allows now (the views list them); every
  // click asks for a confirmation and a reason, and carries a request id, so a double
  // submit acts once. Served by a stack, the API's own routes (actions, logs) sit one
  // level above the page.
  const apiRoute = (path) => (SIGNED ? new URL("../" + path, location.href).href : path);
  const requestId = () => (window.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`.replace(".", ""));

  async function postJSON(path, body) {
    const init = { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) };
    if (SIGNED && !signer) throw new AuthError("Paste AWS credentials above to sign the console's calls to this API.");
    const r = await send(apiRoute(path), init);
    let answer = {};
    try { answer = await r.json(); } catch (e) { /* not JSON */ }
    if (SIGNED && r.status === 403) {
      // API Gateway's refusal: often an identity allowed to read (GET) but not to act.
      const said = answer.message || answer.Message || "Forbidden";
      throw new AuthError(`The API refused the signed request (403: ${said}): this identity may not be allowed ` +
        "execute-api:Invoke on POST /runs/* (acting on runs), or the credentials expired.");
    }
    if (!r.ok) throw new HttpError(r.status, refusal(r, answer));
    return answer;
  }

  const ACTION_TEXT = {
    stop: "Stop", kill: "Kill", pause: "Pause", resume: "Resume", restart: "Restart", skip: "Skip", retry: "Retry now",
  };
  const ACTION_HELP = {
    stop: "No new step starts; running attempts are terminated. The run ends STOPPED.",
    kill: "As stop, and the run ends FAILED.",
    pause: "No new step starts; running attempts finish.",
    resume: "Held steps start again.",
    restart: "A new run: the steps that succeeded are reused with their outputs; the rest runs again.",
    skip: "The step ends SKIPPED; the steps below it go on.",
    retry: "The step's next attempt starts now.",
    "step-stop": "The step ends STOPPED (a failure downstream).",
    "step-resume": "The step starts (past its breakpoint, if it has one).",
    "step-restart": "A new run: this step and everything below it run again, even what succeeded; the steps above it are reused with their outputs.",
  };

  // The open action dialog's cancel (null: none open). The dialog sits over the whole
  // page and acts on the run it was opened for: leaving that page (a link, Back) cancels it.
  let cancelDialog = null;
  function confirmAction(title, help, withFrom, openers = []) {
    // A small modal: the action's effect, a reason, Confirm (or Enter in the reason, as in
    // any one-field form) / Cancel (or Escape). Resolves to {reason, from} or null. Closed,
    // it gives the focus back to the button that opened it (``openers``: selectors, the
    // button's then its row's: a live page redraws its buttons every 2 s, and an action
    // done may take its button away).
    return new Promise((resolve) => {
      const reason = h("input", { type: "text", id: "action-reason", placeholder: "Reason (kept on the run's timeline)" });
      const from = withFrom ? h("select", { id: "action-from" },
        h("option", { value: "incomplete" }, "from incomplete (reuse what succeeded)"),
        h("option", { value: "beginning" }, "from the beginning")) : null;
      const onKey = (e) => {
        if (e.key === "Escape") { e.preventDefault(); done(null); return; }
        // Enter on a button clicks it (Cancel cancels); in the reason or on the "from"
        // choice it confirms. Not while an input method composes a word (its Enter ends it).
        if (e.key === "Enter" && (e.target === reason || e.target === from) && !e.isComposing) {
          e.preventDefault(); accept(); return;
        }
        if (e.key !== "Tab") return;
        // Modal: Tab and Shift+Tab cycle through the dialog's own controls, never to the
        // page behind it (whose action buttons would open a second dialog over this one).
        const stops = [...overlay.querySelectorAll("input, select, button")].filter((el) => !el.disabled);
        const at = stops.indexOf(document.activeElement);
        const next = at < 0 ? (e.shiftKey ? stops.length - 1 : 0) : (at + (e.shiftKey ? stops.length - 1 : 1)) % stops.length;
        e.preventDefault();
        stops[next].focus();
      };
      // ``away``: closed by leaving the page, whose buttons are about to go: no focus back.
      const done = (value, away = false) => {
        document.removeEventListener("keydown", onKey, true);
        overlay.remove();
        cancelDialog = null;
        const back = away ? null : openers.map((sel) => document.querySelector(sel)).find(Boolean);
        if (back) back.focus({ preventScroll: true });
        resolve(value);
      };
      const accept = () => done({ reason: reason.value.trim(), from: from ? from.value : null });
      const heading = h("h2", { id: "action-dialog-title" }, title);
      const overlay = h("div", { class: "modal-back", id: "action-dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "action-dialog-title" },
        h("div", { class: "modal" },
          heading, h("p", { class: "muted" }, help), from, reason,
          h("div", { class: "modal-buttons" },
            h("button", { class: "btn", id: "action-cancel", onclick: () => done(null) }, "Cancel"),
            h("button", { class: "btn primary", id: "action-confirm", onclick: accept }, "Confirm"))));
      if (cancelDialog) cancelDialog(); // one dialog at a time
      cancelDialog = () => done(null, true);
      document.addEventListener("keydown", onKey, true); // wherever the focus is
      document.body.append(overlay);
      reason.focus();
    });
  }

  // ``restart``: a restart from a step of an ended run ({run_id, from}, the step detail's
  // view): the run it restarts (the top run, for a step of a loop's iteration) and the
  // path from it; the dialog then asks no "from".
  async function act(kind, action, step, restart) {
    const runId = runState.id;
    const key = step ? `step-${action}` : action;
    const what = restart ? `Restart run ${restart.run_id} from ${restart.from}?`
      : step ? `${ACTION_TEXT[action]} step ${step}?` : `${ACTION_TEXT[action]} run ${runId}?`;
    const row = step ? "#step-actions" : "#run-actions";
    const answer = await confirmAction(what, ACTION_HELP[key] || ACTION_HELP[action] || "", action === "restart" && !restart,
      [`${row} button[data-action="${action}"]`, `${row} button`]);
    if (!answer) return;
    const body = { action, request_id: requestId() };
    if (answer.reason) body.reason = answer.reason;
    if (step && !restart) body.step = step;
    if (answer.from) body.from = answer.from;
    if (restart) body.from = restart.from;
    const target = restart ? restart.run_id : runId;
    // The answer stays on the run page (runState.note) until the next action: the page
    // redraws its head at once (loadRun below) and on every refresh.
    const say = (ok, text) => {
      if (runState.id !== runId) return;
      runState.note = { ok, text, step: step || null };
      showNote();
    };
    try {
      const done = await postJSON(`runs/${encodeURIComponent(target)}/${kind}`, body);
      say(true, done.new_run ? `Restarted as ${done.new_run}` : `${ACTION_TEXT[action]}: ${step ? "step" : "run"} is ${done.status}`);
      if (done.new_run) { location.hash = `#/runs/${encodeURIComponent(done.new_run)}`; return; }
    } catch (err) {
      // Nothing refused an action the server never answered: it could not be sent.
      say(false, `${ACTION_TEXT[action] || action} ${err instanceof NoAnswer ? "could not be sent" : "refused"}: ${err.message || err}`);
    }
    if (runState.id !== runId) return;
    loadRun();
    if (runState.selected) refreshStep();
  }

  function noteView(forStep) {
    const note = runState.note;
    if (!note || (forStep !== undefined && note.step !== forStep)) return null;
    return h("span", { class: note.ok ? "ok" : "problem inline", role: note.ok ? "status" : "alert" }, clip(note.text, "note", 2000));
  }
  function showNote() {
    const head = document.getElementById("action-note");
    if (head) put(head, noteView());
    const here = document.getElementById("step-action-note");
    if (here) put(here, noteView(runState.selected));
  }

  const num = (n) => Number(n || 0).toLocaleString("en-US");
  const pad2 = (n) => String(n).padStart(2, "0");
  function fmtTime(ms) {
    if (ms === null || ms === undefined) return "—";
    const d = new Date(ms);
    const today = new Date().toDateString() === d.toDateString();
    const t = d.toLocaleTimeString("en-GB", { hour12: false });
    // The local date, as the time is local (toISOString's is UTC's: a day off far from it).
    return today ? t : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${t}`;
  }
  function fmtDur(ms) {
    if (ms === null || ms === undefined) return "—";
    ms = Math.max(0, ms); // a clock behind another's: never a negative duration
    // Round once, to the unit shown, before splitting: 119.6 s is "2 m 0 s", not "1 m 60 s".
    if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
    if (ms < 9950) return `${(ms / 1000).toFixed(1)} s`;
    const sec = Math.round(ms / 1000);
    if (sec < 60) return `${sec} s`;
    if (sec < 3600) return `${Math.floor(sec / 60)} m ${sec % 60} s`;
    const min = Math.round(sec / 60);
    return `${Math.floor(min / 60)} h ${min % 60} m`;
  }
  // ``now``: the server's clock, as the view says it (the browser's may be off by hours).
  function ago(ms, now) {
    if (!ms) return "";
    // As fmtDur: the unit is chosen from the value rounded to it, so 59.6 s is "1 min ago"
    // (not "60 s ago") and 59.6 min "1 h ago".
    const sec = Math.round(Math.max(0, (now - ms) / 1000));
    if (sec < 60) return `${sec} s ago`;
    if (Math.round(sec / 60) < 60) return `${Math.round(sec / 60)} min ago`;
    if (Math.round(sec / 3600) < 24) return `${Math.round(sec / 3600)} h ago`;
    return `${Math.round(sec / 86400)} d ago`;
  }
  const label = (status) => status.replace(/_/g, " ").toLowerCase();
  const badge = (status) => h("span", { class: `badge s-${status}`, "data-status": status }, label(status));
  function json(value, key) {
    if (value === null || value === undefined) return h("span", { class: "muted" }, "none");
    return h("pre", { class: "json" }, clip(typeof value === "string" ? value : JSON.stringify(value, null, 2), key));
  }
  // "on": following a run that goes on; "off": the run ended ("final"); "offline": the
  // last refresh got no answer (or an error), so what the page shows may be stale.
  function setLive(mode) {
    live.hidden = mode === null;
    live.className = `live ${mode || ""}`;
    liveText.textContent = mode === "on" ? "live" : mode === "offline" ? "offline · retrying" : "final";
    live.title = mode === "offline" ? "The last refresh failed: what this page shows may be out of date" : "";
  }
  function schedule(fn, ms) {
    clearTimeout(timer);
    const gen = generation;
    timer = setTimeout(() => { if (gen === generation) fn(); }, ms);
  }
  function problem(err) {
    return h("div", { class: "problem", "data-auth": err instanceof AuthError ? "refused" : null },
      h("strong", {}, err instanceof AuthError ? "Credentials needed: " : "Could not load: "), String(err.message || err));
  }

  // -- the credentials form (signed mode only) ---------------------------------------------
  const authBox = h("section", { id: "auth", class: "auth card", hidden: true });
  const authState = h("span", { id: "auth-state", class: "auth-state", hidden: true });
  if (SIGNED) {
    document.querySelector(".layout").before(authBox);
    document.querySelector(".topbar").append(authState);
  }

  // `aws configure export-credentials --format env` (or env-no-export, powershell, windows-
  // cmd): every AWS_* name it sets; or JSON: `--format process`, `aws sts get-session-token`.
  function parseCredentials(text) {
    const found = {};
    for (const m of text.matchAll(/(AWS_[A-Z_]+)\s*=\s*["']?([^"'\s;]+)/g)) found[m[1]] = m[2];
    try {
      let j = JSON.parse(text);
      if (j && typeof j === "object" && j.Credentials) j = j.Credentials;
      if (j && typeof j === "object") {
        for (const [k, v] of [["AccessKeyId", "AWS_ACCESS_KEY_ID"], ["SecretAccessKey", "AWS_SECRET_ACCESS_KEY"],
          ["SessionToken", "AWS_SESSION_TOKEN"], ["Expiration", "AWS_CREDENTIAL_EXPIRATION"]]) if (j[k]) found[v] = String(j[k]);
      }
    } catch (e) { /* not JSON */ }
    return found;
  }

  function showAuthState(c) {
    if (!SIGNED) return;
    authState.hidden = false;
    const key = c ? c.accessKeyId : "";
    put(authState,
      c ? h("span", { class: "muted", title: c.expiration ? `expires ${c.expiration}` : null },
        `signed as ${key.slice(0, 4)}…${key.slice(-4)} · ${c.region}`) : h("span", { class: "muted" }, "not signed"),
      h("button", { class: "btn small", id: "auth-change", type: "button", onclick: () => showCredentialsForm("") }, c ? "Change" : "Sign in"),
      c ? h("button", { class: "btn small", id: "auth-forget", type: "button", onclick: () => {
        sessionStorage.removeItem(CREDS_KEY); useCredentials(null); showCredentialsForm("");
      } }, "Forget") : null);
  }

  function showCredentialsForm(message) {
    if (!authBox.hidden) {
      // Already open: keep what is being typed, only say what went wrong.
      const said = authBox.querySelector("#auth-message");
      if (message && said) said.textContent = visible(message);
      else if (message) authBox.querySelector("form").before(h("div", { class: "problem", id: "auth-message" }, message));
      return;
    }
    const c = storedCredentials() || {};
    const field = (id, labelText, attrs) => h("label", { class: "auth-field" }, h("span", {}, labelText),
      h("input", { id, autocomplete: "off", spellcheck: "false", ...attrs }));
    const form = h("form", { id: "auth-form", autocomplete: "off" },
      h("div", { class: "auth-grid" },
        field("auth-key", "Access key id", { value: c.accessKeyId || "", required: true }),
        field("auth-secret", "Secret access key", { type: "password", required: true }),
        field("auth-token", "Session token", { type: "password" }),
        field("auth-region", "Region", { value: c.region || defaultRegion, required: true, placeholder: "us-east-1" })),
      h("label", { class: "auth-field wide" }, h("span", {}, "…or paste the output of aws configure export-credentials --format env"),
        h("textarea", { id: "auth-paste", rows: 3, spellcheck: "false", placeholder: "export AWS_ACCESS_KEY_ID=ASIA…",
          oninput: (e) => {
            const f = parseCredentials(e.target.value);
            if (f.AWS_ACCESS_KEY_ID) form.querySelector("#auth-key").value = f.AWS_ACCESS_KEY_ID;
            if (f.AWS_SECRET_ACCESS_KEY) form.querySelector("#auth-secret").value = f.AWS_SECRET_ACCESS_KEY;
            if (f.AWS_SESSION_TOKEN) form.querySelector("#auth-token").value = f.AWS_SESSION_TOKEN;
            const region = f.AWS_REGION || f.AWS_DEFAULT_REGION;
            if (region) form.querySelector("#auth-region").value = region;
            form.dataset.expiration = f.AWS_CREDENTIAL_EXPIRATION || "";
          } })),
      h("div", { class: "auth-actions" },
        h("button", { class: "btn primary", id: "auth-save", type: "submit" }, "Sign the console's calls"),
        storedCredentials() ? h("button", { class: "btn", type: "button", onclick: () => { authBox.hidden = true; } }, "Cancel") : null,
        h("span", { class: "muted small" }, "Kept in this tab only (sessionStorage); sent nowhere, used to sign requests to this API. " +
          "Use temporary credentials: aws sts get-session-token, or aws configure export-credentials --format env.")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const value = (id) => form.querySelector(id).value.trim();
      const creds = { accessKeyId: value("#auth-key"), secretAccessKey: value("#auth-secret"),
        sessionToken: value("#auth-token"), region: value("#auth-region"), expiration: form.dataset.expiration || "" };
      if (!creds.accessKeyId || !creds.secretAccessKey || !creds.region) return;
      sessionStorage.setItem(CREDS_KEY, JSON.stringify(creds));
      useCredentials(creds);
      authBox.hidden = true;
      generation += 1;
      // A run page opened before the credentials (a link to #/runs/ID) is read again: the
      // same run would otherwise keep its "Credentials needed" head, its retry dropped.
      runState.id = null;
      route();
    });
    put(authBox,
      h("div", { class: "card-head" }, h("h2", {}, "AWS credentials for this API"),
        h("span", { class: "muted small" }, "This API accepts SigV4-signed requests only (IAM auth): calls need execute-api:Invoke.")),
      message ? h("div", { class: "problem", id: "auth-message" }, message) : null,
      form);
    authBox.hidden = false;
  }

  // -- routing --------------------------------------------------------------------------
  function parseHash() {
    const raw = location.hash.replace(/^#/, "") || "/";
    const [path, query] = raw.split("?");
    return { path, params: new URLSearchParams(query || "") };
  }
  function decoded(text) {
    try { return decodeURIComponent(text); } catch (e) { return null; } // "%E0%A4%A": URIError
  }
  function badAddress(why) {
    generation += 1;
    carried = null;
    clearTimeout(timer);
    closeDetail();
    setLive(null);
    main.replaceChildren(h("div", { class: "page-head" }, h("h1", {}, "Not a console address")),
      h("div", { class: "problem", id: "bad-address" }, `This address names no run (${why}): `,
        clip(location.hash, "address", 300)),
      h("p", {}, h("a", { href: "#/" }, "Show every run")));
  }
  function route() {
    if (cancelDialog) cancelDialog(); // its run's page is left (or redrawn for another step)
    const { path, params } = parseHash();
    const m = path.match(/^\/runs\/([^/]+)$/);
    const id = m ? decoded(m[1]) : null;
    if (m && id === null) { badAddress("it has a malformed %-escape"); return; }
    // #/runs/a/b, #/runs/: a run's address mistyped or cut (a run id has no "/"), which
    // would otherwise show the run list as if it were the run.
    if (!m && path.startsWith("/runs/")) { badAddress("a run's address is #/runs/RUN_ID, and a run id has no “/”"); return; }
    if (id && id === runState.id && document.getElementById("gantt") &&
        offsetOf(params) === runState.offset &&
        ["status", "node", "q"].every((k) => (k === "status" ? (params.get(k) || "").toUpperCase() : params.get(k) || "") === runState[k])) {
      // Only the selected step (or its iteration grid's filter or page) changed: keep the
      // page (and its polling) as it is.
      const step = params.get("step");
      if (step) openStep(step, params); else closeDetail();
      markSelection();
      return;
    }
    generation += 1;
    clearTimeout(timer);
    carryFocus(); // before the page it is in goes
    if (id) showRun(id, params);
    else { closeDetail(); showRuns(params); }
  }

  function markSelection() {
    for (const el of document.querySelectorAll(".step-row")) el.classList.toggle("selected", el.dataset.step === runState.selected);
    for (const el of document.querySelectorAll("g.node")) el.classList.toggle("selected", el.dataset.node === runState.selected || el.dataset.node === runState.node);
  }
  window.addEventListener("hashchange", route);

  // -- the run list -----------------------------------------------------------------------
  function showRuns(params) {
    // A status in any case (?status=failed), as the API and the CLI take it.
    const filters = { workflow: params.get("workflow") || "", status: (params.get("status") || "").toUpperCase(), since: params.get("since") || "", tag: params.get("tag") || "" };
    // A later page: the runs after the one this token names (the view's "next"), in the
    // address as the step list's page is (Back, a reload, a shared link show it again).
    const pageFrom = params.get("from") || "";
    // Rows shown: the first 100, or up to 200 after "Load more", in the address too
    // (&rows=200): Back from a run opened among rows 101-200 shows its row again.
    const rowsAsked = Number(params.get("rows") || RUNS_PAGE);
    const shown = Number.isInteger(rowsAsked) && rowsAsked > 0 ? Math.min(rowsAsked, RUNS_MAX) : RUNS_PAGE;
    const go = (change) => {
      const next = { ...filters, ...change };
      const q = new URLSearchParams(Object.entries(next).filter(([, v]) => v));
      location.hash = `#/${q.toString() ? "?" + q : ""}`;
    };
    const wfSelect = h("select", { id: "f-workflow", "aria-label": "Workflow", onchange: (e) => go({ workflow: e.target.value }) },
      h("option", { value: "" }, "All workflows"));
    // A filter the address gives that no option holds (several statuses, a range such as
    // 2h or epoch ms, as `podium runs list --since` takes) is an option of its own, chosen:
    // the list is filtered by it, and must not look unfiltered.
    const statuses = RUN_STATUSES.includes(filters.status) || !filters.status ? RUN_STATUSES : [...RUN_STATUSES, filters.status];
    const statusSelect = h("select", { id: "f-status", "aria-label": "Status", onchange: (e) => go({ status: e.target.value }) },
      h("option", { value: "" }, "Any status"), statuses.map((st) => h("option", { value: st, selected: st === filters.status }, label(st))));
    const since = SINCE.some(([v]) => v === filters.since) ? SINCE
      : [...SINCE, [filters.since, /^[0-9]+$/.test(filters.since) ? `Since ${fmtTime(Number(filters.since))}` : `Last ${filters.since}`]];
    const sinceSelect = h("select", { id: "f-since", "aria-label": "Started", onchange: (e) => go({ since: e.target.value }) },
      since.map(([v, t]) => h("option", { value: v, selected: v === filters.since }, t)));
    // Tags: key=value, several comma-separated; a run must carry them all.
    const tagInput = filterInput({ id: "f-tag", type: "search", "aria-label": "Tags", placeholder: "tag: key=value" },
      filters.tag, (tag) => go({ tag }));
    const tagChips = (tags) => Object.entries(tags || {}).map(([k, v]) =>
      h("button", { class: "chip plain tag", title: `only runs tagged ${k}=${v}`, "data-tag": `${k}=${v}`,
        onclick: (e) => { e.stopPropagation(); go({ tag: `${k}=${v}` }); } }, `${k}=${v}`));
    const chips = h("div", { class: "chips", id: "run-counts" });
    const body = h("tbody", { id: "runs-body" });
    const total = h("span", { class: "muted", id: "runs-total" });
    // The views read each workflow's newest runs only: when older ones were left out,
    // say so (an empty list is not "no run failed").
    const cutNote = h("div", { class: "note", id: "runs-truncated", hidden: true });
    const more = h("div", { class: "more", id: "runs-more" });
    main.replaceChildren(
      h("div", { class: "page-head" }, h("h1", {}, "Runs"), total),
      h("div", { class: "toolbar" }, wfSelect, statusSelect, sinceSelect, tagInput, chips),
      cutNote,
      h("div", { class: "card flush" },
        h("table", { class: "grid runs", id: "runs-table" },
          h("thead", {}, h("tr", {}, ["Status", "Workflow", "Run", "Trigger", "Logical date", "Started", "Duration"].map((t) =>
            h("th", { title: t === "Logical date" ? "The day a schedule's or a backfill's run is for" : null }, t)))),
          body)),
      more,
    );
    setLive(null);
    landFocus(false); // a filter's control is drawn already; a pager comes with the answer
    const gen = generation;
    let filledWorkflows = false, drawn = false;
    // The workflows to choose from, and the one the address names even when the home
    // lacks it (a 404: it is shown as chosen, marked, not as "All workflows").
    function fillWorkflows(names) {
      filledWorkflows = true;
      const lacking = filters.workflow && !names.includes(filters.workflow)
        ? [h("option", { value: filters.workflow, selected: true }, `${filters.workflow} (not found)`)] : [];
      wfSelect.append(...lacking, ...names.map((w) => h("option", { value: w, selected: w === filters.workflow }, w)));
    }
    const newest = () => h("button", { class: "btn", id: "runs-newest", onclick: () => go({}) }, "‹ Newest runs");
    let reads = 0; // the newest read wins (answers may cross)

    async function load() {
      const read = ++reads;
      const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
      q.set("limit", String(shown));
      if (pageFrom) q.set("next", pageFrom);
      let data;
      try { data = await getJSON(`api/console/runs?${q}`); } catch (err) {
        if (gen !== generation || read !== reads) return;
        if (mayPass(err) && drawn) {
          // A poll that got no answer (or a 5xx): the rows stay as last read, said to be
          // possibly stale, as the run page says it.
          setLive("offline");
          schedule(load, IDLE_POLL_MS);
          return;
        }
        body.replaceChildren(h("tr", {}, h("td", { colspan: 7 }, problem(err))));
        if (mayPass(err)) {
          setLive("offline");
          schedule(load, IDLE_POLL_MS);
        } else {
          // Refused (a bad tag, status or page token, a workflow the home lacks): asked
          // again, the answer is the same. Said once; the way out is a filter changed,
          // or the newest runs when the page's token was refused.
          put(more, pageFrom && err.paths.includes("query.next") ? newest() : null);
          if (!filledWorkflows) {
            filledWorkflows = true;
            getJSON("api/console/workflows").then((d) => { if (gen === generation) fillWorkflows(d.workflows || []); }, () => {});
          }
        }
        landFocus(true);
        return;
      }
      if (gen !== generation || read !== reads) return;
      drawn = true;
      setLive(null);
      const refocus = holdFocus();
      if (!filledWorkflows) fillWorkflows(data.workflows);
      total.textContent = `${num(data.total)} run${data.total === 1 ? "" : "s"}` +
        (pageFrom && data.older_than ? ` started before ${fmtTime(data.older_than.created_at)}` : "");
      const cut = data.truncated ? data.truncated_workflows || [] : [];
      cutNote.hidden = !cut.length;
      cutNote.textContent = visible(cut.length ? `Only the newest ${num(data.searched_per_workflow)} runs of each workflow are searched: ` +
        `older runs of ${cut.join(", ")} are left out of this list and its counts (Older runs, below, reads on).` : "");
      // Of the runs counted, those this page can list (the rest, older than where a
      // truncated workflow's read stopped, are on the next pages): "Load more" only when
      // it shows more. An older stack's view says no listable: all of them.
      const listable = typeof data.listable === "number" ? data.listable : data.total;
      const cutShort = data.runs.length < listable;
      const later = Math.max(0, data.total - Math.max(listable, data.runs.length));
      put(more,
        pageFrom ? newest() : null,
        cutShort ? h("span", { class: "muted small" }, `${num(data.runs.length)} of ${num(listable)} shown`) : null,
        cutShort && shown < RUNS_MAX ? h("button", { class: "btn", id: "runs-load-more", onclick: () => go({ from: pageFrom, rows: String(RUNS_MAX) }) }, "Load more") : null,
        later && data.next ? h("span", { class: "muted small", id: "runs-later" },
          `${cutShort ? " · " : ""}${num(later)} older run${later === 1 ? "" : "s"} counted here ${later === 1 ? "is" : "are"} listed by Older runs `) : null,
        // The next page: older runs (those a truncated workflow's read left out included).
        data.next ? h("button", { class: "btn", id: "runs-older", onclick: () => go({ from: data.next }) }, "Older runs ›")
          : cutShort && shown >= RUNS_MAX ? h("span", { class: "muted small" }, " · narrow the filters to see the others") : null);
      chips.replaceChildren(...RUN_STATUSES.filter((st) => data.counts[st]).map((st) =>
        h("button", { class: `chip s-${st}${filters.status.split(",").includes(st) ? " on" : ""}`, "data-status": st, onclick: () => go({ status: filters.status === st ? "" : st }) },
          label(st), h("b", {}, num(data.counts[st])))));
      if (!data.runs.length) {
        const sinceText = since.find(([v]) => v === filters.since)[1];
        const said = [filters.workflow && `workflow ${filters.workflow}`, filters.status && `status ${label(filters.status)}`,
          filters.since && `started: ${sinceText.toLowerCase()}`, filters.tag && `tag ${filters.tag}`].filter(Boolean).join(" · ");
        body.replaceChildren(h("tr", {}, h("td", { colspan: 7, class: "empty", id: "runs-empty" },
          !data.workflows.length && !filters.workflow ? "No workflows yet: push one with `podium push FILE`."
            : `No runs match ${said ? `these filters (${said})` : "these filters"}` +
              (data.next ? " among the runs read: Older runs, below, reads further back." : "."))));
      } else {
        // The server's clock (an older stack's view has none: the browser's).
        const now = typeof data.now === "number" ? data.now : Date.now();
        body.replaceChildren(...data.runs.map((r) => {
          const href = `#/runs/${encodeURIComponent(r.run_id)}`;
          const queued = !r.started_at && !TERMINAL.has(r.status);
          return h("tr", { class: "run-row", "data-run": r.run_id, "data-status": r.status, onclick: (e) => { if (e.target.tagName !== "A") location.hash = href; } },
            h("td", {}, badge(r.status)),
            h("td", {}, h("span", { class: "wf" }, r.workflow), h("span", { class: "muted" }, ` v${r.version}`), ...tagChips(r.tags)),
            h("td", {}, h("a", { href, class: "mono" }, r.run_id)),
            h("td", { class: "muted" }, r.trigger),
            // A backfill's runs start together: the date each is for tells them apart.
            h("td", { class: "mono logical-date" }, r.logical_date || ""),
            // Beside the start, "ago" counts from it (a run queued for an hour started
            // just now); the tooltip says when the run was created.
            // A run waiting in its queue has not started: it says so, and has no duration yet.
            h("td", { title: `created ${fmtTime(r.created_at)}` }, queued ? h("span", { class: "muted queued" }, "queued") : fmtTime(r.started_at || r.created_at),
              h("span", { class: "muted small" }, `  ${ago(queued ? r.created_at : r.started_at || r.created_at, now)}`)),
            h("td", {}, r.duration_ms !== null ? fmtDur(r.duration_ms) : (TERMINAL.has(r.status) || queued ? "—" : h("span", { class: "muted" }, `${fmtDur(now - (r.started_at || r.created_at))}…`))));
        }));
      }
      refocus();
      landFocus(true);
      const active = data.runs.some((r) => !TERMINAL.has(r.status));
      schedule(load, active ? POLL_MS : IDLE_POLL_MS);
    }
    load();
  }

  // -- the run page -------------------------------------------------------------------------
  function showRun(runId, params) {
    if (runState.id !== runId) {
      Object.assign(runState, { id: runId, offset: 0, status: "", node: "", q: "", selected: null, graphKey: null, data: null, note: null, expanded: new Set(), folds: new Map(), logs: null });
      closeDetail();
    }
    runState.offset = offsetOf(params);
    // A status in any case (?status=failed), as the view takes it and the run list reads
    // its own: the controls show the filter the list has.
    runState.status = (params.get("status") || "").toUpperCase();
    runState.node = params.get("node") || "";
    runState.q = params.get("q") || "";
    const selected = params.get("step");
    main.replaceChildren(
      h("div", { id: "run-head" }, h("div", { class: "page-head" }, h("h1", {}, "Run"), h("span", { class: "mono muted" }, runId))),
      h("section", { class: "card", id: "graph-card" },
        h("div", { class: "card-head" }, h("h2", {}, "Graph"), h("span", { class: "muted small", id: "graph-note" })),
        h("div", { class: "dag", id: "dag" })),
      h("section", { class: "card flush", id: "steps-card" },
        h("div", { class: "card-head pad" }, h("h2", {}, "Steps and attempts"), h("div", { class: "steps-tools", id: "steps-tools" })),
        h("div", { id: "gantt" })),
    );
    runState.graphKey = null;
    landFocus(false);
    // Opening a step is part of the address (#/runs/ID?step=NAME), so it survives a reload.
    if (selected) openStep(selected, params); else closeDetail();
    loadRun();
  }

  // The step list's offset from the address: a number, or what was typed when it is none
  // ("?offset=abc"), sent as it is for the view to refuse it by name (Number() made it
  // NaN, and the refusal said "got 'NaN'").
  function offsetOf(params) {
    const raw = (params.get("offset") || "0").trim();
    return /^[0-9]{1,15}$/.test(raw) ? Number(raw) : raw;
  }

  function runQuery(change) {
    // The open step's grid filter and page go with it (and not to another step).
    const same = !("step" in change) || change.step === runState.selected;
    const next = { offset: runState.offset, status: runState.status, node: runState.node, q: runState.q, step: runState.selected,
      failed: same && runState.failedOnly ? "1" : "", from: same ? runState.iterFrom : "", ...change };
    if (!next.step) { next.failed = ""; next.from = ""; } // no step open: no grid to filter
    const q = new URLSearchParams(Object.entries(next).filter(([k, v]) => v && !(k === "offset" && Number(v) === 0)));
    return `#/runs/${encodeURIComponent(runState.id)}${q.toString() ? "?" + q : ""}`;
  }

  // The newest read of the run page wins: a poll sent before an action can answer after
  // the action's own read (answers may cross) and would draw the run as it was before it.
  let runReads = 0;
  async function loadRun() {
    const gen = generation, read = ++runReads;
    const q = new URLSearchParams({ offset: runState.offset, limit: PAGE });
    if (runState.status) q.set("status", runState.status);
    if (runState.node) q.set("node", runState.node);
    if (runState.q) q.set("q", runState.q);
    let data;
    try { data = await getJSON(`api/console/runs/${encodeURIComponent(runState.id)}?${q}`); } catch (err) {
      if (gen !== generation || read !== runReads) return; // a newer read says what is so
      // Not live: the graph, the steps and the open step are as they last were. Their
      // actions wait for an answer (the next good refresh draws them anew).
      for (const b of detail.querySelectorAll("#step-actions button")) b.disabled = true;
      if (!mayPass(err)) {
        // The server answered: no such run (a typo, a run pruned since) or a bad
        // address. Asking again brings nothing; the server is not offline. A refusal at
        // a query parameter (a step filter from another version of the workflow,
        // ?node=old_step: a 404 too) is no missing run: the run without the filter is
        // a click away.
        const atQuery = err.paths.some((p) => p.startsWith("query."));
        const head = err.status === 404 && !atQuery
          ? h("div", { class: "problem", id: "run-not-found" }, h("strong", {}, String(err.message)),
            ": it may have been pruned, or the address mistyped. ", h("a", { href: "#/" }, "Show every run"))
          : atQuery ? h("div", { id: "run-refused" }, problem(err),
            h("p", {}, h("a", { href: `#/runs/${encodeURIComponent(runState.id)}` }, `Show run ${runState.id} without these filters`)))
            : problem(err);
        document.getElementById("run-head").replaceChildren(head);
        setLive(null);
        landFocus(true);
        return;
      }
      document.getElementById("run-head").replaceChildren(problem(err));
      setLive("offline");
      schedule(loadRun, POLL_MS * 2);
      landFocus(true);
      return;
    }
    if (gen !== generation || read !== runReads) return;
    // The poll that sees the run end refreshes the open step too (it may have ended with
    // it); polls of an ended run stop, and opening a step reads it anyway.
    const wasLive = runState.data !== null && !runState.data.terminal;
    const wasOffline = live.classList.contains("offline"); // its step's actions were disabled
    runState.data = data;
    const refocus = holdFocus();
    renderHead(data);
    renderGraph(data.graph);
    renderSteps(data);
    refocus();
    landFocus(true);
    if (runState.selected && (!data.terminal || wasLive || wasOffline)) refreshStep();
    setLive(data.terminal ? "off" : "on");
    if (!data.terminal) schedule(loadRun, POLL_MS);
  }

  function renderHead(data) {
    const r = data.run;
    const dur = r.duration_ms !== null ? r.duration_ms : data.now - (r.started_at || r.created_at);
    const counts = data.counts;
    const totalSteps = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
    const meta = [
      ["Workflow", h("span", {}, h("b", {}, r.workflow), ` v${r.version}`)],
      ["Trigger", [r.trigger, chainNote(r)]],
      r.logical_date ? ["Logical date", h("span", { class: "mono", id: "run-logical-date", title: "The day this run is for (its schedule's or backfill's)" }, r.logical_date)] : null,
      ["Started", fmtTime(r.started_at || r.created_at)],
      ["Ended", fmtTime(r.ended_at)],
      ["Duration", fmtDur(dur) + (r.ended_at ? "" : "…")],
      ["Steps", `${num(data.total)} instance${data.total === 1 ? "" : "s"} of ${num(data.defined)} defined`],
    ].filter(Boolean);
    const bar = h("div", { class: "stack", id: "status-bar", title: "Steps by status" },
      STEP_STATUSES.filter((st) => counts[st]).map((st) =>
        h("span", { class: `s-${st}`, style: `flex-grow:${counts[st] / totalSteps}`, title: `${label(st)}: ${num(counts[st])}` })));
    const chips = h("div", { class: "chips" },
      STEP_STATUSES.filter((st) => counts[st]).map((st) =>
        h("button", { class: `chip s-${st}${runState.status === st ? " on" : ""}`, "data-status": st,
          onclick: () => { location.hash = runQuery({ status: runState.status === st ? "" : st, offset: 0 }); } },
        label(st), h("b", {}, num(counts[st])))));
    // Related runs, as links: a child run's parent (a loop iteration's workflow, wf/step,
    // is listed nowhere: its crumb is the top run's workflow, then its parent run).
    const rel = data.related || {};
    const parent = rel.parent, root = rel.root, restartedAs = rel.restarted_as;
    const runLink = (id, attrs) => h("a", { class: "mono", href: `#/runs/${encodeURIComponent(id)}`, ...attrs }, id);
    const listOf = (wf) => h("a", { href: `#/?workflow=${encodeURIComponent(wf)}` }, wf);
    const crumbs = parent
      ? [root && root.workflow ? [listOf(root.workflow), " / "] : null, runLink(parent.run_id, { id: "crumb-parent" }), " / "]
      : [listOf(r.workflow), " / "];
    const related = [
      parent ? h("span", { id: "related-parent" }, parent.iteration
        ? `iteration ${parent.index} of ${parent.step} in run ` : `subworkflow run of step ${parent.step} in run `,
      runLink(parent.run_id)) : null,
      r.restart_of ? h("span", { id: "related-restart-of" }, "restart of ", runLink(r.restart_of)) : null,
    ].filter(Boolean);
    put(document.getElementById("run-head"),
      h("div", { class: "crumbs" }, h("a", { href: "#/" }, "Runs"), " / ", crumbs, h("span", { class: "mono" }, r.run_id)),
      h("div", { class: "page-head" }, h("h1", {}, r.workflow), badge(r.status), h("span", { class: "mono muted" }, r.run_id),
        ...Object.entries(r.tags || {}).map(([k, v]) => h("a", { class: "chip plain tag", "data-tag": `${k}=${v}`, title: `runs tagged ${k}=${v}`,
          href: `#/?${new URLSearchParams({ tag: `${k}=${v}` })}` }, `${k}=${v}`))),
      related.length ? h("div", { class: "related small", id: "run-related" }, related.map((el, i) => [i ? " · " : "", el])) : null,
      h("dl", { class: "meta" }, meta.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
      h("div", { class: "actions", id: "run-actions" },
        (data.actions || []).map((a) => h("button", { class: `btn act act-${a}`, "data-action": a, onclick: () => act("actions", a) }, ACTION_TEXT[a] || a)),
        // A run is restarted once: the restart is where to go on from.
        restartedAs ? h("span", { id: "restarted-as", class: "small" }, "restarted as ", runLink(restartedAs.run_id), ` (${label(restartedAs.status)})`) : null,
        h("span", { id: "action-note", class: "small" }, noteView())),
      (data.action_log || []).length ? h("ul", { class: "events small", id: "action-log" }, data.action_log.map((e) =>
        h("li", {}, h("span", { class: "muted" }, fmtTime(e.at)), ` ${e.action}${e.step ? " " + e.step : ""} by ${e.by}`,
          e.reason ? h("span", { class: "muted" }, " — ", clip(e.reason, `run-action-${e.at}`, 1000)) : null))) : null,
      // The view lists the newest actions only.
      data.action_log_omitted ? h("p", { class: "muted small", id: "action-log-omitted" },
        `${num(data.action_log_omitted)} earlier action${data.action_log_omitted === 1 ? "" : "s"} not shown: podium runs show ${r.run_id}`) : null,
      r.error ? h("div", { class: "problem", id: "run-error" }, h("strong", {}, "Error: "), clip(r.error, "run-error", 2500)) : null,
      r.reason ? h("div", { class: "note", id: "run-reason" }, h("strong", {}, "Reason: "), clip(r.reason, "run-reason", 2500)) : null,
      r.waiting ? h("div", { class: "note", id: "run-waiting" }, h("strong", {}, "Waiting: "), clip(r.waiting, "run-waiting", 2500)) : null,
      bar, chips,
    );
  }

  // "chain 3 of 10": a bus: podium trigger started the run from a status change of a run
  // that one such trigger started, itself started so (a view without the field, an older
  // stack's, or a chain of 0: nothing shown).
  function chainNote(r) {
    const n = Number(r.chain || 0);
    if (!(n > 0)) return null;
    return h("span", { class: "chain muted small", id: "run-chain",
      title: `Started by a bus: podium trigger, link ${n} of a chain of them (each run started by a status change of the one before). ` +
        `No trigger starts a run past link ${CHAIN_MAX}: a chain that long is a cycle of triggers, most often.` },
    ` · chain ${num(n)} of ${CHAIN_MAX}`);
  }

  // -- the DAG --------------------------------------------------------------------------
  // A node's box fits its name and its second line as the page draws them (12.5 px bold,
  // 11 px): measured in the page, since a guess per character is far off (an upper-case
  // id is half as wide again as a lower-case one). A name wider than the widest box is cut
  // with an ellipsis; the node's tooltip has it whole.
  const NODE_MIN = 120, NODE_MAX = 320, NODE_TEXT_X = 18, NODE_PAD = 14;
  function nodeSizes(nodes, box) {
    const name = s("text", { class: "name" }), sub = s("text", { class: "sub" });
    const probe = s("svg", { class: "dag-svg probe", width: 1, height: 1, "aria-hidden": "true" }, s("g", { class: "node" }, name, sub));
    box.append(probe); // in the page, so the page's fonts and sizes apply
    const width = (el, text) => {
      el.textContent = visible(text);
      return el.getComputedTextLength() || text.length * 9; // not laid out (no box): a wide guess
    };
    // A non-group node's second line is its type and its status, which changes live.
    const statusWidth = Math.max(...STEP_STATUSES.map((st) => width(sub, ` · ${label(st)}`)));
    const room = NODE_MAX - NODE_TEXT_X - NODE_PAD;
    const sizes = new Map();
    for (const n of nodes) {
      let shown = n.label, nameWidth = width(name, shown);
      if (nameWidth > room) {
        let keep = Math.floor((shown.length * room) / nameWidth) + 1;
        while (keep > 2 && width(name, short(n.label, keep)) > room) keep -= 1;
        shown = short(n.label, keep);
        nameWidth = width(name, shown);
      }
      const subWidth = n.group ? width(sub, `${n.type} × ${num(n.size)}`) : width(sub, n.type) + statusWidth;
      const w = Math.ceil(Math.max(nameWidth, subWidth)) + NODE_TEXT_X + NODE_PAD;
      sizes.set(n.id, { name: shown, width: Math.max(NODE_MIN, Math.min(NODE_MAX, w)), height: n.group ? 58 : 44 });
    }
    probe.remove();
    return sizes;
  }
  function short(text, max) { return text.length > max ? text.slice(0, max - 1) + "…" : text; }

  function renderGraph(graph) {
    const box = document.getElementById("dag");
    const note = document.getElementById("graph-note");
    if (graph.too_large) {
      runState.graphKey = "too-large";
      box.replaceChildren(h("p", { class: "empty" }, `The graph has ${num(graph.node_count)} nodes even with look-alike steps grouped; use the step list below.`));
      return;
    }
    const key = JSON.stringify([graph.nodes.map((n) => n.id), graph.edges]);
    const grouped = graph.nodes.filter((n) => n.group).length;
    note.textContent = `${num(graph.nodes.length)} node${graph.nodes.length === 1 ? "" : "s"}` + (grouped ? ` · ${grouped} group${grouped === 1 ? "" : "s"} of look-alike steps (click to list them)` : "");
    if (key !== runState.graphKey) {
      runState.graphKey = key;
      box.replaceChildren(layoutGraph(graph, box));
    }
    for (const n of graph.nodes) {
      const el = box.querySelector(`g.node[data-node="${CSS.escape(n.id)}"]`);
      if (!el) continue;
      el.setAttribute("class", `node s-${n.status}${n.group ? " group" : ""}${runState.node === n.id || runState.selected === n.id ? " selected" : ""}`);
      el.setAttribute("data-status", n.status);
      const tip = el.querySelector("title");
      if (tip) tip.textContent = visible(`${n.group ? n.size + " steps: " : ""}${n.label} — ${label(n.status)}`);
      el.setAttribute("aria-label", visible(nodeName(n)));
      const sub = el.querySelector("text.sub");
      if (n.group) {
        const bar = el.querySelector("g.mini");
        bar.replaceChildren(...miniBar(n, Number(el.querySelector("rect.box").getAttribute("width")) - 20));
        sub.textContent = visible(`${n.type} × ${num(n.size)}`);
      } else {
        sub.textContent = visible(`${n.type} · ${label(n.status)}`);
      }
    }
  }

  function miniBar(n, width) {
    const out = [];
    let x = 0;
    for (const st of STEP_STATUSES) {
      const c = n.counts[st];
      if (!c) continue;
      const w = (c / n.size) * width;
      out.push(s("rect", { x, y: 0, width: Math.max(w, 1), height: 5, class: `seg-fill s-${st}` }));
      x += w;
    }
    return out;
  }

  // What a node is called to assistive technology: its step (or group) and its status.
  function nodeName(n) {
    return `${n.group ? `group of ${num(n.size)} steps ` : ""}${n.label}: ${label(n.status)}`;
  }

  function layoutGraph(graph, box) {
    const sizes = nodeSizes(graph.nodes, box);
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 16, ranksep: 56, marginx: 16, marginy: 16 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of graph.nodes) g.setNode(n.id, { width: sizes.get(n.id).width, height: sizes.get(n.id).height });
    for (const [a, b, cond] of graph.edges) g.setEdge(a, b, { cond: !!cond });
    dagre.layout(g);
    const { width, height } = g.graph();
    // A group of controls, not role="img": an image's children are presentational, and the
    // graph was read as one picture (its nodes' names run together), none of them a control.
    const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "dag-svg", role: "group", "aria-label": "Workflow graph" });
    svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }))));
    const edges = s("g", { class: "edges" });
    for (const e of g.edges()) {
      const pts = g.edge(e).points;
      let d = `M ${pts[0].x} ${pts[0].y}`;
      for (let i = 1; i < pts.length - 1; i++) {
        const mx = (pts[i].x + pts[i + 1].x) / 2, my = (pts[i].y + pts[i + 1].y) / 2;
        d += ` Q ${pts[i].x} ${pts[i].y} ${mx} ${my}`;
      }
      const last = pts[pts.length - 1];
      d += ` L ${last.x} ${last.y}`;
      edges.append(s("path", { d, class: g.edge(e).cond ? "edge cond" : "edge", "marker-end": "url(#arrow)" },
        g.edge(e).cond ? s("title", {}, "conditional edge (when:)") : null));
    }
    svg.append(edges);
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    for (const id of g.nodes()) {
      const n = byId.get(id);
      const { x, y, width: w, height: hh } = g.node(id);
      const node = s("g", { class: `node s-${n.status}${n.group ? " group" : ""}`, "data-node": n.id, "data-status": n.status, transform: `translate(${x - w / 2},${y - hh / 2})`, tabindex: 0,
        role: "button", "aria-label": nodeName(n), onclick: () => clickNode(n), onkeydown: (ev) => activate(ev, () => clickNode(n)) },
      s("title", {}, `${n.label} — ${label(n.status)}`),
      // The focus ring (app.css): a box of its own around the node's, which no status
      // animates (a running node's glow sets its box's stroke width).
      s("rect", { x: -4, y: -4, width: w + 8, height: hh + 8, rx: 11, ry: 11, class: "ring" }),
      s("rect", { width: w, height: hh, rx: 8, ry: 8, class: "box" }),
      s("rect", { width: 5, height: hh - 12, x: 6, y: 6, rx: 2, class: "tick" }),
      s("text", { x: NODE_TEXT_X, y: n.group ? 21 : 19, class: "name" }, sizes.get(n.id).name),
      s("text", { x: 18, y: n.group ? 37 : 34, class: "sub" }, n.group ? `${n.type} × ${num(n.size)}` : `${n.type} · ${label(n.status)}`));
      if (n.group) {
        const mini = s("g", { class: "mini", transform: `translate(10,${hh - 12})` });
        mini.append(...miniBar(n, w - 20));
        node.append(mini);
      }
      svg.append(node);
    }
    return svg;
  }

  // Enter or Space on an element with role="button" acts as a click (as on a <button>).
  function activate(ev, fn) {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault(); // Space would scroll the page
    fn();
  }

  function clickNode(n) {
    if (n.group) location.hash = runQuery({ node: runState.node === n.id ? "" : n.id, offset: 0 });
    else location.hash = runQuery({ step: n.id });
  }

  // -- steps and the Gantt --------------------------------------------------------------------
  function renderSteps(data) {
    const page = data.steps;
    const tools = document.getElementById("steps-tools");
    if (!tools.dataset.ready) {
      tools.dataset.ready = "1";
      const search = filterInput({ type: "search", id: "step-search", placeholder: "Filter steps…", "aria-label": "Filter steps" },
        runState.q, (q) => { location.hash = runQuery({ q, offset: 0 }); });
      const status = h("select", { id: "step-status", "aria-label": "Step status", onchange: (e) => { location.hash = runQuery({ status: e.target.value, offset: 0 }); } },
        h("option", { value: "" }, "Any status"), STEP_STATUSES.map((st) => h("option", { value: st, selected: st === runState.status }, label(st))));
      tools.append(search, status, h("span", { id: "node-filter" }), h("span", { class: "pager", id: "pager" }));
    }
    const nodeFilter = document.getElementById("node-filter");
    nodeFilter.replaceChildren(runState.node ? h("button", { class: "chip on plain", title: "Show every step", onclick: () => { location.hash = runQuery({ node: "", offset: 0 }); } },
      `only the group of ${runState.node.replace(/^group:/, "")}`, h("b", {}, "×")) : "");
    if (page.offset !== runState.offset) {
      // The view showed the last page with steps instead of one past them (the address's
      // offset was from a longer list): the address says the page shown, without a step
      // back in the history.
      runState.offset = page.offset;
      history.replaceState(history.state, "", runQuery({}));
    }
    // A page ends early when its steps are big (many attempts, long errors: the view's
    // byte budget): the next one starts where it ended (next_offset), not a limit on.
    const first = page.total ? page.offset + 1 : 0;
    const lastN = Math.min(page.offset + page.items.length, page.total);
    const nextAt = page.next_offset !== undefined ? page.next_offset : (lastN < page.total ? lastN : null);
    // Prev goes back to where the page before began, as Next found it (runState.trail, for
    // the run and filters shown): a limit back would pass over the rows of a page cut at
    // its budget. Reached by an address, a page has no trail: a limit back.
    const trailKey = [runState.id, runState.status, runState.node, runState.q].join("\u0000");
    if (runState.trail.key !== trailKey) runState.trail = { key: trailKey, starts: [] };
    const earlier = runState.trail.starts.filter((at) => at < page.offset);
    const prevAt = earlier.length ? earlier[earlier.length - 1] : Math.max(0, page.offset - page.limit);
    document.getElementById("pager").replaceChildren(
      h("button", { class: "btn", id: "page-prev", disabled: page.offset <= 0, onclick: () => {
        runState.trail.starts = earlier.slice(0, -1);
        location.hash = runQuery({ offset: prevAt });
      } }, "‹ Prev"),
      h("span", { id: "page-info" }, `${num(first)}–${num(lastN)} of ${num(page.total)}`),
      h("button", { class: "btn", id: "page-next", disabled: nextAt === null, onclick: () => {
        runState.trail.starts = [...earlier, page.offset];
        location.hash = runQuery({ offset: nextAt });
      } }, "Next ›"));

    const start = data.window.start, end = Math.max(data.window.end, start + 1);
    const span = end - start;
    const pct = (t) => ((t - start) / span) * 100;
    const ticks = [];
    for (let i = 0; i <= 4; i++) ticks.push(h("span", { class: "tick", style: `left:${i * 25}%` }, i === 0 ? fmtTime(start) : `+${fmtDur((span * i) / 4)}`));
    const head = h("div", { class: "g-row g-head" },
      h("div", { class: "g-name" }, "Step"), h("div", { class: "g-status" }, "Status"), h("div", { class: "g-att" }, "Tries"),
      h("div", { class: "g-dur" }, "Duration"), h("div", { class: "g-track axis" }, ticks));
    const rows = page.items.map((st) => {
      const outcome = new Map(st.attempt_list.map((a) => [a.attempt, a.status]));
      const segs = st.segments.map((sg) => {
        const kind = sg.kind === "running" ? `seg-running a-${outcome.get(sg.attempt) || st.status}` : `seg-${sg.kind}`;
        const tip = `${sg.kind}${sg.attempt ? " (attempt " + sg.attempt + ")" : ""}: ${fmtTime(sg.start)} → ${fmtTime(sg.end)} (${fmtDur(sg.end - sg.start)})`;
        return h("span", { class: `seg ${kind}`, "data-attempt": sg.attempt, title: tip,
          style: `left:${pct(sg.start).toFixed(3)}%;width:${Math.max(0, pct(sg.end) - pct(sg.start)).toFixed(3)}%` });
      });
      // A control named after its step (a bare <div tabindex> is nothing to assistive technology).
      const open = () => { location.hash = runQuery({ step: st.step }); };
      return h("div", { class: `g-row step-row${runState.selected === st.step ? " selected" : ""}`, "data-step": st.step, "data-status": st.status, tabindex: 0,
        role: "button", "aria-label": `${st.step}: ${label(st.status)}${st.attempts ? `, ${st.attempts} attempt${st.attempts === 1 ? "" : "s"}` : ""}`,
        onclick: open, onkeydown: (ev) => activate(ev, open) },
      h("div", { class: "g-name", title: st.step }, h("span", { class: `dot s-${st.status}` }), st.step, st.type ? h("span", { class: "muted small type" }, st.type) : null),
      h("div", { class: "g-status" }, badge(st.status)),
      h("div", { class: "g-att" }, st.attempts || "—"),
      h("div", { class: "g-dur" }, st.duration_ms !== null ? fmtDur(st.duration_ms)
        : (st.status === "RUNNING" && st.started_at ? h("span", { class: "muted" }, `${fmtDur(data.now - st.started_at)}…`) : "—")),
      h("div", { class: "g-track" }, segs));
    });
    const legend = h("div", { class: "legend" },
      [["seg-queued", "queued"], ["seg-running a-SUCCEEDED", "running"], ["seg-running a-RETRIED", "failed attempt"], ["seg-backoff", "backoff"], ["seg-waiting", "waiting"]]
        .map(([c, t]) => h("span", {}, h("i", { class: `seg ${c}` }), t)));
    const said = [runState.q && `name contains “${runState.q}”`, runState.status && `status ${label(runState.status)}`].filter(Boolean).join(" · ");
    document.getElementById("gantt").replaceChildren(head,
      ...(rows.length ? rows : [h("p", { class: "empty", id: "steps-empty" }, `No steps match${said ? ` (${said})` : ""}.`)]), legend);
  }

  // -- step detail ----------------------------------------------------------------------------
  function closeDetail() {
    runState.selected = null;
    detail.hidden = true;
    detail.replaceChildren();
    document.body.classList.remove("with-detail");
  }

  // A loop step's grid filter and page are in the address (&failed=1&from=N), as the step
  // list's are: Back from an iteration, a reload or a shared link show the same cells.
  function openStep(name, params) {
    const other = runState.selected !== name;
    if (other) { runState.folds = new Map(); runState.logs = null;
      runState.expanded = new Set([...runState.expanded].filter((k) => k.startsWith("run-"))); } // the head's stay
    runState.failedOnly = params.get("failed") === "1";
    runState.iterFrom = params.get("from") || "";
    runState.selected = name;
    detail.hidden = false;
    document.body.classList.add("with-detail");
    if (other || !detail.hasChildNodes()) detail.replaceChildren(h("p", { class: "muted pad" }, "Loading…"));
    refreshStep();
  }

  let stepReads = 0; // the newest read of the open step wins (answers may cross)
  async function refreshStep(again = false) {
    const name = runState.selected, runId = runState.id, gen = generation, read = ++stepReads;
    let data;
    const loop = `${runState.failedOnly ? "&failed_only=true" : ""}${runState.iterFrom ? "&next=" + encodeURIComponent(runState.iterFrom) : ""}`;
    try { data = await getJSON(`api/console/runs/${encodeURIComponent(runId)}/step?name=${encodeURIComponent(name)}${loop}`); } catch (err) {
      if (gen !== generation) return;
      detail.replaceChildren(problem(err));
      // A live run's next poll reads the open step again; an ended run's page polls no
      // more, so a read that failed for a moment (no answer, a 5xx) is tried once more.
      const live = runState.data !== null && !runState.data.terminal;
      if (!again && !live && mayPass(err)) {
        setTimeout(() => {
          if (gen === generation && runState.selected === name && read === stepReads) refreshStep(true);
        }, POLL_MS);
      }
      return;
    }
    if (gen !== generation || runState.selected !== name || read !== stepReads) return;
    const refocus = holdFocus();
    renderDetail(data);
    refocus();
  }

  // An iteration's values as one line. The view's markers are said in words: a value cut
  // ({"$cut": why, "chars": n, "preview": its JSON's start}) shows its start and size,
  // values stored apart ({"$stored": where, "$payload", "bytes"}) where to see them.
  function shownValue(v) {
    if (v && typeof v === "object" && "$cut" in v) {
      const start = v.preview ? `${short(String(v.preview), 80)} ` : "";
      return `${start}(${typeof v.chars === "number" ? `${num(v.chars)} characters, cut` : v["$cut"]})`;
    }
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  function iterationValues(values) {
    if (!values) return "";
    if ("$stored" in values) return `values ${values["$stored"]}`;
    if ("$cut" in values) return `values ${shownValue(values)}`;
    return Object.entries(values).map(([k, v]) => `${k}=${shownValue(v)}`).join(", ");
  }

  function iterationDetail(values) {
    const v = values || {};
    if ("$stored" in v) return h("p", { class: "muted" }, iterationValues(v));
    if ("$cut" in v) return [h("p", { class: "muted" }, v["$cut"]), json(v.preview || null, "iteration")];
    return json(v, "iteration");
  }

  // A loop step's iterations: one cell per iteration, coloured by status (a child run
  // each: a click opens it), with a "failed only" filter and paging by token. An
  // iteration a breakpoint holds (held_at: its step, PAUSED) runs on as far as its status
  // says: its cell says it waits for a person, and opens that step, where Resume is.
  function iterationGrid(data) {
    const page = data.iterations, c = data.step.children || {};
    const name = data.step.step;
    const toggle = h("label", { class: "muted small" },
      h("input", { type: "checkbox", id: "iterations-failed-only", checked: runState.failedOnly ? "" : null,
        onchange: (e) => { location.hash = runQuery({ failed: e.target.checked ? "1" : "", from: "" }); } }),
      " failed only");
    if (runState.failedOnly) toggle.querySelector("input").checked = true;
    const held = Math.min(Number(page.held || 0), c.running || 0); // among the running
    const shown = { ...c, running: (c.running || 0) - held, held };
    const counts = ["running", "held", "succeeded", "failed", "stopped"].filter((k) => shown[k])
      .map((k) => `${num(shown[k])} ${k === "held" ? "paused at a breakpoint" : k}`).join(" · ");
    const cells = page.iterations.map((it) => {
      const values = short(iterationValues(it.values), 500);
      const status = it.held_at ? `${it.status}, paused at a breakpoint on step ${it.held_at} (open it to resume)` : it.status;
      const tip = `#${it.index} ${status}${values ? " · " + values : ""}${it.duration_ms != null ? " · " + fmtDur(it.duration_ms) : ""}${it.error ? "\n" + short(String(it.error), 1000) : ""}`;
      const run = `#/runs/${encodeURIComponent(it.run_id)}`;
      return h("a", { class: `it-cell s-${it.status}${it.held_at ? " held" : ""}`, title: tip, "data-index": it.index, "data-status": it.status,
        "data-held": it.held_at || null, "aria-label": it.held_at ? `iteration ${it.index}: paused at a breakpoint on step ${it.held_at}` : null,
        href: it.held_at ? `${run}?${new URLSearchParams({ step: it.held_at })}` : run }, String(it.index));
    });
    return h("section", { class: "d-sec", id: "detail-iterations" },
      h("h3", {}, "Iterations"),
      h("div", { class: "it-head" }, h("span", { class: "muted small" }, counts || (LOOP_ENDED.has(data.step.status) ? "none" : "none yet")), toggle),
      cells.length ? h("div", { class: "it-grid" }, ...cells)
        : h("p", { class: "muted", id: "iterations-none" }, runState.failedOnly ? noFailed(page) : noIterations(data.step)),
      page.next ? h("button", { class: "btn", id: "iterations-more", onclick: () => { location.hash = runQuery({ from: String(page.next) }); } },
        `Next page (from #${page.next})`) : null,
      runState.iterFrom ? h("button", { class: "btn", id: "iterations-first", onclick: () => { location.hash = runQuery({ from: "" }); } }, "First page") : null);
  }

  // A loop step that ended without an iteration: "yet" would say some may come. A
  // foreach over an empty list, or a while whose condition was false at once, succeeds.
  const LOOP_ENDED = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED", "SKIPPED", "FAILED_IGNORED"]);
  function noIterations(st) {
    if (!LOOP_ENDED.has(st.status)) return "No iteration yet.";
    if (st.status !== "SUCCEEDED") return "No iterations: the step ended before starting any.";
    return st.type === "while" ? "No iterations: the condition was false before the first one."
      : "No iterations: the loop had nothing to iterate over.";
  }

  // A page of failed iterations reads up to 5,000 iterations (loop_views.SCAN_LIMIT):
  // one that found none says which it read, when more are left (its next).
  function noFailed(page) {
    if (page.next === null || page.next === undefined) return "No failed iteration.";
    const from = Number(runState.iterFrom || 0);
    return `No failed iteration among #${from}–#${Number(page.next) - 1}: Next page reads on.`;
  }

  // A deployed lambda step's logs are read on request: each read is a CloudWatch Logs
  // Insights query (time and money). What it answered (or is still reading, or why it
  // failed) is kept for the step and attempt (runState.logs), drawn again by every refresh
  // of a live step's detail, until another step or run is opened.
  async function loadLogs(step, attempt) {
    const read = { step, attempt, answer: null, error: null };
    const keyboard = document.activeElement && document.activeElement.id === "load-logs";
    runState.logs = read;
    drawLogs();
    // The button goes with the click: a keyboard user stays in the section (not <body>).
    const box = document.getElementById("detail-logs");
    if (keyboard && box) box.focus({ preventScroll: true });
    try {
      read.answer = await getJSON(apiRoute(`runs/${encodeURIComponent(runState.id)}/logs?step=${encodeURIComponent(step)}&attempt=${attempt}`));
    } catch (err) {
      read.error = err;
    }
    if (runState.logs === read) drawLogs(); // else another step (or run) was opened since
  }
  function drawLogs() {
    const box = document.getElementById("detail-logs"), read = runState.logs;
    if (box && read) put(box, requestedLogs(read.step, read.attempt));
  }
  // The Logs section of a step whose logs are read on request: the button, or what was read.
  function requestedLogs(step, attempt) {
    const read = runState.logs;
    const kept = read && read.step === step && read.attempt === attempt ? read : null;
    const button = h("button", { class: "btn small", id: "load-logs", onclick: () => loadLogs(step, attempt) },
      `${kept ? "Read" : "Load"} attempt ${attempt}'s logs from CloudWatch${kept ? " again" : ""}`);
    if (!kept) return button;
    // An answer that may change (no answer, a 5xx, a throttle) can be asked for again; a
    // refusal (a 404: the attempt recorded no invocation) stays as said.
    if (kept.error) return [problem(kept.error), mayPass(kept.error) ? button : null];
    if (!kept.answer) return h("p", { class: "muted" }, "Loading…");
    const data = kept.answer;
    return h("div", { class: "log" },
      h("div", { class: "muted small" }, `attempt ${data.attempt} · ${data.function} · ${data.request_id}`),
      h("pre", { class: "json log-stdout" }, data.text ? clip(data.text, `cloudwatch-${attempt}`) : "Nothing printed."));
  }

  // A step waiting for a callback or an approval: what it was published with, and the
  // token to send the result with (docs/workflow-language.md, Callbacks and approvals).
  function callbackSection(cb, section) {
    const approval = cb.type === "approval";
    return section(approval ? "Approval" : "Callback", h("div", { id: "detail-callback" },
      cb.message ? h("p", { id: "detail-callback-message" }, clip(cb.message, "callback-message")) : null,
      approval ? h("p", { class: "muted small", id: "detail-callback-approvers" },
        (cb.approvers || []).length ? `approvers: ${cb.approvers.join(", ")}` : "approvers: anyone") : null,
      cb.payload !== undefined ? h("div", {}, h("div", { class: "muted small" }, "payload"), json(cb.payload, "callback-payload")) : null,
      h("div", { class: "muted small" }, `token: podium callback TOKEN ${approval ? "--success '{}' --by NAME" : "--success JSON"}, or POST /callbacks/TOKEN`),
      h("pre", { class: "json token", id: "detail-callback-token" }, cb.token)));
  }

  // A step with wait_for: each signal it waits for, arrived (the one matched) or missing,
  // so that a step WAITING_FOR_SIGNALS says what it still lacks.
  function signalSection(sig, section) {
    const matchText = (m) => Object.entries(m || {}).map(([k, v]) =>
      v && typeof v === "object" && "op" in v ? `${k} ${v.op} ${JSON.stringify(v.value)}` : `${k} = ${JSON.stringify(v)}`).join(", ");
    const missing = sig.entries.filter((e) => e.arrived !== true).length;
    const state = (e) => e.arrived === true ? "arrived" : e.arrived === false ? "missing" : sig.waiting ? "unknown" : "not waiting";
    const said = (e) => e.arrived === true ? `arrived${e.sent_at ? ` · sent ${fmtTime(e.sent_at)}` : ""}${e.signal_id ? ` · ${e.signal_id}` : ""}`
      : e.arrived === false ? "missing: no matching signal yet"
        : e.looked ? `none matching among its newest ${num(e.looked)} signals (older ones are looked at by the step's own check)`
          : "not looked for: the step does not wait now";
    return section("Signals", h("div", { id: "detail-signals" },
      h("p", { class: "muted small", id: "detail-signals-summary" }, sig.waiting
        ? `waiting for ${num(missing)} of ${num(sig.entries.length)} signal${sig.entries.length === 1 ? "" : "s"}` +
          (sig.waiting_since ? ` since ${fmtTime(sig.waiting_since)}` : "") + (sig.deadline ? ` · times out at ${fmtTime(sig.deadline)}` : "")
        : `waits for ${num(sig.entries.length)} signal${sig.entries.length === 1 ? "" : "s"}`),
      h("ul", { class: "signals" }, sig.entries.map((e) => h("li", { "data-signal": e.signal, "data-state": state(e) },
        h("span", { class: `badge sig-${state(e).replace(" ", "-")}` }, state(e)), " ", h("b", { class: "mono" }, e.signal),
        e.match && Object.keys(e.match).length ? h("span", { class: "muted small" }, ` where ${matchText(e.match)}`) : null,
        e.since === "step_start" ? h("span", { class: "muted small" }, " (sent since the wait began)") : null,
        h("div", { class: "muted small" }, clip(said(e), `signal-${e.signal}`, 1000)))))));
  }

  // The server's clock when it read the step: the view's ``now`` if it says one, else the
  // end of the step's running bar (the view draws a running attempt up to its now), else
  // the run page's (read just before), else the browser's.
  function serverNow(data) {
    if (typeof data.now === "number") return data.now;
    const open = (data.step.segments || []).filter((sg) => sg.kind === "running" && sg.attempt === data.step.attempts);
    if (open.length && data.step.status === "RUNNING") return open[open.length - 1].end;
    return runState.data && typeof runState.data.now === "number" ? runState.data.now : Date.now();
  }

  function renderDetail(data) {
    const st = data.step, def = data.definition || {};
    const params = { ...def };
    for (const k of ["id", "type", "depends_on", "description"]) delete params[k];
    const last = data.attempts[data.attempts.length - 1];
    const lastTrace = last && last.error && last.error === st.error ? last.traceback : null;
    const section = (title, ...kids) => h("section", { class: "d-sec" }, h("h3", {}, title), ...kids);
    // A running step has no duration yet: it has run until the server's now, as its row
    // in the step list counts it (the browser's clock may be off by hours).
    const now = serverNow(data);
    const running = (from) => h("span", { class: "muted" }, `${fmtDur(now - from)}…`);
    const ranFor = (a) => a.started_at && a.ended_at ? fmtDur(a.ended_at - a.started_at)
      : a.started_at && a.status === "RUNNING" ? running(a.started_at) : "—";
    put(detail,
      h("div", { class: "d-head" },
        h("div", {}, h("div", { class: "muted small" }, `${st.type || "step"} step`), h("h2", { id: "detail-title" }, st.step)),
        h("a", { class: "btn close", href: runQuery({ step: "" }), "aria-label": "Close" }, "✕")),
      h("div", { class: "d-status" }, badge(st.status),
        h("span", { class: "muted" }, ` ${st.attempts || 0} attempt${st.attempts === 1 ? "" : "s"} · `,
          st.duration_ms === null && st.status === "RUNNING" && st.started_at ? running(st.started_at) : fmtDur(st.duration_ms))),
      (data.actions || []).length || data.restart || noteView(st.step) ? h("div", { class: "actions", id: "step-actions" }, (data.actions || []).map((a) =>
        h("button", { class: `btn small act act-${a}`, "data-action": a, onclick: () => act("steps/actions", a, st.step) }, ACTION_TEXT[a] || a)),
      // An ended run's step runs again by a restart from it (of the top run, for a step
      // of a loop's iteration: the path into it names the iteration).
      data.restart ? h("button", { class: "btn small act act-restart", "data-action": "restart",
        title: `restart run ${data.restart.run_id} from ${data.restart.from}`,
        onclick: () => act("actions", "restart", st.step, data.restart) }, "Restart from here") : null,
      h("span", { id: "step-action-note", class: "small" }, noteView(st.step))) : null,
      st.error ? section("Error", h("pre", { class: "error", id: "detail-error" }, clip(st.error, "error")),
        lastTrace ? fold(`traceback-${last.attempt}`, true, "traceback", h("pre", { class: "error", id: "detail-traceback" }, clip(lastTrace, "traceback"))) : null) : null,
      st.reason ? section("Reason", h("p", { id: "detail-reason" }, clip(st.reason, "reason"))) : null,
      data.callback ? callbackSection(data.callback, section) : null,
      data.signals ? signalSection(data.signals, section) : null,
      data.iterations ? iterationGrid(data) : null,
      // A subworkflow step's runs (one per attempt that started one): the way down to the
      // called workflow's steps, as a loop's grid leads to its iterations.
      (data.children || []).length ? section(data.children.length === 1 ? "Child run" : "Child runs",
        h("ul", { class: "children", id: "detail-children" }, data.children.map((c) =>
          h("li", { "data-run": c.run_id }, h("a", { class: "mono", href: `#/runs/${encodeURIComponent(c.run_id)}` }, c.run_id), " ", badge(c.status),
            h("span", { class: "muted small" }, ` ${c.workflow} · attempt ${c.attempt}`))))) : null,
      section("Output", h("div", { id: "detail-output" }, json(st.output, "output"))),
      data.logs ? section("Logs", h("div", { id: "detail-logs" }, data.logs.length
        ? data.logs.map((l) => h("div", { class: "log" }, h("div", { class: "muted small" }, `attempt ${l.attempt} · ${l.stream}`),
          h("pre", { class: `json log-${l.stream}` }, clip(l.text, `log-${l.attempt}-${l.stream}`))))
        : h("p", { class: "muted" }, "Nothing printed.")))
        // A deployed stack's lambda step (served by the stack, or through `podium console
        // --stack`): its lines are in CloudWatch, read on request (a query costs time and
        // money; most views don't need them).
        : data.logs == null && st.type === "lambda" && last ? section("Logs", h("div", { id: "detail-logs", tabindex: -1 },
          requestedLogs(st.step, last.attempt))) : null,
      section("Attempts", data.tracebacks_omitted ? h("p", { class: "muted small", id: "detail-tracebacks-omitted" },
        `${num(data.tracebacks_omitted)} older attempt${data.tracebacks_omitted === 1 ? "'s traceback" : "s' tracebacks"} not shown (over the view's 2 MB): ` +
        `podium runs logs ${data.run.run_id} ${st.step} --attempt N`) : null,
      data.attempts.length ? h("table", { class: "grid compact attempts", id: "detail-attempts" },
        h("thead", {}, h("tr", {}, ["#", "Outcome", "Started", "Ran", "Then"].map((t) => h("th", {}, t)))),
        h("tbody", {}, data.attempts.map((a) => [
          h("tr", { class: a.error ? "has-err" : "" },
            h("td", {}, a.attempt), h("td", {}, badge(a.status)), h("td", {}, fmtTime(a.started_at)),
            h("td", {}, ranFor(a)),
            h("td", { class: "muted" }, a.delay_seconds ? `retry after ${a.delay_seconds} s` : "")),
          a.error ? h("tr", { class: "err" }, h("td", {}), h("td", { colspan: 4, class: "err-cell" }, clip(a.error, `attempt-${a.attempt}-error`, 1000),
            a.traceback ? fold(`attempt-${a.attempt}-traceback`, false, "traceback", h("pre", { class: "error" }, clip(a.traceback, `attempt-${a.attempt}-traceback`))) : null)) : null,
        ]))) : h("p", { class: "muted" }, "Not started yet.")),
      st.params && Object.keys(st.params).length ? section("Params (rendered)", h("div", { id: "detail-step-params" }, json(st.params, "step-params"))) : null,
      section("Definition", h("div", { id: "detail-params" }, json(Object.keys(params).length ? params : null, "definition"))),
      def.depends_on && def.depends_on.length ? section("Depends on", h("p", { id: "detail-depends-on" },
        clip(def.depends_on.map((d) => typeof d === "string" ? d : `${d.step} when ${d.when}`).join(", "), "depends-on"))) : null,
      section("Run params", h("div", { id: "detail-run-params" }, json(Object.keys(data.run.params || {}).length ? data.run.params : null, "run-params"))),
      // A step of a loop's iteration: the iteration's values, whole, as its steps read them.
      data.run.iteration ? section(`Iteration ${data.run.iteration.index}`, h("div", { id: "detail-iteration" }, iterationDetail(data.run.iteration.values))) : null,
      data.events.length ? section("Events",
        data.events_omitted ? h("p", { class: "muted small", id: "detail-events-omitted" },
          `${num(data.events_omitted)} older event${data.events_omitted === 1 ? "" : "s"} not shown (over the view's 1 MB): every attempt is listed in Attempts`) : null,
        h("ul", { class: "events" }, data.events.map((e) => h("li", {}, h("span", { class: "muted" }, fmtTime(e.at)), ` ${e.kind}`, e.attempt ? ` (attempt ${e.attempt})` : "")))) : null,
    );
  }

  if (SIGNED) {
    const saved = storedCredentials();
    useCredentials(saved);
    if (!saved) showCredentialsForm("");
  }
  route();
})();
