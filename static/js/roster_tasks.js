/*
 * Keeps the operator's task board and task page current from the live channel:
 * every task.* event carries the whole task, so a row or the detail is replaced
 * in place. All values are inserted as text.
 */
(function (global) {
  "use strict";
  var node = document.getElementById("roster-data");
  if (!node) return;
  var data = JSON.parse(node.textContent);
  var live = global.Coordination.createLive({ context: data.context, head: data.head });
  var badge = document.getElementById("conn-state");
  if (badge) {
    live.onState(function (state) {
      badge.dataset.state = state;
      badge.textContent = data.labels[state] || state;
    });
  }

  function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }

  function current(task) {
    return task.assignees.filter(function (a) { return a.current; })
      .map(function (a) { return a.name + " (" + a.status + ")"; }).join(" ");
  }

  function updateRow(task) {
    var list = document.getElementById("task-list");
    if (!list) return;
    var body = list.tBodies[0];
    var row = body.querySelector('tr[data-task="' + task.id + '"]');
    if (!row) {
      var empty = body.querySelector("tr.empty");
      if (empty) empty.remove();
      row = document.createElement("tr");
      row.dataset.task = task.id;
      var cells = ["", "", "", "task-status", "task-step", "task-who"];
      cells.forEach(function (cls) {
        var td = document.createElement("td");
        if (cls) td.className = cls;
        row.appendChild(td);
      });
      text(row.cells[0], task.id);
      var link = document.createElement("a");
      link.href = data.task_url.replace(/0$/, String(task.id));
      var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
      // a two-language task (a plan's) in the reader's language, even from a live event
      text(link, task.title_i18n ? (zh ? task.title_i18n.zh : task.title_i18n.en) : task.title);
      row.cells[1].appendChild(link);
      text(row.cells[2], zh ? task.agency_name_zh : task.agency_name_en);
      body.insertBefore(row, body.firstChild);
    }
    var status = row.querySelector(".task-status");
    status.dataset.status = task.status;
    text(status, data.status_labels[task.status] || task.status);
    text(row.querySelector(".task-step"), data.step_labels[task.chain[task.step_index].target]);
    text(row.querySelector(".task-who"), current(task));
  }

  function updateDetail(task) {
    var detail = document.getElementById("task-detail");
    if (!detail || String(task.id) !== String(data.task_id)) return;
    var status = detail.querySelector(".task-status");
    status.dataset.status = task.status;
    text(status, data.status_labels[task.status] || task.status);
    var list = document.getElementById("task-assignees");
    list.replaceChildren();
    task.assignees.forEach(function (a) {
      var li = document.createElement("li");
      li.dataset.status = a.status;
      text(li, a.name + ": " + a.status + (a.reason ? " — " + a.reason : ""));
      list.appendChild(li);
    });
    var chain = document.getElementById("task-chain");
    Array.prototype.forEach.call(chain.children, function (li, i) {
      li.classList.toggle("current", i === task.step_index);
      li.classList.toggle("fired", !!(task.chain[i] && task.chain[i].fired_at));
    });
  }

  live.onEvent(function (ev) {
    if (ev.type.indexOf("task.") !== 0 || !ev.payload || !ev.payload.chain) return;
    updateRow(ev.payload);
    updateDetail(ev.payload);
    if (ev.type === "task.progress" && ev.payload.note && String(ev.payload.id) === String(data.task_id)) {
      var notes = document.getElementById("task-notes");
      var li = document.createElement("li");
      text(li, ev.payload.note.author + ": " + ev.payload.note.text);
      notes.appendChild(li);
    }
  });
})(window);
