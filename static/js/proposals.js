/* Proposals on phones, the projector and the moderation page: live cards, +1, comments,
 * filters and sorting. Cards arrive as HTML rendered (and escaped) by the server. */
(function () {
  "use strict";
  var mine = {};

  function live() {
    if (!window.Live.current && document.getElementById("live")) {
      Live.connect({ onState: function () {} });
    }
    return window.Live.current;
  }

  /* A list drawn for every phone (sent with the state) says which line each proposal is in,
   * not what this delegate supports: the page was given the proposals they support when it
   * loaded (#live's data-keeps), kept up to date here as they support and withdraw. */
  var keptSupported = null;
  var lineOf = {};

  function supportedProposals() {
    if (keptSupported === null) {
      var root = document.getElementById("live");
      var keeps = root && root.dataset.keeps ? JSON.parse(root.dataset.keeps) : {};
      keptSupported = {};
      (keeps.supported_proposals || []).forEach(function (id) { keptSupported[id] = true; });
    }
    return keptSupported;
  }

  function readSupported() {
    var lists = document.querySelectorAll(".proposals[data-supported]");
    for (var i = 0; i < lists.length; i++) {
      JSON.parse(lists[i].dataset.supported || "[]").forEach(function (id) { mine[id] = true; });
      if (!lists[i].dataset.lineOf) continue;
      lineOf = JSON.parse(lists[i].dataset.lineOf);
      Object.keys(supportedProposals()).forEach(function (id) {
        if (lineOf[id] !== undefined) mine[lineOf[id]] = true;
      });
    }
  }

  function keepSupport(lineId, on) {
    var kept = supportedProposals();
    if (on) { kept[lineId] = true; return; }
    Object.keys(kept).forEach(function (id) {
      if (String(id) === String(lineId) || String(lineOf[id]) === String(lineId)) delete kept[id];
    });
  }

  function paintSupport(root) {
    var buttons = (root || document).querySelectorAll("button.support");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", mine[buttons[i].dataset.proposalId] ? "true" : "false");
    }
  }

  function arrange() {
    var list = document.getElementById("cards");
    if (!list) return;
    var filters = document.querySelectorAll("[data-filter]");
    var sort = document.querySelector("[data-sort]");
    var cards = Array.prototype.slice.call(list.querySelectorAll(":scope > .card"));
    var key = sort ? sort.value : "created";
    cards.sort(function (a, b) {
      return (parseInt(b.dataset[key], 10) - parseInt(a.dataset[key], 10)) ||
             (parseInt(b.dataset.created, 10) - parseInt(a.dataset.created, 10));
    });
    var shown = 0;
    cards.forEach(function (card) {
      var ok = true;
      for (var i = 0; i < filters.length; i++) {
        var want = filters[i].value, facet = filters[i].dataset.filter;
        if (want && (" " + (card.dataset[facet] || "") + " ").indexOf(" " + want + " ") < 0) ok = false;
      }
      card.hidden = !ok;
      if (ok) shown++;
      list.appendChild(card);
    });
    var count = document.querySelector(".line-count");
    if (count) count.textContent = cards.length;
  }

  function onCard(data) {
    var banner = document.getElementById("new-proposals");
    if (banner) { banner.hidden = false; return; } // moderation page: reload to moderate
    var existing = document.getElementById("proposal-" + data.id);
    var holder = document.createElement("div");
    holder.innerHTML = data.html;
    var card = holder.firstElementChild;
    // A line merged from proposals this delegate supported is supported too.
    if ((data.members || []).some(function (id) { return mine[id]; })) mine[data.id] = true;
    (data.members || []).forEach(function (id) { lineOf[id] = data.id; });
    if (existing) existing.replaceWith(card);
    else {
      var list = document.getElementById("cards");
      if (!list) return;
      list.insertBefore(card, list.firstChild);
    }
    paintSupport(card.parentNode);
    arrange();
  }

  function showCounts(data) {
    var card = document.getElementById("proposal-" + data.id);
    if (!card) return false;
    card.dataset.supporters = data.supporters;
    card.dataset.comments = data.comments;
    card.querySelector(".supporters").textContent = data.supporters;
    card.querySelector(".comments").textContent = data.comments;
    return true;
  }

  function onCounts(data) {
    if (showCounts(data)) arrange();
  }

  // A rush of +1s and comments comes as one message of several lines' counts: one arrange.
  function onManyCounts(data) {
    var shown = data.lines.map(showCounts);
    if (shown.indexOf(true) !== -1) arrange();
  }

  function onRemoved(data) {
    data.ids.forEach(function (id) {
      var card = document.getElementById("proposal-" + id);
      if (card && !document.getElementById("new-proposals")) card.remove();
    });
    arrange();
  }

  function onComment(data) {
    var root = document.getElementById("live");
    if (!root || String(root.dataset.line) !== String(data.line_id)) return;
    if (document.getElementById("comment-" + data.id)) return;
    var holder = document.createElement("ul");
    holder.innerHTML = data.html;
    var item = holder.firstElementChild;
    var parent = data.parent_id && document.querySelector("#comment-" + data.parent_id + " > .replies");
    (parent || document.getElementById("comments")).appendChild(item);
  }

  /* The discussion page's suggested translations and translation history are drawn for
   * each reader (the author and staff see accept / reject): fetch them again when a
   * suggestion comes or is decided, or when the line itself changes. */
  var refreshing = null;
  function refreshTranslations(data) {
    var root = document.getElementById("live");
    var box = document.getElementById("translations");
    if (!root || !box || String(root.dataset.line) !== String(data.line_id || data.id)) return;
    if (refreshing) refreshing.abort();
    refreshing = new AbortController();
    fetch(box.dataset.url, { credentials: "same-origin", signal: refreshing.signal })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) box.innerHTML = html; })
      .catch(function () {});
  }

  function attach() {
    var current = live();
    if (!current || current.proposalsAttached) return;
    current.proposalsAttached = true;
    current.socket.on("proposal.card", onCard);
    current.socket.on("proposal.card", refreshTranslations);
    // A rush of new lines comes as one message of their cards (each as `proposal.card`).
    current.socket.on("proposal.cards", function (data) {
      data.cards.forEach(function (card) { onCard(card); refreshTranslations(card); });
    });
    current.socket.on("proposal.counts", onCounts);
    current.socket.on("proposal.counts.many", onManyCounts);
    current.socket.on("proposal.removed", onRemoved);
    current.socket.on("comment.created", onComment);
    current.socket.on("translation.suggested", refreshTranslations);
    current.socket.on("translation.decided", refreshTranslations);
    followDiscussion(current);
  }

  /* A line's comments go only to the screens following its discussion. A socket follows the
   * line its page shows (#live's data-line) from each connection (live.js sends it); when
   * the page shows another line (the projector's spotlight moving), it says so. */
  function followDiscussion(current) {
    var root = document.getElementById("live");
    if (!root) return;
    var followed = root.dataset.authLine || null;
    function follow() {
      var line = root.dataset.line;
      // Unchanged, or not connected (the reconnection will send it): nothing to say.
      if (!line || line === followed || !current.socket.connected) return;
      followed = line;
      current.socket.emit("discussion.open",
        { workshop_id: current.workshopId, proposal_id: parseInt(line, 10) });
    }
    // The line may have changed between the handshake and its answer: say so then.
    current.socket.on("connect", function () { followed = root.dataset.authLine || null; follow(); });
    new MutationObserver(follow).observe(root, { attributes: true, attributeFilter: ["data-line"] });
  }

  var OPS = ["proposal.create", "proposal.comment", "proposal.translate", "translation.suggest",
             "translation.accept", "translation.reject"];

  function formPayload(form) {
    var data = { workshop_id: window.Live.current.workshopId };
    if (form.dataset.proposalId) data.proposal_id = parseInt(form.dataset.proposalId, 10);
    if (form.dataset.suggestionId) data.suggestion_id = parseInt(form.dataset.suggestionId, 10);
    new FormData(form).forEach(function (value, key) {
      if (key === "csrf_token" || value === "") return;
      if (key === "tags") { (data.tags = data.tags || []).push(value); return; }
      data[key] = key === "parent_id" ? parseInt(value, 10) : value;
    });
    return data;
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var op = form.dataset.op;
    if (OPS.indexOf(op) < 0) return;
    if (!window.Live.current) return; // plain post
    var keyed = form.querySelector('[name="request_id"]');
    // Offline, an action with an idempotency key waits in the outbox; others post the form.
    if (!window.Live.current.socket.connected && !keyed) return;
    ev.preventDefault();
    Live.submitOperation(form, formPayload(form), function (ack) {
      var here = { line_id: document.getElementById("live").dataset.line };
      if (op === "translation.accept" || op === "translation.reject") {
        refreshTranslations(here);
        return;
      }
      if (op === "translation.suggest") refreshTranslations(here); // list it as waiting
      cleared(form);
    });
  });

  /* A form whose action was stored: empty it, ready (with a new key) for the next one. */
  function cleared(form) {
    form.reset();
    var sent = form.querySelector("[data-sent]");
    if (sent) sent.hidden = false;
    var box = form.querySelector("[data-form-error]");
    if (box) box.hidden = true;
    var replying = form.querySelector(".replying");
    if (replying) replying.hidden = true;
    var parent = form.querySelector('[name="parent_id"]');
    if (parent) parent.value = ""; // reset() keeps a hidden input's value
    var key = form.querySelector('[name="request_id"]');
    if (key) key.value = Live.newRequestId();
  }

  // A kept proposal or comment answered after a reconnection: the form it came from (if this
  // page still shows it, with that text) is cleared as if the answer had come at once, or
  // says why it was refused (the step moved on meanwhile, say), keeping the text.
  Live.onDelivered(function (entry, ack) {
    var form = entry.form && document.getElementById(entry.form);
    var key = form && form.querySelector('[name="request_id"]');
    if (!key || key.value !== entry.payload.request_id) return;
    if (ack && ack.ok) cleared(form); else if (ack) Live.showRefusal(form, ack);
  });

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("button.support");
    if (button && window.Live.current) {
      var id = button.dataset.proposalId;
      var on = button.getAttribute("aria-pressed") !== "true";
      window.Live.current.socket.timeout(15000).emit("proposal.support",
        { workshop_id: window.Live.current.workshopId, proposal_id: parseInt(id, 10), on: on },
        function (err, ack) {
          if (err || !ack.ok) {
            if (ack && ack.message) alertBox(button, ack.message);
            return;
          }
          if (ack.on) mine[id] = true; else delete mine[id];
          keepSupport(id, ack.on);
          paintSupport();
        });
      return;
    }
    var reply = ev.target.closest("button.reply");
    if (reply) {
      var form = document.getElementById("comment-form");
      form.querySelector('[name="parent_id"]').value = reply.dataset.parentId;
      form.querySelector(".replying").hidden = false;
      form.querySelector("textarea").focus();
      return;
    }
    var cancel = ev.target.closest("[data-cancel-reply]");
    if (cancel) {
      var f = document.getElementById("comment-form");
      f.querySelector('[name="parent_id"]').value = "";
      f.querySelector(".replying").hidden = true;
      return;
    }
    var pick = ev.target.closest("[data-preselect]");
    if (pick) {
      pick.dataset.preselect.split(" ").forEach(function (id) {
        var box = document.querySelector('input[name="proposal_ids"][value="' + id + '"]');
        if (box) box.checked = true;
      });
      document.getElementById("m-title").focus();
    }
  });

  function alertBox(near, text) {
    var p = document.createElement("p");
    p.className = "flash error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    near.closest(".card").appendChild(p);
  }

  document.addEventListener("change", function (ev) {
    if (ev.target.matches("[data-filter], [data-sort]")) arrange();
  });

  // The step part of the phone page is replaced when the step changes: redo the set-up.
  var observed = document.getElementById("step");
  if (observed) new MutationObserver(function () { readSupported(); paintSupport(); arrange(); })
    .observe(observed, { childList: true });
  document.addEventListener("live:ready", attach);
  readSupported();
  paintSupport();
  arrange();
  attach();
})();
