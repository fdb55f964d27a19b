/* Ballots on phones, the projector and the console.
 *
 * Phones: the ballot paper is a server-rendered form (it works without JavaScript); this
 * script adds touch controls (ticks with a limit, point steppers with the budget left, a
 * ranking built by tapping and moved by dragging a handle or with up/down buttons), keeps a
 * secret ballot's secret in localStorage (made with crypto.getRandomValues before the first
 * send, so a retry reuses it), and sends the paper over the socket, or by HTTP when the socket
 * is down. "Vote received" shows only once the server answers, and it answers only after the
 * vote is stored.
 * Projector and console: turnout as it comes, and a reload of the ballot part when a ballot
 * opens, closes or shows its results. */
(function () {
  "use strict";

  var best = {}; // ballot id -> highest turnout seen (updates may overtake each other)
  var RETRY_MS = 5000; // a paper the server could not store yet (its database away) goes again

  function live() { return window.Live && window.Live.current; }
  function csrf() { return document.querySelector('meta[name="csrf-token"]').content; }
  function ints(list) { return list.map(function (v) { return parseInt(v, 10); }); }
  function all(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

  // --- What this phone remembers of a ballot paper --------------------------------------

  function storeKey(form) { return "ballot:" + form.dataset.ballotId + ":" + form.dataset.delegateId; }
  function load(form) {
    try { return JSON.parse(localStorage.getItem(storeKey(form)) || "null") || {}; } catch (e) { return {}; }
  }
  function save(form, data) {
    try { localStorage.setItem(storeKey(form), JSON.stringify(data)); } catch (e) { /* private mode */ }
  }
  function newSecret() {
    var bytes = new Uint8Array(32);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- Reading and writing the choices of a paper ---------------------------------------

  function readChoices(form) {
    var method = form.dataset.method;
    if (method === "approval") {
      return ints(all(form, 'input[name="choice"]:checked').map(function (el) { return el.value; }));
    }
    if (method === "ranking") {
      return ints(all(form, ".ranked .rank-item").map(function (li) { return li.dataset.option; }));
    }
    var out = {};
    if (method === "points") {
      all(form, ".points-row").forEach(function (row) {
        var n = parseInt(row.querySelector("input").value || "0", 10);
        if (n) out[row.dataset.option] = isNaN(n) ? row.querySelector("input").value : n;
      });
      return out;
    }
    all(form, ".matrix-row").forEach(function (row) {
      var a = row.querySelector('input[name^="a-"]:checked');
      var b = row.querySelector('input[name^="b-"]:checked');
      if (a || b) out[row.dataset.option] = [a ? parseInt(a.value, 10) : 0, b ? parseInt(b.value, 10) : 0];
    });
    return out;
  }

  function applyChoices(form, choices) {
    var method = form.dataset.method;
    if (!choices) return;
    if (method === "approval") {
      all(form, 'input[name="choice"]').forEach(function (el) {
        el.checked = choices.indexOf(parseInt(el.value, 10)) >= 0;
      });
    } else if (method === "ranking") {
      var ranked = form.querySelector(".ranked"), unranked = form.querySelector(".unranked");
      all(form, ".rank-item").forEach(function (li) { unranked.appendChild(li); });
      choices.forEach(function (id) {
        var li = form.querySelector('.rank-item[data-option="' + id + '"]');
        if (li) ranked.appendChild(li);
      });
    } else if (method === "points") {
      all(form, ".points-row").forEach(function (row) {
        row.querySelector("input").value = choices[row.dataset.option] || 0;
      });
    } else {
      all(form, ".matrix-row").forEach(function (row) {
        var pair = choices[row.dataset.option] || [];
        all(row, "input").forEach(function (el) {
          var which = el.name.charAt(0) === "a" ? 0 : 1;
          el.checked = pair[which] === parseInt(el.value, 10);
        });
      });
    }
    refresh(form);
  }

  // --- Controls of each method ------------------------------------------------------------

  function refresh(form) {
    var method = form.dataset.method;
    if (method === "approval") {
      var k = parseInt(form.dataset.maxApprovals || "0", 10);
      var boxes = all(form, 'input[name="choice"]');
      var ticked = boxes.filter(function (el) { return el.checked; }).length;
      var count = form.querySelector(".approval-count");
      if (count) count.textContent = k ? ticked + " / " + k : String(ticked);
      boxes.forEach(function (el) { el.disabled = !!k && !el.checked && ticked >= k; });
    } else if (method === "points") {
      var budget = parseInt(form.dataset.budget, 10), most = parseInt(form.dataset.maxPerOption, 10);
      var rows = all(form, ".points-row");
      var used = rows.reduce(function (sum, row) { return sum + (parseInt(row.querySelector("input").value, 10) || 0); }, 0);
      var left = budget - used;
      var shown = form.querySelector(".points-left");
      shown.textContent = left;
      shown.classList.toggle("over", left < 0);
      rows.forEach(function (row) {
        var n = parseInt(row.querySelector("input").value, 10) || 0;
        row.querySelector(".plus").disabled = left <= 0 || n >= most;
        row.querySelector(".minus").disabled = n <= 0;
        row.classList.toggle("given", n > 0);
      });
    } else if (method === "ranking") {
      all(form, ".ranked .rank-item").forEach(function (li, i, list) {
        li.querySelector(".place").textContent = (i + 1) + ".";
        li.querySelector("select").value = String(i + 1);
        li.querySelector(".up").disabled = i === 0;
        li.querySelector(".down").disabled = i === list.length - 1;
      });
      all(form, ".unranked .rank-item").forEach(function (li) {
        li.querySelector(".place").textContent = "";
        li.querySelector("select").value = "";
      });
      form.querySelector(".unranked-label").hidden = !form.querySelector(".unranked .rank-item");
    }
  }

  function onClick(form, ev) {
    var button = ev.target.closest("button");
    if (!button || button.type === "submit") return;
    var method = form.dataset.method;
    if (method === "points") {
      var row = button.closest(".points-row");
      if (!row) return;
      var input = row.querySelector("input");
      var n = parseInt(input.value, 10) || 0;
      input.value = Math.max(0, n + (button.classList.contains("plus") ? 1 : -1));
    } else if (method === "ranking") {
      var li = button.closest(".rank-item");
      if (!li) return;
      var ranked = form.querySelector(".ranked");
      if (button.classList.contains("pick")) {
        if (li.parentNode === ranked) return; // already ranked: the handle and arrows move it
        ranked.appendChild(li);
      } else if (button.classList.contains("up") && li.previousElementSibling) {
        ranked.insertBefore(li, li.previousElementSibling);
      } else if (button.classList.contains("down") && li.nextElementSibling) {
        ranked.insertBefore(li.nextElementSibling, li);
      } else if (button.classList.contains("remove")) {
        form.querySelector(".unranked").appendChild(li);
      }
      changed(form);
      // Keep the focus on the moved item's button (or its title once that button is gone or
      // disabled), so keyboard and screen-reader users follow it; then say where it went.
      var again = li.querySelector("." + button.className.split(" ")[0]);
      if (!again || again.disabled || !again.offsetParent) again = li.querySelector(".pick");
      again.focus();
      announcePlace(form, li, button.classList.contains("pick") ? "added" : "moved");
      return;
    } else {
      return;
    }
    changed(form);
  }

  // Say where a line went (screen readers): "Moved to position 3 of 7." in the page's language.
  function announcePlace(form, li, what) {
    var news = form.querySelector(".rank-news");
    if (!news) return;
    var ranked = all(form, ".ranked .rank-item");
    var at = ranked.indexOf(li);
    var text = at < 0 ? news.dataset.labelRemoved
      : (what === "added" ? news.dataset.labelAdded : news.dataset.labelMoved)
        .replace("__P__", String(at + 1)).replace("__T__", String(ranked.length));
    Live.announce(news, text);
  }

  /* Drag a ranked line by its handle (Pointer Events: mouse, touch and pen alike). The line
   * moves among the others as the pointer passes their middles; the buttons stay the way for
   * keyboards and switch access. */
  function startDrag(form, ev) {
    var handle = ev.target.closest(".handle");
    if (!handle || (ev.pointerType === "mouse" && ev.button !== 0)) return;
    var li = handle.closest(".rank-item"), ranked = form.querySelector(".ranked");
    if (!li || li.parentNode !== ranked) return;
    ev.preventDefault();
    li.classList.add("dragging");
    var start = all(ranked, ".rank-item").indexOf(li);
    var y = ev.clientY, scrolling = null, EDGE = 48;
    function place() {
      var others = all(ranked, ".rank-item").filter(function (x) { return x !== li; });
      var before = null;
      for (var i = 0; i < others.length; i++) {
        var box = others[i].getBoundingClientRect();
        if (y < box.top + box.height / 2) { before = others[i]; break; }
      }
      if (before !== li.nextElementSibling) ranked.insertBefore(li, before);
    }
    // Near the top or bottom of the screen the page scrolls by itself, so a long ranking can
    // be dragged end to end with one finger (the handle does not let the page pan).
    function edgeScroll() {
      scrolling = null;
      var step = y > window.innerHeight - EDGE ? 12 : (y < EDGE ? -12 : 0);
      if (!step || !li.classList.contains("dragging")) return;
      var before = window.scrollY;
      window.scrollBy(0, step);
      if (window.scrollY === before) return; // at the end of the page
      place();
      scrolling = window.requestAnimationFrame(edgeScroll);
    }
    // Listened to on the document: moving the line in the list releases any pointer capture.
    function move(e) {
      if (e.pointerId !== ev.pointerId) return;
      e.preventDefault();
      y = e.clientY;
      place();
      if (scrolling === null) edgeScroll();
    }
    function end(e) {
      if (e.pointerId !== ev.pointerId) return;
      document.removeEventListener("pointermove", move);
      document.removeEventListener("pointerup", end);
      document.removeEventListener("pointercancel", end);
      li.classList.remove("dragging");
      if (scrolling !== null) window.cancelAnimationFrame(scrolling);
      if (all(ranked, ".rank-item").indexOf(li) !== start) {
        changed(form);
        announcePlace(form, li, "moved");
      }
    }
    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", end);
    document.addEventListener("pointercancel", end);
  }

  function changed(form) {
    refresh(form);
    all(form, "[data-error-for]").forEach(function (el) { el.hidden = true; });
    if (form.dataset.voted !== "true") {
      var st = load(form);
      st.draft = readChoices(form);
      save(form, st);
    }
  }

  // --- Sending ------------------------------------------------------------------------------

  function showError(form, ack) {
    var field = form.querySelector('[data-error-for="choices"]');
    var box = form.querySelector("[data-form-error]");
    var fields = ack.fields || {};
    if (fields.choices) { field.textContent = fields.choices; field.hidden = false; }
    var rest = Object.keys(fields).filter(function (k) { return k !== "choices"; })
      .map(function (k) { return fields[k]; });
    if (!fields.choices || rest.length) {
      box.textContent = [ack.message].concat(rest).join(" ");
      box.hidden = false;
    }
  }

  function received(form, ack, choices) {
    var st = load(form);
    st.receipt = ack.receipt;
    st.choices = choices;
    delete st.draft;
    delete st.pending;
    delete st.replaceLost;
    save(form, st);
    form.dataset.voted = "true";
    // A paper drawn for every phone no longer fits this delegate for this ballot.
    if (form.dataset.own === "true" && window.Live.mark) Live.mark(votedMark(form.dataset.ballotId));
    hideReplaceLost(form); // this phone holds the paper's secret now
    form.dataset.received = String((parseInt(form.dataset.received || "0", 10)) + 1);
    var receipt = form.querySelector(".receipt");
    receipt.querySelector(".receipt-code").textContent = ack.receipt;
    receipt.hidden = false;
    form.querySelector(".cast").textContent = form.dataset.labelChange;
  }

  function overHttp(form, payload, done) {
    var body = { choices: payload.choices };
    if (payload.secret) body.secret = payload.secret;
    if (payload.on_behalf_of) body.on_behalf_of = payload.on_behalf_of;
    if (payload.replace_lost) body.replace_lost = true;
    fetch(form.action, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); })
      .then(done)
      .catch(function () { done({ ok: false, offline: true, message: form.dataset.labelOffline, fields: {} }); });
  }

  function send(form, payload, done) {
    var conn = live();
    if (!conn || !conn.socket.connected) { overHttp(form, payload, done); return; }
    conn.socket.timeout(15000).emit("ballot.cast", payload, function (err, ack) {
      // No answer in time: the vote may be stored already; sending the same paper again
      // (same secret) is harmless, so try by HTTP.
      if (err) overHttp(form, payload, done); else done(ack);
    });
  }

  /* A vote sent with no answer (the network went, or only the answer was lost) stays on the
   * phone as `pending`, with its secret, and goes again at every reconnection and after a
   * reload until the server answers: the same paper again is stored once (same secret). */
  function payloadFor(form, choices) {
    var payload = {
      workshop_id: parseInt(document.getElementById("live").dataset.workshop, 10),
      ballot_id: parseInt(form.dataset.ballotId, 10),
      choices: choices
    };
    if (form.dataset.secret === "true") payload.secret = load(form).secret;
    if (form.dataset.own !== "true") payload.on_behalf_of = parseInt(form.dataset.delegateId, 10);
    if (load(form).replaceLost) payload.replace_lost = true;
    return payload;
  }

  /* A secret paper cast from a phone or browser that is gone can be replaced from this one
   * (the box the server renders for a voter who voted); a phone that holds the secret hides it. */
  function hideReplaceLost(form) {
    var box = form.querySelector(".replace-lost");
    if (box) { box.hidden = true; box.querySelector("input").checked = false; }
  }

  function answered(form, ack, choices, label) {
    var button = form.querySelector(".cast");
    button.disabled = false;
    form.removeAttribute("aria-busy");
    if (ack && ack.ok) { received(form, ack, choices); return; }
    if (label) button.textContent = label;
    if (ack && (ack.offline || ack.error === "unavailable")) {
      var box = form.querySelector("[data-form-error]");
      box.textContent = ack.offline ? form.dataset.labelQueued : ack.message;
      box.hidden = false;
      // Still pending: sent again when the link is back, or in a moment when the server
      // could not reach its database.
      if (!ack.offline) window.setTimeout(function () { resendPending(form); }, RETRY_MS);
      return;
    }
    var st = load(form);
    delete st.pending;
    save(form, st);
    showError(form, ack || {});
  }

  function resendPending(form) {
    var st = load(form);
    if (!st.pending || form.dataset.resending || !document.body.contains(form)) return;
    form.dataset.resending = "1";
    send(form, payloadFor(form, st.pending), function (ack) {
      delete form.dataset.resending;
      answered(form, ack, st.pending, null);
    });
  }

  function onSubmit(form, ev) {
    ev.preventDefault();
    var button = form.querySelector(".cast");
    if (button.disabled) return;
    all(form, "[data-error-for], [data-form-error]").forEach(function (el) { el.hidden = true; });
    var choices = readChoices(form);
    var st = load(form);
    st.pending = choices;
    var lost = form.querySelector('.replace-lost input');
    if (lost && lost.checked && !lost.closest("[hidden]")) st.replaceLost = true;
    // The secret is made before sending: a retry (or a resend after a reload) reuses it.
    if (form.dataset.secret === "true" && !st.secret) st.secret = newSecret();
    save(form, st);
    var payload = payloadFor(form, choices);
    var label = button.textContent;
    button.disabled = true;
    button.textContent = form.dataset.labelSending;
    form.setAttribute("aria-busy", "true");
    send(form, payload, function (ack) { answered(form, ack, choices, label); });
  }

  // --- Setting up what the server rendered --------------------------------------------------

  // The mark of a delegate who voted on this ballot (workshop/steps.py, voted_mark).
  function votedMark(ballotId) { return "voted:" + ballotId; }

  /* Where an option goes on one delegate's paper: as the server orders it
   * (workshop/voting/services.py, order_key: FNV-1a, then MurmurHash3's mixer). */
  function orderKey(ballot, delegate, salt, option) {
    var text = ballot + ":" + delegate + ":" + salt + ":" + option, h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }
  window.Live.orderKey = orderKey; // the tests compare it with the server's

  /* A paper drawn for every phone (data-order="page") lists the options in id order and is
   * no one's: it becomes this page's delegate's, in their own order (the order the server
   * gives them on a paper it draws for them alone). */
  function makeOwn(form) {
    var who = window.Live.delegateId;
    form.dataset.delegateId = String(who);
    var groups = [];
    all(form, ".options > li, .matrix-row").forEach(function (el) {
      var last = groups[groups.length - 1];
      if (last && last[0].parentNode === el.parentNode) last.push(el); else groups.push([el]);
    });
    groups.forEach(function (items) {
      var after = items[items.length - 1].nextSibling, parent = items[0].parentNode;
      items.map(function (el) {
        var option = parseInt((el.dataset.option ? el : el.querySelector("[data-option]")).dataset.option, 10);
        return { el: el, option: option, key: orderKey(form.dataset.ballotId, who, 0, option) };
      }).sort(function (a, b) { return a.key - b.key || a.option - b.option; })
        .forEach(function (item) { parent.insertBefore(item.el, after); });
    });
  }

  function setUpPaper(form) {
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    if (form.dataset.order === "page") makeOwn(form);
    form.classList.add("js");
    var st = load(form);
    if (form.dataset.method === "ranking") {
      // The server marks a named ballot's places; put those items in the ranked list, in order.
      var placed = all(form, ".rank-item").filter(function (li) { return li.dataset.place; });
      placed.sort(function (a, b) { return a.dataset.place - b.dataset.place; });
      placed.forEach(function (li) { form.querySelector(".ranked").appendChild(li); });
    }
    if (st.pending) {
      applyChoices(form, st.pending); // sent, never answered: it goes again once connected
    } else if (form.dataset.voted === "true") {
      if (form.dataset.secret === "true") {
        if (st.secret && st.choices) {
          applyChoices(form, st.choices);
          form.querySelector(".receipt-code").textContent = st.receipt || "";
          hideReplaceLost(form);
        } else {
          // Voted from elsewhere: the phone that holds the secret changes the vote, or this
          // one replaces it with the box ticked (the earlier paper is withdrawn unseen).
          var box = form.querySelector("[data-form-error]");
          box.textContent = form.dataset.labelElsewhere;
          box.hidden = false;
          box.classList.remove("error");
          form.querySelector(".receipt").hidden = true;
        }
      }
    } else if (st.draft) {
      applyChoices(form, st.draft);
    }
    refresh(form);
    form.addEventListener("click", function (ev) { onClick(form, ev); });
    if (form.dataset.method === "ranking") {
      form.addEventListener("pointerdown", function (ev) { startDrag(form, ev); });
    }
    form.addEventListener("change", function () { changed(form); });
    form.addEventListener("input", function () { refresh(form); });
    form.addEventListener("submit", function (ev) { onSubmit(form, ev); });
  }

  // Receipts of closed ballots: a secret ballot's code is known only to the phone.
  function setUpReceiptNotes(root) {
    all(root, ".receipt-note").forEach(function (note) {
      var code = note.querySelector(".receipt-code");
      if (code.textContent.trim()) return;
      var st = load(note);
      if (st.receipt) code.textContent = st.receipt; else note.hidden = !note.dataset.receipt;
    });
  }

  var countdowns = [];
  function setUpCountdowns(root) {
    all(root, ".countdown[data-remaining-ms]").forEach(function (el) {
      if (el.dataset.ready) return;
      el.dataset.ready = "1";
      el.endsAt = performance.now() + parseInt(el.dataset.remainingMs, 10);
      countdowns.push(el);
    });
    tick();
  }
  function tick() {
    countdowns = countdowns.filter(function (el) { return document.body.contains(el); });
    countdowns.forEach(function (el) {
      var total = Math.max(0, Math.ceil((el.endsAt - performance.now()) / 1000));
      var m = Math.floor(total / 60), s = total % 60;
      el.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      el.classList.toggle("ending", total < 60);
    });
  }
  setInterval(tick, 500);

  function setUp(root) {
    all(root, "form.paper").forEach(setUpPaper);
    all(root, "form.paper").forEach(function (form) {
      if (live() && live().socket.connected) resendPending(form);
    });
    setUpReceiptNotes(root);
    setUpCountdowns(root);
  }

  // --- Live updates -------------------------------------------------------------------------

  function showTurnout(t) {
    var top = best[t.ballot_id];
    if (top && top.voted > t.voted) return; // an older count overtaken by a newer one
    best[t.ballot_id] = t;
    all(document, '.turnout[data-ballot-id="' + t.ballot_id + '"]').forEach(function (box) {
      var voted = box.querySelector(":scope > * .voted, :scope > .voted");
      var eligible = box.querySelector(":scope > * .eligible, :scope > .eligible");
      if (voted) voted.textContent = t.voted;
      if (eligible) eligible.textContent = t.eligible;
      all(box, "[data-region]").forEach(function (li) {
        var r = t.by_region[li.dataset.region] || { voted: 0, eligible: 0 };
        // A secret ballot's region with fewer than k voters comes as null: say so, no count.
        var hiddenCount = r.voted === null;
        li.querySelector(".voted").textContent = hiddenCount ? (box.dataset.fewer || "") : r.voted;
        li.querySelector(".eligible").textContent = r.eligible;
        var bar = li.querySelector("progress");
        if (bar) { bar.max = r.eligible || 1; bar.value = r.voted || 0; bar.hidden = hiddenCount; }
        li.hidden = !r.eligible;
      });
    });
  }

  // Results that just came in on a phone are said once by screen readers (#news, live).
  function announceResults(had) {
    var news = document.getElementById("news"), title = document.querySelector("#step .ballot-title");
    if (had || !news || !title || !document.querySelector("#step .results")) return;
    Live.announce(news, news.dataset.labelResults.replace("__TITLE__", title.textContent.trim()));
  }

  var reloading = 0;
  function reloadStep() {
    var root = document.getElementById("live");
    if (!root || !root.dataset.fragment) return;
    var ticket = ++reloading;
    fetch(root.dataset.fragment, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        if (ticket !== reloading) return;
        var had = document.querySelector("#step .results");
        document.getElementById("step").innerHTML = html;
        announceResults(had);
      })
      .catch(function () { setTimeout(function () { if (ticket === reloading) reloadStep(); }, 2000); });
  }

  function reloadPanel() {
    var panel = document.getElementById("voting-panel");
    if (!panel) return;
    fetch(panel.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { panel.innerHTML = html; setUp(panel); })
      .catch(function () { /* the next event or a reload tries again */ });
  }

  function onBallot(b) {
    if (document.getElementById("voting-panel")) { reloadPanel(); return; }
    var step = document.querySelector("#step .step");
    if (!step || (step.dataset.kind !== "vote" && step.dataset.kind !== "results")) return;
    var shown = document.getElementById("ballot");
    var same = shown && shown.dataset.ballotId === String(b.ballot_id);
    if (same && shown.dataset.status === b.status &&
        shown.dataset.resultsVisible === String(b.results_visible)) {
      // Only the closing time moved: keep what the delegate is filling in.
      all(shown, ".countdown").forEach(function (el) {
        if (b.remaining_ms !== null) el.endsAt = performance.now() + b.remaining_ms;
      });
      return;
    }
    if (!same && shown && shown.dataset.status === "open" && b.status !== "open") return;
    // The ballot as every phone is shown it, when it came along and fits this delegate.
    if (!(window.Live.showPart && Live.showPart(b.phone))) reloadStep();
  }

  /* Proxies or the register changed for this delegate, or they voted on the ballot shown from
   * another page: an open ballot's papers are redrawn (not on the page that sent that vote). */
  document.addEventListener("live:marks", function (ev) {
    var shown = document.getElementById("ballot");
    if (!shown || shown.dataset.status !== "open") return;
    var own = shown.querySelector('form.paper[data-own="true"]');
    var redraw = ev.detail.some(function (mark) {
      if (mark.indexOf(votedMark("")) !== 0) return true;
      return mark === votedMark(shown.dataset.ballotId) && !!own &&
        own.dataset.voted !== "true" && !load(own).pending;
    });
    if (redraw) reloadStep();
  });

  function attach(conn) {
    if (!conn || conn.ballotReady) return;
    conn.ballotReady = true;
    conn.socket.on("ballot", onBallot);
    conn.socket.on("ballot.turnout", showTurnout);
    conn.socket.on("connect", function () { if (document.getElementById("voting-panel")) reloadPanel(); });
  }

  var step = document.getElementById("step");
  if (step && window.MutationObserver) {
    new MutationObserver(function () { setUp(step); }).observe(step, { childList: true });
  }
  setUp(document);
  reloadPanel();
  // Every (re)connection sends again what is still pending (see resendPending).
  document.addEventListener("live:connected", function () {
    all(document, "form.paper").forEach(resendPending);
  });
  if (live()) attach(live()); else document.addEventListener("live:ready", function () { attach(live()); });
})();
