/*
 * The command room's panels (alerts, incidents, units, beds, tasks, stock), the
 * incident drawer, the logging dialog (button or key N) and the search box.
 *
 * Each panel starts from the data the route rendered (#ops-data) and is fetched
 * again, alone, when an event that concerns it arrives on the page's one live
 * channel (Coordination.live: replay on reconnect included). A panel whose
 * source fails shows its own error; the others carry on. Every value from the
 * server is inserted as text (textContent), never as HTML.
 */
(function (global) {
  "use strict";
  var node = document.getElementById("ops-data");
  if (!node) return;
  var data = JSON.parse(node.textContent);
  var labels = data.labels;
  var C = global.Coordination || {};
  var lang = document.documentElement.lang || "zh-CN";
  var zh = lang.indexOf("zh") === 0;
  var incidentCfg = (function () {
    var n = document.getElementById("incidents-config");
    return n ? JSON.parse(n.textContent) : { labels: {} };
  })();
  var ilabels = incidentCfg.labels;
  // Times in the command room's zone (as the feed shows them), not the browser's.
  var whenFormat = new Intl.DateTimeFormat(lang, {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
    timeZone: data.timezone || undefined,
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (_m, k) {
      return values[k] === undefined ? "" : String(values[k]);
    });
  }

  function pick(pair) { return pair && typeof pair === "object" ? (zh ? pair.zh : pair.en) : pair; }

  function duration(seconds) {
    var s = Math.max(0, Math.floor(Math.abs(seconds)));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    function two(n) { return n < 10 ? "0" + n : String(n); }
    return (h ? h + ":" + two(m) : String(m)) + ":" + two(sec);
  }

  function getJSON(u) {
    return fetch(u, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(u + " " + r.status);
      return r.json();
    });
  }

  function url(name, id) { return data.urls[name].replace("{id}", encodeURIComponent(id)); }

  // --- panels ------------------------------------------------------------------

  var state = data.panels;
  var renderers = {};

  function body(name) {
    var section = document.querySelector('[data-panel="' + name + '"]');
    return section ? section.querySelector("[data-body]") : null;
  }

  function setCount(name, n) {
    var section = document.querySelector('[data-panel="' + name + '"]');
    var c = section && section.querySelector("[data-count]");
    if (c) c.textContent = n ? String(n) : "";
  }

  function clear(box) { while (box.firstChild) box.removeChild(box.firstChild); }

  function render(name) {
    var box = body(name);
    if (!box) return;
    var section = box.parentNode;
    var panel = state[name];
    clear(box);
    if (!panel) { section.hidden = true; return; }
    section.hidden = false;
    section.classList.toggle("panel-failed", !!panel.error);
    if (panel.error) { box.appendChild(el("p", "form-error panel-error", panel.error)); return; }
    renderers[name](box, panel);
    section.dataset.populated = "1";
  }

  function empty(box, text) { box.appendChild(el("p", "empty", text)); }

  // Alerts: what needs a person now, acknowledged here.
  var seenAlerts = null;
  var sound = document.getElementById("alert-sound");
  if (sound) {
    sound.checked = global.localStorage && localStorage.getItem("ops-alert-sound") === "1";
    sound.addEventListener("change", function () {
      if (global.localStorage) localStorage.setItem("ops-alert-sound", sound.checked ? "1" : "0");
    });
  }

  function beep() {
    if (!sound || !sound.checked) return;
    try {
      var Ctx = global.AudioContext || global.webkitAudioContext;
      var ctx = new Ctx();
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.35);
    } catch (err) { console.error(err); }
  }

  var alertNotice = null;
  renderers.alerts = function (box, panel) {
    var rows = panel.rows;
    setCount("alerts", rows.length);
    box.parentNode.classList.toggle("has-open", rows.length > 0);
    var ids = {};
    var fresh = false;
    rows.forEach(function (a) { ids[a.id] = true; if (seenAlerts && !seenAlerts[a.id]) fresh = true; });
    seenAlerts = ids;
    if (fresh) beep();
    if (alertNotice) {  // what the last click did, kept while the list changes under it
      var note = el("p", "alert-notice", alertNotice.text + " ");
      note.setAttribute("role", "status");
      var link = el("a", null, alertNotice.linkText);
      link.href = alertNotice.href;
      note.appendChild(link);
      box.appendChild(note);
    }
    if (!rows.length) { empty(box, labels.no_alerts); return; }
    var list = el("ol", "alert-list");
    rows.forEach(function (a) {
      var li = el("li", "alert alert-" + a.severity);
      li.dataset.id = a.id;
      li.dataset.kind = a.kind;
      var head = el("div", "alert-head");
      head.appendChild(el("span", "tag", labels.alert_kinds[a.kind] || a.kind));
      var t = el("time", "alert-time", whenFormat.format(new Date(a.raised_at)));
      t.dateTime = a.raised_at;
      head.appendChild(t);
      li.appendChild(head);
      var title = el("p", "alert-title", pick(a.title));
      li.appendChild(title);
      var msg = el("p", "alert-msg");
      msg.setAttribute("role", "status");
      if (a.kind === "early_warning" && a.suggestion) earlyWarning(li, a, msg);
      if (data.can_ack) {
        var b = el("button", "ack-btn", labels.acknowledge);
        b.type = "button";
        b.addEventListener("click", function (e) { e.stopPropagation(); acknowledge(a, b, msg); });
        li.appendChild(b);
      }
      li.appendChild(msg);
      li.addEventListener("click", function () { follow(a); });
      list.appendChild(li);
    });
    box.appendChild(list);
  };

  // An early warning: the figures that tripped the rule, the suggested plan and level
  // (from the plan's own level criteria) and the one click that activates it.
  function earlyWarning(li, a, msg) {
    var sug = a.suggestion;
    var f = sug.figures || {};
    li.appendChild(el("p", "alert-figures", fill(labels.ew_figures, {
      cases: f.cases, confirmed: f.confirmed, incidents: (sug.incidents || []).length })));
    var ids = el("p", "alert-incidents");
    (sug.incidents || []).forEach(function (id) {
      var b = el("button", "link-btn", "#" + id);
      b.type = "button";
      b.addEventListener("click", function (e) { e.stopPropagation(); openDrawer(id); });
      ids.appendChild(b);
      ids.appendChild(document.createTextNode(" "));
    });
    li.appendChild(ids);
    if (!sug.plan) { li.appendChild(el("p", "alert-suggestion", labels.ew_no_plan)); return; }
    li.appendChild(el("p", "alert-suggestion", fill(labels.ew_suggest, {
      plan: pick(sug.plan_title) || sug.plan, level: sug.level,
      name: pick((labels.level_names || {})[sug.level]) || "" })));
    var basis = sug.level_basis;
    li.appendChild(el("p", "alert-basis", basis ? fill(labels.ew_basis, {
      cases: basis.cases, at_least: basis.at_least, within: pick(basis.within),
      criterion: pick(basis.criterion) }) : labels.ew_no_basis));
    if (!data.can_activate || sug.activation_id) return;
    var go = el("button", "primary activate-btn", fill(labels.ew_activate, { level: sug.level }));
    go.type = "button";
    go.addEventListener("click", function (e) {
      e.stopPropagation();
      go.disabled = true;
      C.postJSON(url("activate", a.id), {}).then(function (res) {
        if (res.ok) {
          var id = res.body.activation.id;
          alertNotice = { text: fill(labels.ew_activated, { id: id }), href: url("activation", id),
            linkText: labels.ew_open_activation };
          drop("alerts", a.id);
          return;
        }
        go.disabled = false;
        msg.classList.add("form-error");
        msg.textContent = res.body.error || ilabels.failed;
      }, function () {
        go.disabled = false;
        msg.textContent = ilabels.offline;
      });
    });
    li.appendChild(go);
  }

  function acknowledge(a, button, msg) {
    button.disabled = true;
    C.postJSON(url("ack", a.id), {}).then(function (res) {
      if (res.ok) { drop("alerts", a.id); return; }
      button.disabled = false;
      msg.classList.add("form-error");
      var d = res.body.details;
      msg.textContent = d ? fill(labels.acked_by, { who: d.acked_by, at: whenFormat.format(new Date(d.acked_at)) })
        : (res.body.error || ilabels.failed);
    }, function () {
      button.disabled = false;
      msg.textContent = ilabels.offline;
    });
  }

  function drop(name, id) {
    var panel = state[name];
    if (!panel || !panel.rows) return;
    panel.rows = panel.rows.filter(function (r) { return String(r.id) !== String(id); });
    render(name);
  }

  function follow(a) {
    if (!a.subject) return;
    if (a.subject.type === "incident") openDrawer(a.subject.id);
    else if (a.subject.type === "facility" && C.livemap) C.livemap.openFacility(Number(a.subject.id));
    else if (a.lon !== null && a.lat !== null) pan(a.lon, a.lat);
  }

  // Incidents: priority and age, what, units, status, since last change, deadline.
  renderers.incidents = function (box, panel) {
    setCount("incidents", panel.rows.length);
    if (!panel.rows.length) { empty(box, labels.no_incidents); return; }
    var list = el("ol", "incident-list");
    panel.rows.forEach(function (i) {
      var li = el("li", "incident-row prio-" + i.priority);
      li.dataset.id = i.id;
      li.tabIndex = 0;
      var top = el("div", "row-top");
      top.appendChild(el("span", "prio prio-" + i.priority, (ilabels.priority || {})[i.priority] || i.priority));
      top.appendChild(el("strong", null, "#" + i.id));
      var what = (ilabels.types || {})[i.type] || i.type;
      if (i.disease) what += " · " + ((ilabels.diseases || {})[i.disease] || i.disease_name || i.disease);
      top.appendChild(el("span", "what", what));
      li.appendChild(top);
      if (i.address) li.appendChild(el("p", "where", i.address));
      var mid = el("div", "row-mid");
      mid.appendChild(el("span", "istatus istatus-" + i.status, (ilabels.status || {})[i.status] || i.status));
      var since = el("span", "since");
      since.dataset.sinceChange = i.status_at;
      mid.appendChild(since);
      var age = el("span", "age");
      age.dataset.age = i.logged_at;
      mid.appendChild(age);
      li.appendChild(mid);
      var bottom = el("div", "row-bottom");
      (i.units || []).forEach(function (u) {
        var tag = el("span", "tag unit-tag");
        tag.dataset.status = u.status;
        tag.appendChild(el("span", "unit-swatch unit-" + u.status));
        tag.appendChild(document.createTextNode(" " + u.call_sign));
        bottom.appendChild(tag);
      });
      if (i.triage && i.triage.total) {
        var tri = el("span", "triage-tags");
        ["immediate", "delayed", "minor", "expectant"].forEach(function (t) {
          if (i.triage[t]) tri.appendChild(el("span", "triage triage-" + t, (labels.triage || {})[t] + " " + i.triage[t]));
        });
        tri.appendChild(el("span", "tag", fill(labels.handed_over, { n: i.triage.handed_over || 0, total: i.triage.total })));
        bottom.appendChild(tri);
      }
      var dl = el("span", "deadline");
      dl.dataset.deadline = i.report_deadline || "";
      dl.dataset.reported = i.reported_up ? "1" : "";
      bottom.appendChild(dl);
      li.appendChild(bottom);
      li.addEventListener("click", function () { openDrawer(i.id); });
      li.addEventListener("keydown", function (e) { if (e.key === "Enter") openDrawer(i.id); });
      list.appendChild(li);
    });
    box.appendChild(list);
    tick();
  };

  // Units: counts by status, then each unit (click: its marker).
  var UNIT_ORDER = ["available", "dispatched", "en_route", "on_scene", "transporting", "at_hospital",
    "decontaminating", "out_of_service"];
  renderers.units = function (box, panel) {
    setCount("units", panel.rows.length);
    var counts = el("ul", "unit-counts");
    UNIT_ORDER.forEach(function (s) {
      var li = el("li", "ucount");
      li.dataset.status = s;
      li.appendChild(el("span", "unit-swatch unit-" + s));
      li.appendChild(el("span", "n", panel.counts[s] || 0));
      li.appendChild(el("span", null, labels.unit_status[s] || s));
      counts.appendChild(li);
    });
    box.appendChild(counts);
    if (!panel.rows.length) { empty(box, labels.no_units); return; }
    var list = el("ul", "unit-list");
    var rank = {};
    UNIT_ORDER.forEach(function (s, n) { rank[s] = n; });
    panel.rows.slice().sort(function (a, b) {
      return (b.negative_pressure - a.negative_pressure) || (rank[a.status] - rank[b.status]) ||
        (a.call_sign < b.call_sign ? -1 : 1);
    }).forEach(function (u) {
      var li = el("li", "unit-item" + (u.negative_pressure ? " is-np" : ""));
      li.dataset.id = u.id;
      li.dataset.status = u.status;
      li.tabIndex = 0;
      li.appendChild(el("span", "unit-swatch unit-" + u.status + (u.negative_pressure ? " unit-np" : "")));
      li.appendChild(el("span", "call", u.call_sign));
      if (u.negative_pressure) li.appendChild(el("span", "np-mark", labels.np));
      li.appendChild(el("span", "ustatus", labels.unit_status[u.status] || u.status));
      li.title = u.call_sign;
      li.addEventListener("click", function () { showUnit(u.id); });
      li.addEventListener("keydown", function (e) { if (e.key === "Enter") showUnit(u.id); });
      list.appendChild(li);
    });
    box.appendChild(list);
  };

  function showUnit(id) {
    var lm = C.livemap;
    var u = lm && lm.unit(id);
    if (!u) return;
    lm.map.setView([u.lat, u.lng], Math.max(lm.map.getZoom(), 11));
    lm.openUnit(id);
  }

  // Beds: free isolation beds and rooms, by kind of facility; full and stale flagged.
  renderers.beds = function (box, panel) {
    if (!panel.rows.length) { empty(box, labels.no_beds); return; }
    var kinds = panel.kinds || {};
    var kind = null, list = null;
    function more() {
      var k = kinds[kind];
      if (k && k.facilities > k.listed) {
        box.appendChild(el("p", "bed-more", fill(labels.beds_more, { n: k.facilities - k.listed })));
      }
    }
    panel.rows.forEach(function (f) {
      if (f.kind !== kind) {
        if (kind !== null) more();
        kind = f.kind;
        var h = el("h3", null, labels.facility_kinds[kind] || kind);
        var k = kinds[kind];
        if (k) h.appendChild(el("span", "bed-total", fill(labels.free_of, { free: k.free, cap: k.capacity })));
        box.appendChild(h);
        list = el("ul", "bed-list");
        box.appendChild(list);
      }
      var cls = "bed-row" + (f.full ? " is-full" : "") + (f.near_full ? " is-near-full" : "") +
        (f.stale ? " is-stale" : "");
      var li = el("li", cls);
      li.dataset.id = f.id;
      li.tabIndex = 0;
      li.appendChild(el("span", "name", f.name));
      li.appendChild(el("span", "free", fill(labels.free_of, { free: f.free, cap: f.capacity })));
      if (f.full) li.appendChild(el("span", "flag flag-full", labels.full));
      else if (f.near_full) li.appendChild(el("span", "flag flag-near", labels.near_full));
      if (f.stale) li.appendChild(el("span", "flag flag-stale", labels.stale));
      li.addEventListener("click", function () { if (C.livemap) C.livemap.openFacility(f.id); });
      list.appendChild(li);
    });
    more();
  };

  // Tasks: open per agency, unacknowledged past their ack time, escalated to us.
  function taskList(box, title, rows, cls) {
    if (!rows.length) return;
    box.appendChild(el("h3", cls, title + " (" + rows.length + ")"));
    var list = el("ul", "task-list " + cls);
    rows.forEach(function (t) {
      var li = el("li");
      li.dataset.id = t.id;
      li.appendChild(el("span", "tag", zh ? t.agency_zh : t.agency_en));
      li.appendChild(document.createTextNode(" " + t.title));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  renderers.tasks = function (box, panel) {
    setCount("tasks", panel.open_total);
    taskList(box, labels.escalated, panel.escalated, "tasks-escalated");
    taskList(box, labels.overdue, panel.late, "tasks-late");
    if (!panel.agencies.length) { empty(box, labels.no_tasks); return; }
    box.appendChild(el("h3", null, labels.per_agency));
    var table = el("table", "table compact");
    panel.agencies.forEach(function (a) {
      var tr = el("tr");
      tr.dataset.agency = a.code;
      tr.appendChild(el("td", null, zh ? a.name_zh : a.name_en));
      tr.appendChild(el("td", "num", a.open));
      tr.appendChild(el("td", "num" + (a.overdue ? " warn" : ""), a.overdue));
      table.appendChild(tr);
    });
    box.appendChild(table);
  };

  // Stock: critical items below target, with the depot.
  renderers.stock = function (box, panel) {
    setCount("stock", panel.total);
    if (!panel.rows.length) { empty(box, labels.no_stock); return; }
    var list = el("ul", "stock-list");
    panel.rows.forEach(function (r) {
      var li = el("li", r.available <= 0 ? "is-out" : "");
      li.dataset.item = r.item;
      li.dataset.depot = r.depot;
      li.appendChild(el("strong", null, zh ? r.item_zh : r.item_en));
      li.appendChild(el("span", "depot", zh ? r.depot_zh : r.depot_en));
      li.appendChild(el("span", "short", fill(labels.short, {
        available: r.available, target: r.target, short: r.shortfall })));
      li.addEventListener("click", function () { if (C.livemap) C.livemap.openDepot(r.depot); });
      list.appendChild(li);
    });
    box.appendChild(list);
  };

  Object.keys(renderers).forEach(render);

  // --- refreshing from the live channel -------------------------------------------

  var due = {};
  var timer = null;
  function refresh(names) {
    names.forEach(function (n) { if (state[n] !== undefined) due[n] = true; });
    if (timer) return;
    timer = setTimeout(function () {
      timer = null;
      var wanted = Object.keys(due);
      due = {};
      if (!wanted.length) return;
      getJSON(data.urls.panels + "?only=" + wanted.join(",")).then(function (fresh) {
        wanted.forEach(function (n) { if (fresh[n]) { state[n] = fresh[n]; render(n); } });
      }, function (err) {
        console.error(err);
        wanted.forEach(function (n) { state[n] = { error: labels.panel_failed }; render(n); });
        setTimeout(function () { refresh(wanted); }, 5000);
      });
    }, 250);
  }

  function panelsFor(type) {
    if (type.indexOf("alert.") === 0) return ["alerts"];
    if (type.indexOf("incident.") === 0 || type === "cap.imported") return ["incidents", "units"];
    if (type === "unit.status_changed" || type === "units.loaded") return ["units", "incidents"];
    if (type.indexOf("facilit") === 0) return ["beds"];
    if (type.indexOf("task.") === 0 || type.indexOf("plan.") === 0 || type.indexOf("roster.") === 0) {
      return ["tasks"];
    }
    if (type.indexOf("stock.") === 0) return ["stock"];
    return [];
  }

  if (C.live) {
    C.live.onEvent(function (ev) {
      refresh(panelsFor(ev.type));
      var drawerId = drawer && !drawer.hidden && drawer.dataset.incident;
      if (drawerId && ev.subject && ev.subject.type === "incident" && String(ev.subject.id) === drawerId) {
        loadDrawer(drawerId);
      }
    });
    var wasLive = false;
    C.live.onState(function (s) {  // back after a loss: everything, in case replay paged
      if (s === "live" && wasLive === "lost") refresh(Object.keys(state));
      wasLive = s === "live" ? true : (wasLive ? "lost" : wasLive);
    });
  }

  // --- ages and countdowns -----------------------------------------------------------

  function tick() {
    var now = Date.now();
    document.querySelectorAll("#panel-incidents [data-since-change]").forEach(function (c) {
      c.textContent = fill(labels.since_change, { t: duration((now - Date.parse(c.dataset.sinceChange)) / 1000) });
    });
    document.querySelectorAll("#panel-incidents [data-age]").forEach(function (c) {
      c.textContent = labels.age + " " + duration((now - Date.parse(c.dataset.age)) / 1000);
    });
    document.querySelectorAll("#panel-incidents .deadline").forEach(function (c) {
      var row = c.closest("li");
      var missed = false;
      if (!c.dataset.deadline) c.textContent = ilabels.no_deadline || "";
      else if (c.dataset.reported) c.textContent = ilabels.reported_up || "";
      else {
        var left = (Date.parse(c.dataset.deadline) - now) / 1000;
        missed = left < 0;
        c.textContent = labels.deadline + " " + fill(missed ? ilabels.overdue_by : ilabels.due_in,
          { t: duration(left) });
      }
      c.classList.toggle("missed", missed);
      if (row) row.classList.toggle("overdue", missed);
    });
  }
  setInterval(tick, 1000);

  // --- the map ------------------------------------------------------------------------

  function pan(lon, lat, zoom) {
    var lm = C.livemap;
    if (!lm || lon === null || lat === null || lon === undefined) return;
    lm.map.setView([lat, lon], Math.max(lm.map.getZoom(), zoom || 11));
  }

  // --- the incident drawer ---------------------------------------------------------------

  var drawer = document.getElementById("ops-drawer");

  function loadDrawer(id) {
    return Promise.all([getJSON(url("incident", id)), getJSON(url("timeline", id))]).then(function (res) {
      if (drawer.dataset.incident !== String(id)) return;
      var i = res[0], events = res[1].events;
      var what = (ilabels.types || {})[i.type] || i.type;
      if (i.disease) what += " · " + ((ilabels.diseases || {})[i.disease] || i.disease);
      document.getElementById("drawer-title").textContent = "#" + i.id + " " + what;
      document.getElementById("drawer-meta").textContent = [
        (ilabels.status || {})[i.status] || i.status, i.address,
        (ilabels.patients || "") + ": " + i.patients].filter(Boolean).join(" · ");
      document.getElementById("drawer-page").href = url("page", i.id);
      var clocks = document.getElementById("drawer-clocks");
      clear(clocks);
      Object.keys(labels.clocks).forEach(function (k) {
        clocks.appendChild(el("dt", null, labels.clocks[k]));
        var v = (i.clocks || {})[k];
        clocks.appendChild(el("dd", null, v ? whenFormat.format(new Date(v)) : "—"));
      });
      var list = document.getElementById("drawer-timeline");
      clear(list);
      events.slice().reverse().forEach(function (ev) {
        var li = el("li");
        li.dataset.seq = ev.seq;
        var t = el("time", null, whenFormat.format(new Date(ev.at)));
        t.dateTime = ev.at;
        li.appendChild(t);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", null, C.describe ? C.describe(ev) : ev.type));
        list.appendChild(li);
      });
      showCloseForm(i);
      if (C.incidents && i.open) C.incidents.showRecommendation(i.id);
      else document.getElementById("incident-recommend").hidden = true;
      return i;
    });
  }

  // Closing from the drawer: the empty clocks a close asks for, and the reason field.
  var closeForm = document.getElementById("drawer-close-form");
  function showCloseForm(i) {
    if (!closeForm) return;
    closeForm.hidden = i.status !== "at_hospital";
    closeForm.dataset.incident = String(i.id);
    closeForm.dataset.version = String(i.version);
    var gaps = i.close_gaps || [];
    var gapBox = document.getElementById("drawer-close-gaps");
    clear(gapBox);
    gapBox.hidden = !gaps.length;
    if (gaps.length) {
      gapBox.appendChild(document.createTextNode(labels.still_empty + " "));
      gaps.forEach(function (g) {
        var tag = el("span", "tag", g.label);
        tag.dataset.clock = g.clock;
        gapBox.appendChild(tag);
      });
    }
    document.getElementById("drawer-close-reason-label").hidden = !gaps.length;
    var msg = document.getElementById("drawer-close-msg");
    msg.textContent = "";
    msg.classList.remove("form-error");
  }
  if (closeForm) {
    closeForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var id = closeForm.dataset.incident;
      var msg = document.getElementById("drawer-close-msg");
      var button = closeForm.querySelector("button[type=submit]");
      button.disabled = true;
      C.postJSON(url("status", id), { status: "closed", reason: closeForm.elements.reason.value,
        version: Number(closeForm.dataset.version) }).then(function (res) {
        button.disabled = false;
        if (res.ok) {
          closeForm.elements.reason.value = "";
          msg.classList.remove("form-error");
          msg.textContent = labels.closed;
          loadDrawer(id);
          return;
        }
        msg.classList.add("form-error");
        msg.textContent = res.body.error || ilabels.failed;
      }, function () {
        button.disabled = false;
        msg.textContent = ilabels.offline;
      });
    });
  }

  function openDrawer(id) {
    if (!drawer) return Promise.resolve(null);
    drawer.dataset.incident = String(id);
    drawer.hidden = false;
    document.getElementById("drawer-title").textContent = "#" + id;
    var rows = (state.incidents && state.incidents.rows) || [];
    rows.forEach(function (r) { if (r.id === id) pan(r.lon, r.lat, 10); });
    return loadDrawer(id).catch(function (err) {
      console.error(err);
      document.getElementById("drawer-meta").textContent = ilabels.failed || "";
    });
  }

  function closeDrawer() { if (drawer) { drawer.hidden = true; delete drawer.dataset.incident; } }
  var closeBtn = document.getElementById("drawer-close");
  if (closeBtn) closeBtn.addEventListener("click", closeDrawer);

  // --- the logging dialog (button or key N) ---------------------------------------------------

  var dialog = document.getElementById("incident-dialog");
  var mapRoot = document.getElementById("livemap");

  function openDialog() {
    if (!dialog) return;
    if (!dialog.open) dialog.show();
    if (mapRoot) mapRoot.classList.add("picking");
    if (C.livemap) C.livemap.map.invalidateSize();
    var first = dialog.querySelector("select[name=type]");
    if (first) first.focus();
  }

  function closeDialog() {
    if (!dialog) return;
    dialog.close();
  }

  // While logging, a click anywhere on the map sets the location, on a marker too: the
  // click is taken in the capture phase, before Leaflet hands it to a layer (canvas
  // markers included), unless it was the end of a drag or hit a map control.
  var downAt = null;
  if (mapRoot) {
    mapRoot.addEventListener("mousedown", function (e) { downAt = [e.clientX, e.clientY]; }, true);
    mapRoot.addEventListener("click", function (e) {
      if (!dialog || !dialog.open || !C.livemap || !C.incidents) return;
      if (e.target.closest(".leaflet-control")) return;
      if (downAt && Math.abs(e.clientX - downAt[0]) + Math.abs(e.clientY - downAt[1]) > 6) return;
      e.stopPropagation();
      e.preventDefault();
      var ll = C.livemap.map.mouseEventToLatLng(e);
      C.incidents.setLocation(ll.lng, ll.lat);
    }, true);
  }

  if (dialog) {
    dialog.addEventListener("close", function () {
      if (mapRoot) mapRoot.classList.remove("picking");
      if (C.livemap) C.livemap.map.invalidateSize();
    });
    document.getElementById("incident-dialog-close").addEventListener("click", closeDialog);
    var logBtn = document.getElementById("log-incident-btn");
    if (logBtn) logBtn.addEventListener("click", openDialog);
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && dialog.open) { closeDialog(); return; }
      if ((e.key !== "n" && e.key !== "N") || e.ctrlKey || e.metaKey || e.altKey) return;
      var t = e.target;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      e.preventDefault();
      openDialog();
    });
    // A logged incident opens in the drawer, with its recommendation and dispatch.
    var ok = document.getElementById("incident-form-ok");
    if (ok) {
      new MutationObserver(function () {
        var m = /#(\d+)/.exec(ok.textContent);
        if (!ok.hidden && m) { closeDialog(); openDrawer(Number(m[1])); }
      }).observe(ok, { childList: true, characterData: true, subtree: true, attributes: true });
    }
  }

  // --- search --------------------------------------------------------------------------------

  var search = document.getElementById("ops-search");
  if (search) {
    var input = search.elements.q;
    var hitsBox = document.getElementById("ops-search-hits");
    var searchTimer = null;
    var hits = [];

    function go(h) {
      hitsBox.hidden = true;
      if (h.kind === "incident") { openDrawer(h.id); return; }
      if (h.kind === "unit") { showUnit(h.id); return; }
      if (h.kind === "facility" && C.livemap && C.livemap.openFacility(h.id)) return;
      pan(h.lon, h.lat, h.kind === "area" ? 9 : 12);
    }

    function showHits(list) {
      hits = list;
      clear(hitsBox);
      if (!list.length) hitsBox.appendChild(el("li", "empty", labels.no_hits));
      list.forEach(function (h) {
        var li = el("li", "hit hit-" + h.kind);
        li.tabIndex = 0;
        li.appendChild(el("span", "tag", labels.hit_kinds[h.kind] || h.kind));
        li.appendChild(document.createTextNode(" " + (!zh && h.label_en ? h.label_en : h.label)));
        if (h.kind === "person") {
          li.appendChild(el("small", null, " " + (zh ? h.agency_zh : h.agency_en) + " " + (h.phone || "")));
        }
        li.addEventListener("click", function () { go(h); });
        li.addEventListener("keydown", function (e) { if (e.key === "Enter") go(h); });
        hitsBox.appendChild(li);
      });
      hitsBox.hidden = false;
    }

    function run() {
      var q = input.value.trim();
      if (!q) { hitsBox.hidden = true; return Promise.resolve([]); }
      return getJSON(data.urls.search + "?q=" + encodeURIComponent(q)).then(function (res) {
        if (input.value.trim() === q) showHits(res.hits);
        return res.hits;
      }).catch(function (err) { console.error(err); });
    }

    input.addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(run, 250);
    });
    search.addEventListener("submit", function (e) {
      e.preventDefault();
      run().then(function (list) { if (list && list.length) go(list[0]); });
    });
    document.addEventListener("click", function (e) {
      if (!search.contains(e.target)) hitsBox.hidden = true;
    });
  }

  /* A small read API for tests and the benchmark. */
  C.ops = {
    state: function () { return state; },
    openDrawer: openDrawer,
    openDialog: openDialog,
    refresh: refresh,
  };
})(window);
