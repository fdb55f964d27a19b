/* The big screen: nothing is cut off and nothing scrolls.
 *
 * Long lists (lines of work, a discussion, results, action plans) show as many items as fit
 * and turn pages by themselves, with "12–18 of 31" beside them; a presenter's clicker (Page
 * Down / Page Up, arrows) turns them too. Pages are laid out again when items arrive live
 * (the page with the newest is shown), when the step changes and when the window is resized
 * (keeping the first item in view).
 * People who prefer reduced motion get no fade and slower pages. A step whose own text would
 * not fit gets slightly smaller text (data-fit). The line of work in the spotlight follows
 * the shared state (state.spotlight). */
(function () {
  "use strict";
  var PAGE_MS = 12000;
  var LISTS = "[data-pager], .standings, .plan-grid";
  var reduced = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;
  var root = document.getElementById("live");
  var stepBox = document.getElementById("step");
  var pagers = [];
  var turner = null;
  var scheduled = false;

  function overflows(el) {
    return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
  }
  function items(list) {
    return Array.prototype.filter.call(list.children, function (el) { return !el.hidden; });
  }

  /* Split a list into pages: each page takes items while the list does not overflow. */
  function paginate(pager) {
    var all = items(pager.list);
    all.forEach(function (el) { el.classList.add("off-page"); });
    var pages = [];
    var start = 0;
    while (start < all.length) {
      var end = start;
      while (end < all.length) {
        all[end].classList.remove("off-page");
        if (end > start && overflows(pager.list)) { all[end].classList.add("off-page"); break; }
        end++;
      }
      pages.push([start, end]);
      for (var i = start; i < end; i++) all[i].classList.add("off-page");
      start = end;
    }
    pager.pages = pages;
    // Something that just arrived (a line, a comment) is shown at once; else the same page.
    var fresh = pager.known ? all.filter(function (el) { return !pager.known.has(el); }) : [];
    pager.known = new Set(all);
    var keep = all.indexOf(fresh[0] || pager.first);
    var index = 0;
    pages.forEach(function (range, i) { if (keep >= range[0] && keep < range[1]) index = i; });
    show(pager, keep >= 0 ? index : Math.min(pager.page, pages.length - 1), false);
  }

  function show(pager, index, animate) {
    var all = items(pager.list);
    var count = pager.pages.length;
    pager.page = count ? ((index % count) + count) % count : 0;
    var range = pager.pages[pager.page] || [0, 0];
    all.forEach(function (el, i) { el.classList.toggle("off-page", i < range[0] || i >= range[1]); });
    pager.first = all[range[0]] || null;
    var status = pager.status;
    if (status) {
      var template = (document.querySelector("#step .step") || root).dataset.pageTemplate || "";
      status.classList.toggle("single", count < 2);
      status.textContent = count < 2 ? "" : template.replace("__F__", range[0] + 1)
        .replace("__L__", range[1]).replace("__T__", all.length);
    }
    if (animate) {
      pager.list.classList.remove("turning");
      void pager.list.offsetWidth; // restart the fade
      pager.list.classList.add("turning");
    }
  }

  function statusFor(list) {
    var id = list.dataset.pager;
    if (id && document.getElementById(id)) return document.getElementById(id);
    var status = document.createElement("p");
    status.className = "pager-status";
    list.parentNode.insertBefore(status, list);
    return status;
  }

  /* Shrink the step's own text (title, body) until the step fits, down to 60 %. */
  function fitStep(step) {
    var fit = 10;
    delete step.dataset.fit;
    while (overflows(stepBox) && fit > 6) {
      fit--;
      step.dataset.fit = String(fit);
    }
  }

  function setUp() {
    scheduled = false;
    var step = stepBox.querySelector(".step");
    if (!step) return;
    if (step.dataset.spotlight) root.dataset.line = step.dataset.spotlight; // live comments
    else delete root.dataset.line;
    var lists = Array.prototype.slice.call(step.querySelectorAll(LISTS));
    pagers = pagers.filter(function (p) { return lists.indexOf(p.list) >= 0; });
    lists.forEach(function (list) {
      if (pagers.some(function (p) { return p.list === list; })) return;
      var pager = { list: list, status: statusFor(list), pages: [], page: 0, first: null,
                    known: null };
      // Pages turn every few seconds: not news for a screen reader reading the step part.
      list.setAttribute("aria-live", "off");
      pager.status.setAttribute("aria-live", "off");
      new MutationObserver(later).observe(list, { childList: true, subtree: true, characterData: true });
      pagers.push(pager);
    });
    pagers.forEach(function (p) { p.pages = []; items(p.list).forEach(function (el) { el.classList.add("off-page"); }); });
    fitStep(step);
    pagers.forEach(paginate);
    step.dataset.paged = "true";
  }

  function later() {
    if (scheduled) return;
    scheduled = true;
    window.requestAnimationFrame(setUp);
  }

  function turn(by) {
    pagers.forEach(function (p) { if (p.pages.length > 1) show(p, p.page + by, true); });
  }

  function every() { return reduced && reduced.matches ? PAGE_MS * 2 : PAGE_MS; }
  function restartTurner() {
    if (turner) clearInterval(turner);
    turner = setInterval(function () { turn(1); }, every());
  }

  document.addEventListener("keydown", function (ev) {
    var next = ["PageDown", "ArrowRight", "ArrowDown", " "].indexOf(ev.key) >= 0;
    var back = ["PageUp", "ArrowLeft", "ArrowUp"].indexOf(ev.key) >= 0;
    if (!next && !back) return;
    ev.preventDefault();
    turn(next ? 1 : -1);
    restartTurner();
  });
  if (reduced && reduced.addEventListener) reduced.addEventListener("change", restartTurner);

  /* --- The spotlight: redraw the step part when the shared state names another line. --- */
  var wanted = 0;
  function reloadStep() {
    var ticket = ++wanted;
    fetch(root.dataset.fragment, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { if (ticket === wanted) stepBox.innerHTML = html; })
      .catch(function () { setTimeout(function () { if (ticket === wanted) reloadStep(); }, 2000); });
  }
  function onState(state) {
    // A step being loaded (follow.js) comes with its spotlight already.
    if (!state.step || String(state.step.key) !== root.dataset.step) return;
    var spot = state.spotlight || {};
    var want = state.step.kind === "discuss" && spot.kind === "proposal" ? String(spot.id) : "";
    var step = stepBox.querySelector(".step");
    if (step && (step.dataset.spotlight || "") !== want) reloadStep();
  }

  new MutationObserver(later).observe(stepBox, { childList: true });
  window.addEventListener("resize", later);
  if (window.Live && window.Live.current) window.Live.current.socket.on("state", onState);
  setUp();
  restartTurner();
})();
