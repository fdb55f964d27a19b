/* Phone and projector: follow the facilitator. A new step's content is fetched as an HTML
 * fragment rendered by the server (in the reader's language, user text escaped), or comes
 * with the state when it is the same for every phone (workshop/agenda/pushed.py). */
(function () {
  "use strict";
  var live;
  var wanted = 0;
  var coming = null; // the step key being fetched or inflated: the same state again waits
  /* What this page keeps of its delegate (workshop/steps.py, MARKS): a part drawn for every
   * phone that names one of its marks (`fetch_if`: proxies carried, not on the register, this
   * ballot voted) is not this delegate's, and the page fetches its own. The server sends
   * `marks` on every connection and when one changes; a receipt marks its ballot voted
   * (ballot.js, Live.mark). */
  var kept = JSON.parse(document.getElementById("live").dataset.keeps || "{}");
  var marks = kept.marks || {};
  function fits(part) {
    return !(part.fetch_if || []).some(function (mark) { return marks[mark]; });
  }

  // Screen readers say it once (#news is a live region; the step itself is not one).
  function say(label, title) {
    var news = document.getElementById("news");
    if (news) Live.announce(news, news.dataset[label].replace("__TITLE__", title));
  }

  /* The page came with the current step's scripts only; a step of another kind brings its
   * own (in order, once each). Each script sets itself up on the step already shown. */
  function loadScripts() {
    var step = document.querySelector("#step .step");
    var needed = JSON.parse(live.root.dataset.stepScripts || "{}")[step ? step.dataset.kind : ""] || [];
    var have = {};
    var tags = document.getElementsByTagName("script");
    for (var i = 0; i < tags.length; i++) have[tags[i].getAttribute("src")] = true;
    needed.forEach(function (src) {
      if (have[src]) return;
      var tag = document.createElement("script");
      tag.src = src;
      tag.async = false; // in the listed order (a library before the script that uses it)
      document.body.appendChild(tag);
    });
  }

  function show(stepId, html, clock, quiet) {
    var step = document.getElementById("step");
    step.innerHTML = html;
    // Closing times drawn for every phone: counted down from the server's clock at sending.
    step.querySelectorAll("[data-closes-at]").forEach(function (el) {
      el.dataset.remainingMs = String(Math.max(0, parseInt(el.dataset.closesAt, 10) - clock));
    });
    // A part drawn for every phone has blank tokens and keys: this page's own go in.
    var csrf = document.querySelector('meta[name="csrf-token"]').content;
    step.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
      if (!input.value) input.value = csrf;
    });
    step.querySelectorAll('input[name="request_id"]').forEach(function (input) {
      if (!input.value) input.value = Live.newRequestId();
    });
    live.root.dataset.step = String(stepId);
    coming = null;
    loadScripts();
    var title = document.querySelector("#step .step-title");
    if (title && !quiet) say("labelStep", title.textContent.trim());
  }

  function loadStep(stepId) {
    var ticket = ++wanted;
    coming = String(stepId);
    fetch(live.root.dataset.fragment, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        if (ticket === wanted) show(stepId, html); // else a later step arrived meanwhile
      })
      .catch(function () { setTimeout(function () { if (ticket === wanted) loadStep(stepId); }, 2000); });
  }

  /* A step drawn for every phone comes with the state, gzip-compressed (as base64): shown
   * without a request. A browser that cannot inflate it fetches the step as for any other. */
  function canInflate(part) {
    return !!(window.DecompressionStream && live.root.dataset.pushed && fits(part));
  }

  function showSent(part, quiet) {
    var stepId = part.key;
    if (!canInflate(part)) return loadStep(stepId);
    var ticket = ++wanted;
    coming = String(stepId);
    var text = atob(part.gzip);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    new Response(stream).text()
      .then(function (html) { if (ticket === wanted) show(stepId, html, part.clock, quiet); })
      .catch(function () { if (ticket === wanted) loadStep(stepId); });
  }

  // Opened from an invitation link, the page is drawn at once under that link's address:
  // show its own, so a reload or a bookmark is the page, not the link again.
  var address = document.getElementById("live").dataset.address;
  if (address && location.pathname !== address) history.replaceState(null, "", address);

  live = Live.connect({
    onState: function (state) {
      var key = state.step ? state.step.key : "";
      if (String(key) !== live.root.dataset.step && String(key) !== coming) {
        if (state.phone && state.phone.key === key) showSent(state.phone);
        else loadStep(key);
      }
      Live.showTimer(state.timer);
      Live.showJoined(state.joined);
    }
  });
  live.socket.on("marks", function (sent) {
    var changed = Object.keys(sent).filter(function (mark) { return !marks[mark] !== !sent[mark]; });
    changed.forEach(function (mark) { marks[mark] = sent[mark]; });
    if (changed.length) document.dispatchEvent(new CustomEvent("live:marks", { detail: changed }));
  });
  Live.mark = function (mark) { marks[mark] = true; };
  Live.delegateId = kept.delegate_id; // a paper drawn for everyone is made theirs (ballot.js)
  /* A new drawing of the step already shown (a ballot opened or closed on it), as it came
   * with an event: shown without a request, when it fits; false when the page must fetch. */
  Live.showPart = function (part) {
    if (!part || String(part.key) !== live.root.dataset.step || !canInflate(part)) return false;
    showSent(part, true);
    return true;
  };
})();
