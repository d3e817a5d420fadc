/*
 * Keeps an activation's checklist live: whenever a plan or task event arrives
 * on the live channel, re-read the activation's JSON and redraw the checklist
 * and the per-agency progress. Every value is set as text, never as HTML.
 * A minute tick redraws too, so tasks turn red as their deadlines pass.
 */
(function (global) {
  "use strict";
  var root = document.getElementById("activation");
  var labelsNode = document.getElementById("plan-labels");
  if (!root || !labelsNode) return;
  var labels = JSON.parse(labelsNode.textContent);
  var url = root.dataset.url;
  var fmt = new Intl.DateTimeFormat(document.documentElement.lang || "zh-CN", {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });

  function cell(row, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function drawChecklist(a) {
    var body = document.getElementById("checklist-body");
    var rows = [];
    a.phases.forEach(function (ph) {
      ph.tasks.forEach(function (t) {
        var tr = document.createElement("tr");
        tr.dataset.task = t.task_id;
        tr.className = (t.overdue || t.ack_overdue ? "bad " : "") + (t.in_level ? "" : "beyond");
        cell(tr, ph.title[labels.lang]);
        cell(tr, t["title_" + labels.lang]);
        cell(tr, t.role_title[labels.lang] + " · " + (labels.agencies[t.agency] || t.agency));
        cell(tr, labels.states[t.state] || t.state, "state");
        cell(tr, t.assignee || labels.none);
        cell(tr, fmt.format(new Date(t.ack_due_at)));
        cell(tr, fmt.format(new Date(t.due_at)));
        rows.push(tr);
      });
    });
    body.replaceChildren.apply(body, rows);
  }

  function drawProgress(a) {
    var body = document.querySelector("#progress-table tbody");
    var rows = a.progress.map(function (p) {
      var tr = document.createElement("tr");
      if (p.overdue) tr.className = "bad";
      var agency = cell(tr, p.name[labels.lang] + " ");
      var code = document.createElement("code");
      code.textContent = p.agency;
      agency.appendChild(code);
      cell(tr, p.acknowledged + "/" + p.total);
      var done = cell(tr, " " + p.done + "/" + p.total);
      var bar = document.createElement("progress");
      bar.max = p.total;
      bar.value = p.done;
      done.insertBefore(bar, done.firstChild);
      cell(tr, String(p.overdue));
      return tr;
    });
    body.replaceChildren.apply(body, rows);
    document.getElementById("act-level").textContent = a.level;
    document.getElementById("act-done").textContent = a.done;
  }

  var pending = null;
  function refresh() {
    if (pending) return;
    pending = global.CoordinationDom.getJSON(url)
      .then(function (a) { if (a) { drawChecklist(a); drawProgress(a); } })
      .catch(function () { /* the next event or tick retries */ })
      .then(function () { pending = null; });
  }

  var live = global.Coordination && global.Coordination.live;
  if (live) {
    live.onEvent(function (ev) {
      if (ev.type.indexOf("plan.") === 0 || ev.type.indexOf("task.") === 0) refresh();
    });
  }
  global.setInterval(refresh, 60000);
  global.Coordination = global.Coordination || {};
  global.Coordination.refreshActivation = refresh;
})(window);
