/* Facilitator console: buttons send their operation over the socket (falling back to the
 * plain form post when offline) and the page follows the shared state. */
(function () {
  "use strict";
  var errorBox = document.getElementById("op-error");
  var live = Live.connect({
    onState: function (state) {
      var current = state.step ? String(state.step.id) : "";
      var items = document.querySelectorAll("#agenda [data-step-id]");
      for (var i = 0; i < items.length; i++) {
        items[i].classList.toggle("current", items[i].dataset.stepId === current);
      }
      live.root.dataset.step = current;
      if (live.root.dataset.agenda && state.agenda !== live.root.dataset.agenda) location.reload();
      Live.showTimer(state.timer);
      Live.showJoined(state.joined);
      showSpotlight(state);
    },
    onDelegate: function (d) {
      var list = document.getElementById("delegates");
      var li = list.querySelector('[data-delegate-id="' + d.id + '"]');
      if (!li) {
        li = document.createElement("li");
        li.dataset.delegateId = d.id;
        li.innerHTML = '<span class="dot" aria-hidden="true"></span><span class="name"></span> <span class="muted org"></span>';
        list.insertBefore(li, list.firstChild);
      }
      li.className = d.online ? "online" : "offline";
      li.querySelector(".name").textContent = d.name;
      li.querySelector(".org").textContent = d.organisation + " · " + d.country;
      waiting(d);
    }
  });

  /* The voting register: a new join by code waits for a facilitator; admitted or rejected
   * delegates leave the list. */
  function waiting(d) {
    var list = document.getElementById("waiting");
    if (!list) return;
    var li = list.querySelector('[data-delegate-id="' + d.id + '"]');
    if (d.admitted || d.rejected) { if (li) li.remove(); }
    else if (!li) {
      li = document.createElement("li");
      li.dataset.delegateId = d.id;
      var name = document.createElement("span"); name.className = "name"; name.textContent = d.name;
      var org = document.createElement("span"); org.className = "muted org"; org.textContent = " " + d.organisation + " · " + d.country;
      li.appendChild(name); li.appendChild(org);
      [["true", list.dataset.labelAdmit, ""], ["false", list.dataset.labelReject, "danger"]].forEach(function (b) {
        var form = document.createElement("form");
        form.method = "post"; form.action = list.dataset.admitUrl; form.className = "inline";
        form.dataset.op = "delegate.admit";
        [["csrf_token", list.dataset.csrf], ["delegate_id", String(d.id)], ["admitted", b[0]]].forEach(function (f) {
          var input = document.createElement("input"); input.type = "hidden"; input.name = f[0]; input.value = f[1];
          form.appendChild(input);
        });
        var button = document.createElement("button"); button.type = "submit"; button.textContent = b[1];
        if (b[2]) button.className = b[2];
        form.appendChild(button); li.appendChild(form);
      });
      list.insertBefore(li, list.firstChild);
    }
    var count = document.getElementById("waiting-count");
    if (count) count.textContent = list.children.length;
  }

  /* On a discuss step: the lines of work, each with "Spotlight on projector" (the list is
   * drawn by the server; the line shown now follows the shared state). */
  var spotlit = null;
  function reloadSpotlight() {
    var section = document.getElementById("spotlight-section");
    if (!section || section.hidden) return;
    fetch(section.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { document.getElementById("spotlight-panel").innerHTML = html; markSpotlight(); })
      .catch(function () {
        // Not drawn (a busy server, a dropped link): the next state, or this retry, tries again.
        delete section.dataset.loaded;
        window.setTimeout(function () { if (!section.dataset.loaded) showSpotlight(lastState); }, 3000);
      });
  }
  function markSpotlight() {
    var items = document.querySelectorAll("#spot-lines [data-proposal-id]");
    for (var i = 0; i < items.length; i++) {
      var on = items[i].dataset.proposalId === String(spotlit);
      items[i].classList.toggle("current", on);
      items[i].querySelector("button").setAttribute("aria-pressed", on ? "true" : "false");
    }
    var clear = document.getElementById("spotlight-clear");
    if (clear) clear.disabled = spotlit === null;
  }
  var lastState = {};
  function showSpotlight(state) {
    lastState = state;
    var section = document.getElementById("spotlight-section");
    if (!section) return;
    var spot = state.spotlight || {};
    spotlit = spot.kind === "proposal" ? spot.id : null;
    section.hidden = !(state.step && state.step.kind === "discuss");
    var step = state.step ? String(state.step.id) : "";
    if (!section.hidden && section.dataset.loaded !== step) {
      section.dataset.loaded = step;
      reloadSpotlight();
    }
    markSpotlight();
  }

  function payload(form) {
    var data = { workshop_id: live.workshopId };
    if (form.dataset.stepId) data.step_id = parseInt(form.dataset.stepId, 10);
    new FormData(form).forEach(function (value, key) {
      if (key === "csrf_token" || value === "") return;
      data[key] = key === "seconds" ? parseInt(value, 10) : value;
    });
    return data;
  }

  live.socket.on("proposal.card", reloadSpotlight);
  live.socket.on("proposal.cards", reloadSpotlight);
  live.socket.on("proposal.removed", reloadSpotlight);

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var op = form.dataset.op;
    if (!op || !live.socket.connected) return; // plain form post
    ev.preventDefault();
    errorBox.hidden = true;
    live.socket.timeout(10000).emit(op, payload(form), function (err, ack) {
      if (err) { errorBox.textContent = errorBox.dataset.timeoutText; errorBox.hidden = false; return; }
      if (!ack.ok) {
        errorBox.textContent = ack.message + " " + Object.values(ack.fields || {}).join(" ");
        errorBox.hidden = false;
      } else if (op === "message.broadcast" || op === "timer.start") {
        form.reset(); // a later Start resumes instead of restarting from this duration
      }
    });
  });
})();
