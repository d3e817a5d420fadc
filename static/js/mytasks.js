/*
 * "My tasks" on a liaison officer's phone. Tasks update live from the socket.
 * An acknowledgement is first written to localStorage with a key made here,
 * then sent; on a weak connection it stays queued and is retried (every few
 * seconds, when the browser goes online, when the socket reconnects). The
 * server treats a repeated key as the same acknowledgement, so a retry after a
 * lost answer never acknowledges twice. All values are inserted as text.
 */
(function (global) {
  "use strict";
  var data = JSON.parse(document.getElementById("mytasks-data").textContent);
  var QUEUE = "coordination.ackQueue." + data.context;
  var me = data.officer ? data.officer.id : null;
  var tasks = {};
  var list = document.getElementById("mytasks");
  var empty = document.getElementById("mytasks-empty");
  var pending = document.getElementById("mytasks-pending");
  var template = document.getElementById("task-card");
  var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
  var fmt = new Intl.DateTimeFormat(document.documentElement.lang || "zh-CN", {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });

  function url(kind, id) { return data.urls[kind].replace("/0/", "/" + id + "/"); }
  function text(el, v) { el.textContent = v == null ? "" : String(v); return el; }

  function newKey() {
    if (global.crypto && global.crypto.randomUUID) return global.crypto.randomUUID().replace(/-/g, "");
    var out = "";
    for (var i = 0; i < 32; i++) out += Math.floor(Math.random() * 16).toString(16);
    return out;
  }

  function readQueue() {
    try { return JSON.parse(global.localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function writeQueue(q) { global.localStorage.setItem(QUEUE, JSON.stringify(q)); showPending(); }
  function showPending() {
    var q = readQueue();
    pending.hidden = q.length === 0;
    text(pending, data.text.queued + " (" + q.length + ")");
  }

  function myRow(task) {
    var rows = task.assignees.filter(function (a) { return a.current && a.officer_id === me; });
    return rows.length ? rows[0] : null;
  }

  function queuedFor(id) {
    return readQueue().some(function (x) { return x.task_id === id; });
  }

  function render() {
    var ids = Object.keys(tasks).map(Number).sort(function (a, b) { return b - a; });
    list.replaceChildren();
    ids.forEach(function (id) {
      var t = tasks[id];
      if (t.status === "done" || t.status === "cancelled") return;
      var card = template.content.firstElementChild.cloneNode(true);
      card.dataset.task = t.id;
      card.dataset.status = t.status;
      // a two-language task (a plan's) in the reader's language, even from a live event
      text(card.querySelector(".t-title"), t.title_i18n ? (zh ? t.title_i18n.zh : t.title_i18n.en) : t.title);
      var meta = (zh ? t.agency_name_zh : t.agency_name_en) + (t.incident_ref ? " · " + t.incident_ref : "");
      if (t.ack_deadline) meta += " · " + data.text.ack_by + " " + fmt.format(new Date(t.ack_deadline));
      if (t.due_at) meta += " · " + data.text.due + " " + fmt.format(new Date(t.due_at));
      text(card.querySelector(".t-meta"), meta);
      text(card.querySelector(".t-details"), t.details);
      var mine = myRow(t);
      var answering = mine && mine.status !== "declined";  // a declined task is done with
      var status = data.status_labels[t.status] || t.status;
      var iDeclined = t.assignees.some(function (a) {
        return a.officer_id === me && a.status === "declined";
      });
      if (!mine) status = iDeclined ? data.text.declined : data.text.not_yours;
      else if (mine.status === "declined") status = data.text.declined;
      else if (mine.status === "acknowledged") status = data.text.acknowledged;
      else if (queuedFor(t.id)) status = data.text.queued;
      text(card.querySelector(".t-status"), status);
      var ack = card.querySelector(".t-ack");
      ack.hidden = !mine || mine.status !== "pending" || queuedFor(t.id);
      ack.addEventListener("click", function () { acknowledge(t.id); });
      card.querySelector(".t-done").hidden = !answering;
      card.querySelector(".t-decline").hidden = !mine || mine.status !== "pending";
      card.querySelector(".t-note").hidden = !answering;
      card.querySelector(".t-done").addEventListener("click", function () { act(card, "done", t.id, {}); });
      card.querySelector(".t-decline").addEventListener("submit", function (e) {
        e.preventDefault();
        act(card, "decline", t.id, { reason: e.target.elements.reason.value });
      });
      card.querySelector(".t-note").addEventListener("submit", function (e) {
        e.preventDefault();
        sendNote(card, t.id, e.target);
      });
      var notes = card.querySelector(".t-notes");
      (t.notes || []).forEach(function (n) {
        notes.appendChild(text(document.createElement("li"), fmt.format(new Date(n.at)) + " " + n.author + ": " + n.text));
      });
      list.appendChild(card);
    });
    empty.hidden = list.children.length > 0;
  }

  function showError(card, res) {
    var el = card.querySelector(".t-error");
    el.hidden = false;
    text(el, (res && res.body && res.body.error) || data.text.failed);
  }

  function apply(task) {
    if (!task || !task.assignees) return;
    var involved = task.assignees.some(function (a) { return a.officer_id === me; });
    if (!involved) return;
    tasks[task.id] = Object.assign({}, tasks[task.id] || {}, task);
    render();
  }

  function act(card, kind, id, body) {
    global.Coordination.postJSON(url(kind, id), body).then(function (res) {
      if (res.ok) apply(res.body); else showError(card, res);
    }, function () { showError(card, null); });
  }

  function sendNote(card, id, form) {
    var file = form.elements.photo.files[0];
    var req;
    if (file) {
      var fd = new FormData();
      fd.append("text", form.elements.text.value);
      fd.append("photo", file);
      req = global.CoordinationDom.postForm(url("notes", id), fd);
    } else {
      req = global.Coordination.postJSON(url("notes", id), { text: form.elements.text.value });
    }
    req.then(function (res) {
      if (res.ok) { form.reset(); apply(res.body); } else showError(card, res);
    }, function () { showError(card, null); });
  }

  function acknowledge(id) {
    var mine = tasks[id] && myRow(tasks[id]);
    if (!mine || mine.status !== "pending") { render(); return; }  // answered already: no re-send
    var q = readQueue();
    if (!q.some(function (x) { return x.task_id === id; })) {
      q.push({ task_id: id, key: newKey(), at: Date.now() });
      writeQueue(q);
    }
    render();
    flush();
  }

  var flushing = false;
  var notBefore = 0;  // the server's Retry-After: no flush before this time
  function flush() {
    if (flushing || Date.now() < notBefore) return;
    var q = readQueue();
    if (!q.length) return;
    flushing = true;
    var item = q[0];
    // No retries inside postJSON: this queue is the retry, and it survives a reload.
    global.Coordination.postJSON(url("ack", item.task_id), { key: item.key }, 0).then(function (res) {
      flushing = false;
      if (res.retryAfter) notBefore = Date.now() + res.retryAfter;
      if (res.status >= 500 || res.status === 0) return;  // keep it; retried later
      writeQueue(readQueue().filter(function (x) { return x.key !== item.key; }));
      if (res.ok) apply(res.body);
      else {
        var card = list.querySelector('[data-task="' + item.task_id + '"]');
        if (card) showError(card, res);
        render();
      }
      flush();
    }, function () { flushing = false; });  // offline: stays queued
  }

  data.tasks.forEach(function (t) { tasks[t.id] = t; });
  render();
  showPending();

  var live = global.Coordination.createLive({ context: data.context, head: data.head });
  var badge = document.getElementById("conn-state");
  if (badge) {
    live.onState(function (state) {
      badge.dataset.state = state;
      text(badge, data.labels[state] || state);
      if (state === "live") flush();
    });
  }
  live.onEvent(function (ev) {
    if (ev.type.indexOf("task.") === 0 && ev.payload && ev.payload.chain) apply(ev.payload);
  });
  global.addEventListener("online", flush);
  global.setInterval(flush, 4000);
  global.Coordination.myTasks = { flush: flush, queue: readQueue };
})(window);
