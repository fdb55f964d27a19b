/* Live connection shared by the phone, projector and console pages.
 * Socket.IO starts on HTTP long-polling and upgrades to a websocket when it can, so a network
 * that blocks websockets still works. Each (re)connection receives the full state. */
(function () {
  "use strict";

  function connect(opts) {
    var root = document.getElementById("live");
    var workshopId = parseInt(root.dataset.workshop, 10);
    var csrf = document.querySelector('meta[name="csrf-token"]').content;
    var version = parseInt(root.dataset.version || "0", 10);
    var status = document.getElementById("connection");
    // Asked again at every (re)connection: a discussion page's socket follows its line
    // (#live's data-line) from the start, so what it sends as it reconnects comes back to it.
    function auth(cb) {
      var given = { workshop: workshopId, csrf: csrf };
      if (root.dataset.line) given.line = parseInt(root.dataset.line, 10);
      root.dataset.authLine = root.dataset.line || ""; // what this connection follows
      cb(given);
    }
    var socket = io({ auth: auth, transports: ["polling", "websocket"] });

    function setStatus(state) {
      if (!status) return;
      status.dataset.state = state;
      status.textContent = state === "online" ? status.dataset.labelOnline : status.dataset.labelOffline;
    }
    // The login session ended (logged out here, in another tab or browser, or by an
    // organiser): reload, and the server sends the page on to the join or login page. Not
    // while this page is already leaving (its own "Log out" form is on its way).
    var leaving = false;
    window.addEventListener("beforeunload", function () { leaving = true; });
    function sessionEnded() { if (!leaving) location.reload(); }
    socket.on("connect", function () {
      setStatus("online");
      flushOutbox(socket, workshopId);
      document.dispatchEvent(new CustomEvent("live:connected"));
    });
    socket.on("disconnect", function (reason) {
      setStatus("offline");
      // Only the server ends a socket on purpose, and then it does not reconnect by itself.
      if (reason === "io server disconnect") sessionEnded();
    });
    socket.on("session.ended", sessionEnded);
    socket.on("connect_error", function (err) {
      setStatus("offline");
      // Refused (session gone, token stale): reload once so the server can send us on.
      if (err && (err.message === "forbidden" || err.message === "csrf")) {
        var last = parseInt(sessionStorage.getItem("live-reload") || "0", 10);
        if (Date.now() - last > 30000) {
          sessionStorage.setItem("live-reload", String(Date.now()));
          location.reload();
        }
      }
    });
    socket.on("state", function (state) {
      if (state.version < version) return; // an older snapshot overtaken by a newer one
      version = state.version;
      root.dataset.version = String(version);
      opts.onState(state);
    });
    socket.on("notice", function (msg) {
      var el = document.getElementById("message");
      if (!el) return;
      el.textContent = msg.text;
      el.hidden = !msg.text;
    });
    if (opts.onDelegate) socket.on("delegate", opts.onDelegate);
    window.Live.current = { socket: socket, workshopId: workshopId, root: root };
    document.dispatchEvent(new CustomEvent("live:ready"));
    return window.Live.current;
  }

  var ticking = null;
  function format(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var m = Math.floor(total / 60), s = total % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function showTimer(timer) {
    var el = document.getElementById("timer");
    if (!el) return;
    if (ticking) { clearInterval(ticking); ticking = null; }
    el.dataset.status = timer.status;
    el.classList.toggle("ending", timer.remaining_ms !== null && timer.remaining_ms < 60000);
    if (timer.status === "none" || timer.remaining_ms === null) {
      el.hidden = true; el.textContent = ""; return;
    }
    el.hidden = false;
    if (timer.status !== "running") { el.textContent = format(timer.remaining_ms); return; }
    var endsAt = performance.now() + timer.remaining_ms;
    var tick = function () {
      var left = endsAt - performance.now();
      el.textContent = format(left);
      el.classList.toggle("ending", left < 60000);
      if (left <= 0 && ticking) { clearInterval(ticking); ticking = null; }
    };
    tick();
    ticking = setInterval(tick, 250);
  }

  function showJoined(joined) {
    var total = document.getElementById("joined-total");
    if (total) total.textContent = joined.total;
    var items = document.querySelectorAll("#by-region [data-region]");
    for (var i = 0; i < items.length; i++) {
      var b = items[i].querySelector("b");
      if (b) b.textContent = joined.by_region[items[i].dataset.region] || 0;
    }
  }

  /* The outbox: actions with an idempotency key (`request_id`) stay in localStorage until the
   * server has answered them, and go again after every reconnection (and after a reload): a
   * phone that lost the network just after a tap, or lost only the answer, sends the action
   * once more and the server stores it once. */
  var OUTBOX = "workshop.outbox";
  var delivered = [];

  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (e) { return []; }
  }
  function saveOutbox(items) {
    try { localStorage.setItem(OUTBOX, JSON.stringify(items)); } catch (e) { /* private mode */ }
  }
  function keep(entry) {
    saveOutbox(outbox().filter(function (i) { return i.key !== entry.key; }).concat([entry]));
  }
  function drop(key) {
    saveOutbox(outbox().filter(function (i) { return i.key !== key; }));
  }
  function newRequestId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var RETRY_MS = 5000; // after "unavailable" (the server's database away for a moment)
  var retrying = null;
  function flushOutbox(socket, workshopId) {
    outbox().forEach(function (entry) {
      if (entry.workshop !== workshopId) return;
      socket.timeout(15000).emit(entry.op, entry.payload, function (err, ack) {
        // No answer yet, or the server could not store it: again in a moment (and at the
        // next reconnection, if the link goes meanwhile).
        if (err || (ack && ack.error === "unavailable")) { retryLater(socket, workshopId); return; }
        drop(entry.key);
        delivered.forEach(function (fn) { fn(entry, ack); });
      });
    });
  }
  /* Kept actions the server could not store yet go again in a moment (one timer for all). */
  function retryLater(socket, workshopId) {
    if (retrying) return;
    retrying = window.setTimeout(function () {
      retrying = null;
      if (socket.connected) flushOutbox(socket, workshopId);
    }, RETRY_MS);
  }
  /* `fn(entry, ack)` runs when a kept action is answered after a reconnection. */
  function onDelivered(fn) { delivered.push(fn); }

  function showQueued(box) {
    if (!box) return;
    box.textContent = document.getElementById("connection").dataset.labelQueued;
    box.hidden = false;
  }

  /* Send a form's operation over the socket; show per-field errors from the acknowledgement. */
  function submitOperation(form, payload, done) {
    var box = form.querySelector("[data-form-error]");
    var sent = form.querySelector("[data-sent]");
    if (sent) sent.hidden = true;
    var fieldErrors = form.querySelectorAll("[data-error-for]");
    for (var i = 0; i < fieldErrors.length; i++) { fieldErrors[i].hidden = true; }
    if (box) box.hidden = true;
    var current = window.Live.current;
    var key = payload.request_id;
    if (key) keep({ key: key, op: form.dataset.op, payload: payload, workshop: current.workshopId, form: form.id });
    if (!current.socket.connected) {
      if (key) { showQueued(box); return; }
    }
    current.socket.timeout(15000).emit(form.dataset.op, payload, function (err, ack) {
      if (err) {
        // Kept: it goes again in a moment, or when the link is back.
        if (key) { showQueued(box); retryLater(current.socket, current.workshopId); return; }
        if (box) { box.textContent = document.getElementById("connection").dataset.labelOffline; box.hidden = false; }
        return;
      }
      if (key && ack.error === "unavailable") {
        showRefusal(form, ack); // kept: it goes again in a moment
        retryLater(current.socket, current.workshopId);
        return;
      }
      if (key) drop(key);
      if (!ack.ok) { showRefusal(form, ack); return; }
      done(ack);
    });
  }

  /* The server's refusal of a form's action: each field's error beside its field, the message
   * in the form's box (what was typed stays in the form). */
  function showRefusal(form, ack) {
    var box = form.querySelector("[data-form-error]");
    var shown = false;
    Object.keys(ack.fields || {}).forEach(function (name) {
      var el = form.querySelector('[data-error-for="' + name + '"]');
      if (el) { el.textContent = ack.fields[name]; el.hidden = false; shown = true; }
    });
    if (box && (!shown || ack.error !== "validation")) { box.textContent = ack.message; box.hidden = false; }
  }

  /* Say `text` once in a live region (screen readers); the same words twice in a row are still
   * said: the region is emptied first. */
  function announce(region, text) {
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  window.Live = { connect: connect, announce: announce, showTimer: showTimer, showJoined: showJoined,
                  submitOperation: submitOperation, onDelivered: onDelivered, showRefusal: showRefusal,
                  newRequestId: newRequestId, current: null };
})();
