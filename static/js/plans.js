/* Action plans: co-writing live.
 *
 * Each field saves itself a moment after typing stops, one edit in flight at a time, with the
 * version it was written from; the server merges it with what others saved meanwhile. Changes
 * from others are merged into what is being typed (diff-match-patch), never written over it.
 * Unsent edits are kept on the phone (localStorage) with an idempotency key and sent once the
 * link is back, after every reconnect and after a reload. Where two people changed the same
 * words, the phone shows both versions and the person chooses. */
(function () {
  "use strict";
  var dmp = window.diff_match_patch ? new window.diff_match_patch() : null;
  if (dmp) {
    // Strict matching, as on the server: a patch applies where its context is found nearly
    // exactly, or not at all (then it is a conflict, never a guess).
    dmp.Match_Threshold = 0.1; dmp.Patch_DeleteThreshold = 0.1;
    dmp.Match_Distance = 1000; dmp.Diff_Timeout = 0.5;
  }
  var DEBOUNCE_TEXT = 400, DEBOUNCE_ROWS = 500, ACK_TIMEOUT = 15000;
  var editors = [];

  function live() {
    if (!window.Live.current && document.getElementById("live")) {
      Live.connect({ onState: function () {} });
    }
    return window.Live.current;
  }
  function uid() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b % 36).toString(36); }).join("");
  }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  /* ---- Three-way merge, the same rules as the server's (workshop/plans/merge.py) ---- */
  function spans(base, other) {  // the parts of `base` that `other` changed, as [from, to]
    var out = [], pos = 0;
    dmp.diff_main(base, other).forEach(function (d) {
      if (d[0] === 0) { pos += d[1].length; }
      else if (d[0] === -1) { out.push([pos, pos + d[1].length]); pos += d[1].length; }
      else { out.push([pos, pos]); }
    });
    return out;
  }
  function overlaps(base, mine, theirs) {  // both changed (or touched) the same span of base
    var a = spans(base, mine), b = spans(base, theirs);
    for (var i = 0; i < a.length; i++) {
      for (var j = 0; j < b.length; j++) { if (a[i][0] <= b[j][1] && b[j][0] <= a[i][1]) return true; }
    }
    return false;
  }
  function mergeText(base, mine, theirs) {
    if (mine === base || mine === theirs) return theirs;
    if (theirs === base) return mine;
    if (!dmp || overlaps(base, mine, theirs)) return null;
    var result = dmp.patch_apply(dmp.patch_make(base, mine), theirs);
    for (var i = 0; i < result[1].length; i++) { if (!result[1][i]) return null; }
    return result[0];
  }
  function mergeScalar(base, mine, theirs) {
    if (same(mine, base) || same(mine, theirs)) return theirs;
    if (same(theirs, base)) return mine;
    if (typeof base === "string" && typeof mine === "string" && typeof theirs === "string") {
      return mergeText(base, mine, theirs);
    }
    return null;
  }
  function byId(rows) { var m = {}; rows.forEach(function (r) { m[r._id] = r; }); return m; }
  function mergeRow(base, mine, theirs) {
    var out = {}, keys = Object.keys(theirs).concat(Object.keys(mine));
    for (var i = 0; i < keys.length; i++) {
      var k = keys[i];
      if (k in out) continue;
      var dflt = typeof (k in mine ? mine[k] : theirs[k]) === "boolean" ? false : "";
      var v = mergeScalar(k in base ? base[k] : dflt, k in mine ? mine[k] : dflt,
                          k in theirs ? theirs[k] : dflt);
      if (v === null) return null;
      out[k] = v;
    }
    return out;
  }
  function mergeRows(base, mine, theirs) {
    var b = byId(base), m = byId(mine), t = byId(theirs), out = [], i, r;
    for (i = 0; i < theirs.length; i++) {
      r = theirs[i];
      if (r._id in m) { var merged = mergeRow(b[r._id] || {}, m[r._id], r); if (!merged) return null; out.push(merged); }
      else if (r._id in b) { if (!same(r, b[r._id])) return null; }
      else out.push(r);
    }
    for (i = 0; i < mine.length; i++) {
      r = mine[i];
      if (r._id in t) continue;
      if (r._id in b) { if (!same(r, b[r._id])) return null; continue; }
      out.push(r);
    }
    return out;
  }
  function mergeSet(base, mine, theirs) {
    var out = theirs.filter(function (v) { return !(base.indexOf(v) >= 0 && mine.indexOf(v) < 0); });
    mine.forEach(function (v) { if (base.indexOf(v) < 0 && out.indexOf(v) < 0) out.push(v); });
    return out;
  }
  function mergeValue(field, base, mine, theirs) {
    if (same(mine, base) || same(mine, theirs)) return theirs;
    if (same(theirs, base)) return mine;
    if (field.kind === "text" || field.kind === "longtext") return mergeText(base, mine, theirs);
    if (field.kind === "list" || field.kind === "table") return mergeRows(base, mine, theirs);
    if (field.kind === "choice" && field.multiple) return mergeSet(base, mine, theirs);
    return null;
  }

  /* ---- Rows of a list or table field ---- */
  function cellInput(column, value, label) {
    var el;
    if (column.kind === "check") {
      el = document.createElement("input"); el.type = "checkbox"; el.checked = !!value;
    } else if (column.kind === "choice") {
      el = document.createElement("select");
      var blank = document.createElement("option"); blank.value = ""; blank.textContent = "—"; el.appendChild(blank);
      Object.keys(column.options || {}).forEach(function (k) {
        var o = document.createElement("option"); o.value = k; o.textContent = column.options[k]; el.appendChild(o);
      });
      el.value = value || "";
    } else {
      el = document.createElement("textarea"); el.rows = 1; el.value = value || "";
    }
    el.dataset.col = column.key;
    el.setAttribute("aria-label", label);
    return el;
  }
  /* A table wider than a phone scrolls sideways inside its box: keyboard users must reach
   * that scroll too, so the box is a focusable, named region (WCAG 2.1.1). */
  function scrollRegion(table, labelledBy, label) {
    var wrap = document.createElement("div");
    wrap.className = "table-wrap"; wrap.tabIndex = 0; wrap.setAttribute("role", "region");
    if (labelledBy) wrap.setAttribute("aria-labelledby", labelledBy);
    else if (label) wrap.setAttribute("aria-label", label);
    wrap.appendChild(table);
    return wrap;
  }
  function drawRows(field) {
    var box = field.input, rows = field.current || [];
    var focused = document.activeElement, keep = null;
    if (focused && box.contains(focused) && focused.dataset.col) {
      keep = { row: focused.closest("tr").dataset.id, col: focused.dataset.col,
               start: focused.selectionStart, end: focused.selectionEnd };
    }
    var columns = field.columns, editor = field.editor.el;
    var table = document.createElement("table"); table.className = "ptable";
    if (columns.length > 1) {
      var head = table.createTHead().insertRow();
      columns.forEach(function (c) { var th = document.createElement("th"); th.scope = "col"; th.textContent = c.label; head.appendChild(th); });
      head.appendChild(document.createElement("th"));
    }
    var body = table.createTBody();
    rows.forEach(function (row, i) {
      var tr = body.insertRow(); tr.dataset.id = row._id;
      columns.forEach(function (c) {
        var td = tr.insertCell();
        td.appendChild(cellInput(c, row[c.key], c.label + " " + (i + 1)));
      });
      var td = tr.insertCell(), rm = document.createElement("button");
      rm.type = "button"; rm.className = "remove-row"; rm.textContent = "×";
      rm.setAttribute("aria-label", editor.dataset.textRemoveRow + " " + (i + 1));
      rm.disabled = !field.editor.writable;
      td.appendChild(rm);
    });
    box.innerHTML = "";
    var wrap = scrollRegion(table, box.getAttribute("aria-labelledby"));
    box.appendChild(wrap);
    var add = document.createElement("button"); add.type = "button"; add.className = "add-row";
    add.textContent = editor.dataset.textAddRow; add.disabled = !field.editor.writable;
    box.appendChild(add);
    box.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !field.editor.writable; });
    if (keep) {
      var back = box.querySelector('tr[data-id="' + keep.row + '"] [data-col="' + keep.col + '"]');
      if (back) { back.focus(); if (back.setSelectionRange && keep.start !== null) { try { back.setSelectionRange(keep.start, keep.end); } catch (e) { /* not a text input */ } } }
    }
  }
  function readRows(field) {
    var out = [];
    field.input.querySelectorAll("tbody tr").forEach(function (tr) {
      var row = { _id: tr.dataset.id };
      tr.querySelectorAll("[data-col]").forEach(function (el) {
        row[el.dataset.col] = el.type === "checkbox" ? el.checked : el.value;
      });
      out.push(row);
    });
    return out;
  }

  /* ---- One field ---- */
  function Field(editor, el) {
    this.editor = editor; this.el = el;
    this.key = el.dataset.field; this.kind = el.dataset.kind;
    this.multiple = el.dataset.multiple === "true";
    this.version = parseInt(el.dataset.version, 10) || 0;
    this.input = el.querySelector("[data-value]");
    this.status = el.querySelector(".fstatus");
    this.conflictBox = el.querySelector(".conflict");
    this.inflight = null; this.remote = null; this.timer = null; this.error = false;
    if (this.kind === "list" || this.kind === "table") {
      this.columns = JSON.parse(this.input.dataset.columns);
      this.current = JSON.parse(this.input.dataset.rows);
      this.base = this.current;
      drawRows(this);
    } else {
      this.base = this.read();
    }
    var save = el.querySelector("button.save");
    if (save) save.hidden = true;
  }
  Field.prototype.storeKey = function () { return "plan:" + this.editor.id + ":" + this.key; };
  Field.prototype.read = function () {
    if (this.kind === "list" || this.kind === "table") return readRows(this);
    if (this.kind === "choice" && this.multiple) {
      return Array.prototype.filter.call(this.input.querySelectorAll("input[type=checkbox]"),
        function (c) { return c.checked; }).map(function (c) { return c.value; });
    }
    return this.input.value;
  };
  Field.prototype.write = function (value) {
    if (same(value, this.read())) return;
    if (this.kind === "list" || this.kind === "table") { this.current = value; drawRows(this); return; }
    if (this.kind === "choice" && this.multiple) {
      this.input.querySelectorAll("input[type=checkbox]").forEach(function (c) { c.checked = value.indexOf(c.value) >= 0; });
      return;
    }
    var el = this.input, old = el.value;
    if (document.activeElement === el && dmp && el.selectionStart !== undefined) {
      var diffs = dmp.diff_main(old, value);
      var start = dmp.diff_xIndex(diffs, el.selectionStart), end = dmp.diff_xIndex(diffs, el.selectionEnd);
      el.value = value;
      try { el.setSelectionRange(start, end); } catch (e) { /* not a text input */ }
    } else {
      el.value = value;
    }
  };
  Field.prototype.say = function (text, error) {
    if (!this.status) return;
    this.status.textContent = text || "";
    this.status.classList.toggle("error", !!error);
  };
  Field.prototype.remember = function () {
    var pending = { base: this.base, version: this.version, value: this.read(), inflight: this.inflight };
    try { localStorage.setItem(this.storeKey(), JSON.stringify(pending)); } catch (e) { /* full or private mode */ }
  };
  Field.prototype.forget = function () {
    try { localStorage.removeItem(this.storeKey()); } catch (e) { /* nothing kept */ }
  };
  Field.prototype.dirty = function () { return !same(this.read(), this.base); };
  Field.prototype.changed = function (delay) {
    var self = this;
    this.error = false;
    this.remember();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.timer = null; self.send(); }, delay);
  };
  Field.prototype.send = function () {
    var self = this, socket = this.editor.socket();
    // Not while both versions are shown: the person chooses first (nothing over theirs).
    if (this.inflight || this.error || this.conflictOpen || !this.editor.writable) return;
    if (!this.dirty()) { this.forget(); return; }
    this.inflight = { value: this.read(), base: this.base, version: this.version, id: uid() };
    this.remember();
    this.transmit();
  };
  Field.prototype.transmit = function () {
    var self = this, socket = this.editor.socket(), sent = this.inflight;
    if (!socket || !socket.connected) { this.say(this.editor.el.dataset.textOffline); return; }
    this.say(this.editor.el.dataset.textSaving);
    socket.timeout(ACK_TIMEOUT).emit("plan.edit", {
      workshop_id: this.editor.workshop, plan_id: this.editor.id, field: this.key,
      base_version: sent.version, value: sent.value, edit_id: sent.id
    }, function (err, ack) {
      if (self.inflight !== sent) return;       // answered already (after a reconnect)
      if (err) { self.say(self.editor.el.dataset.textOffline); return; } // resent on reconnect
      self.answered(sent, ack);
    });
  };
  Field.prototype.answered = function (sent, ack) {
    this.inflight = null;
    if (ack.ok) {
      var merged = mergeValue(this, sent.value, this.read(), ack.value);
      this.base = ack.value; this.version = ack.version;
      if (merged === null) { this.conflict(ack.value); }
      else { this.write(merged); this.say(ack.merged ? this.editor.el.dataset.textMerged : this.editor.el.dataset.textSaved); }
      this.catchUp();
    } else if (ack.error === "conflict" && ack.current) {
      this.base = ack.current.value; this.version = ack.current.version;
      this.conflict(ack.current.value);
    } else {
      this.error = true;
      var fields = ack.fields || {}, detail = Object.keys(fields).map(function (k) { return fields[k]; }).join(" ");
      this.say((ack.message || "") + " " + detail, true);
      if (ack.error === "conflict" || ack.error === "forbidden") this.editor.refresh();
    }
    if (this.dirty()) { this.remember(); if (!this.error && !this.conflictOpen) this.changed(0); }
    else this.forget();
  };
  Field.prototype.catchUp = function () {
    var remote = this.remote;
    this.remote = null;
    if (remote && remote.version > this.version) this.incoming(remote);
  };
  Field.prototype.incoming = function (msg) {
    if (msg.version <= this.version) return;
    if (this.inflight) { if (!this.remote || msg.version > this.remote.version) this.remote = msg; return; }
    var mine = this.read(), merged = mergeValue(this, this.base, mine, msg.value);
    this.base = msg.value; this.version = msg.version;
    this.el.dataset.version = String(msg.version);
    if (merged === null) { this.conflict(msg.value); return; }
    this.write(merged);
    var by = this.el.querySelector(".by");
    if (by && msg.by) { by.textContent = this.editor.el.dataset.textBy.replace("__NAME__", msg.by); by.hidden = false; }
    if (this.dirty()) this.changed(DEBOUNCE_TEXT);
  };
  Field.prototype.conflict = function (theirs) {
    if (!this.conflictBox) return;
    this.conflictOpen = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    this.conflictBox.hidden = false;
    this.conflictBox.querySelector("p").textContent = this.editor.el.dataset.textConflict;
    this.conflictBox.querySelector(".theirs").textContent =
      typeof theirs === "string" ? theirs : JSON.stringify(theirs, null, 1);
    this.theirs = theirs;
    this.say("");
  };
  Field.prototype.resolve = function (choice) {
    this.conflictOpen = false;
    this.conflictBox.hidden = true;
    if (choice === "theirs") { this.write(this.theirs); this.forget(); this.say(""); return; }
    this.changed(0); // mine: sent on the current version, so it is stored as it is
  };

  /* ---- A field shown to a reader (another group's plan, the projector): follows live ---- */
  function Reader(el) {
    this.el = el; this.box = el.querySelector(".pvalue");
    this.kind = el.dataset.kind; this.version = parseInt(el.dataset.version, 10) || 0;
    this.options = JSON.parse(this.box.dataset.options || "null") || {};
    this.columns = JSON.parse(this.box.dataset.columns || "null");
  }
  Reader.prototype.dirty = function () { return false; };
  Reader.prototype.incoming = function (msg) {
    if (msg.version <= this.version) return;
    this.version = msg.version;
    var box = this.box, options = this.options, value = msg.value;
    box.innerHTML = "";
    if (this.kind === "text" || this.kind === "longtext" || this.kind === "choice") {
      var p = document.createElement("p");
      if (this.kind === "choice") {
        var keys = Array.isArray(value) ? value : (value ? [value] : []);
        p.textContent = keys.map(function (k) { return options[k] || k; }).join(", ");
      } else { p.className = "text"; p.textContent = value; }
      box.appendChild(p);
      return;
    }
    var columns = this.columns, table = document.createElement("table");
    table.className = "ptable";
    var name = this.el.querySelector(".plabel");
    var wrap = scrollRegion(table, null, name ? name.textContent : "");
    if (columns.length > 1) {
      var head = table.createTHead().insertRow();
      columns.forEach(function (c) { var th = document.createElement("th"); th.scope = "col"; th.textContent = c.label; head.appendChild(th); });
    }
    var body = table.createTBody();
    value.forEach(function (row) {
      var tr = body.insertRow();
      columns.forEach(function (c) {
        var cell = row[c.key];
        tr.insertCell().textContent = c.kind === "check" ? (cell ? "✓" : "")
          : c.kind === "choice" ? ((c.options || {})[cell] || "") : (cell || "");
      });
    });
    box.appendChild(wrap);
  };
  Reader.prototype.catchUp = function () {};

  /* ---- One plan on the page ---- */
  function Editor(el) {
    var self = this;
    this.el = el; this.id = parseInt(el.dataset.planId, 10);
    this.workshop = parseInt(el.dataset.workshop, 10);
    this.writable = el.dataset.writable === "true" && el.dataset.locked !== "true";
    this.fields = {};
    el.querySelectorAll(".pfield").forEach(function (f) {
      if (f.querySelector("[data-value]") && f.querySelector("form")) self.fields[f.dataset.field] = new Field(self, f);
      else if (f.querySelector(".pvalue")) self.fields[f.dataset.field] = new Reader(f);
    });
    // Edits kept on this phone from before a reload: put them back, to be sent when opened.
    Object.keys(this.fields).forEach(function (key) {
      var field = self.fields[key], kept = null;
      if (!(field instanceof Field)) return;
      try { kept = JSON.parse(localStorage.getItem(field.storeKey()) || "null"); } catch (e) { kept = null; }
      if (!kept) return;
      field.restored = kept;
    });
    el.addEventListener("input", function (ev) { self.onEdit(ev, false); });
    el.addEventListener("change", function (ev) { self.onEdit(ev, true); });
    el.addEventListener("click", function (ev) {
      var t = ev.target, field = self.fieldOf(t);
      if (!field) return;
      if (t.classList.contains("add-row")) {
        var rows = field.read(), row = { _id: uid().slice(0, 8) };
        field.columns.forEach(function (c) { row[c.key] = c.kind === "check" ? false : ""; });
        rows.push(row); field.current = rows; drawRows(field);
        var last = field.input.querySelector("tbody tr:last-child [data-col]");
        if (last) last.focus();
        field.changed(0);
      } else if (t.classList.contains("remove-row")) {
        t.closest("tr").remove(); field.current = field.read(); field.changed(0);
      } else if (t.dataset.conflict) {
        field.resolve(t.dataset.conflict);
      }
    });
    el.addEventListener("submit", function (ev) {
      var field = self.fieldOf(ev.target);
      if (field && self.socket()) { ev.preventDefault(); field.changed(0); }
    });
  }
  Editor.prototype.socket = function () { return window.Live.current && window.Live.current.socket; };
  Editor.prototype.fieldOf = function (node) {
    var box = node.closest && node.closest(".pfield");
    return box ? this.fields[box.dataset.field] : null;
  };
  Editor.prototype.onEdit = function (ev, committed) {
    var field = this.fieldOf(ev.target);
    if (!field || !this.writable) return;
    if (field.kind === "list" || field.kind === "table") { field.current = field.read(); field.changed(committed ? 0 : DEBOUNCE_ROWS); return; }
    if (field.kind === "choice") { if (committed) field.changed(0); return; }
    if (!committed) field.changed(DEBOUNCE_TEXT);
  };
  /* (Re)open the plan on the server: join its room, learn every field's version, then send
   * whatever is still waiting on this phone (an edit in flight keeps its idempotency key). */
  Editor.prototype.open = function () {
    var self = this, socket = this.socket();
    if (!socket || !socket.connected) return;
    socket.timeout(ACK_TIMEOUT).emit("plan.open", { workshop_id: this.workshop, plan_id: this.id }, function (err, ack) {
      if (err || !ack.ok) return;
      if (ack.plan.locked !== (self.el.dataset.locked === "true")) { self.refresh(); return; }
      Object.keys(self.fields).forEach(function (key) {
        var field = self.fields[key], server = ack.plan.fields[key];
        if (!server) return;
        if (field.restored) {
          var kept = field.restored; field.restored = null;
          field.base = kept.base; field.version = kept.version; field.write(kept.value);
          if (kept.inflight) field.inflight = kept.inflight;
        }
        if (field.inflight) { field.transmit(); return; }
        if (server.version > field.version) field.incoming({ version: server.version, value: server.value });
        else if (field.dirty()) field.changed(0);
      });
      paintProgress(ack.progress);
    });
  };
  Editor.prototype.refresh = function () {
    var step = document.getElementById("step");
    if (step && step.contains(this.el)) return; // the phone's step reloads by itself
    location.reload();
  };

  /* ---- Progress on lists, the console and the projector ---- */
  function paintProgress(p) {
    document.querySelectorAll('[data-plan-progress="' + p.plan_id + '"]').forEach(function (el) {
      var bar = el.querySelector("progress");
      if (bar) { bar.max = p.total; bar.value = p.filled; }
      var text = el.querySelector("[data-progress-text]"), root = document.querySelector("[data-progress-template]");
      if (text && root) text.textContent = root.dataset.progressTemplate.replace("__F__", p.filled).replace("__T__", p.total);
      var writers = el.querySelector("[data-progress-writers]");
      if (writers && root) {
        writers.hidden = !p.writers.length;
        writers.textContent = root.dataset.writersTemplate.replace("__NAMES__", p.writers.join(", "));
      }
    });
  }

  function setUp(root) {
    (root || document).querySelectorAll("[data-plan-editor]").forEach(function (el) {
      if (el.dataset.ready) return;
      el.dataset.ready = "1";
      var editor = new Editor(el);
      editors = editors.filter(function (e) { return document.body.contains(e.el); });
      editors.push(editor);
      editor.open();
    });
  }
  function attach(current) {
    var socket = current.socket;
    socket.on("connect", function () { editors.forEach(function (e) { e.open(); }); });
    socket.on("plan.field", function (msg) {
      editors.forEach(function (e) {
        if (e.id === msg.plan_id && e.fields[msg.field]) e.fields[msg.field].incoming(msg);
      });
    });
    socket.on("plan.locked", function (msg) {
      editors.forEach(function (e) { if (e.id === msg.plan_id) e.refresh(); });
    });
    socket.on("plan.progress", paintProgress);
    setUp(document);
    var step = document.getElementById("step");
    if (step && window.MutationObserver) new MutationObserver(function () { setUp(step); }).observe(step, { childList: true });
  }
  // Forms that are operations (join a group, assign a delegate) go over the socket when it is up.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.dataset || !/^plan\./.test(form.dataset.op || "")) return;
    var current = window.Live.current;
    if (!current || !current.socket.connected) return; // the plain form posts instead
    ev.preventDefault();
    var payload = { workshop_id: current.workshopId };
    new FormData(form).forEach(function (v, k) {
      if (k === "csrf_token") return;
      payload[k] = v === "" ? null : (/_id$/.test(k) ? parseInt(v, 10) : v);
    });
    current.socket.timeout(ACK_TIMEOUT).emit(form.dataset.op, payload, function (err, ack) {
      if (err || !ack.ok) { form.submit(); return; } // the page shows the error
      if (form.dataset.op === "plan.join") location.reload();
      else { var b = form.querySelector("button"); if (b) { b.textContent = "✓"; } }
    });
  });
  var current = live();
  if (current) attach(current); else document.addEventListener("live:ready", function () { attach(live()); });
})();
