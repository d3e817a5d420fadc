/*
 * The logistics dashboard, kept current over the live channel: every stock
 * event (from any client or process) schedules one fetch of the dashboard's
 * figures, and the tables are redrawn from them. Bursts of events share one
 * fetch. Every value from the server is inserted as text, never as HTML.
 */
(function (global) {
  "use strict";
  var node = document.getElementById("stock-config");
  if (!node) return;
  var cfg = JSON.parse(node.textContent);
  var labels = cfg.labels;
  var zh = cfg.locale === "zh_CN";
  var timer = null;
  var inFlight = false;
  var again = false;

  function td(text, cls) {
    var cell = document.createElement("td");
    if (cls) cell.className = cls;
    cell.textContent = text === null || text === undefined ? "" : String(text);
    return cell;
  }

  function fill(tableId, rows, emptyText, columns, decorate) {
    var body = document.querySelector("#" + tableId + " tbody");
    var fresh = document.createDocumentFragment();
    if (!rows.length) {
      var tr = document.createElement("tr");
      tr.className = "empty";
      var cell = td(emptyText);
      cell.colSpan = columns;
      tr.appendChild(cell);
      fresh.appendChild(tr);
    }
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      decorate(tr, row);
      fresh.appendChild(tr);
    });
    while (body.firstChild) body.removeChild(body.firstChild);
    body.appendChild(fresh);
  }

  function itemName(r) { return zh ? r.item_name_zh : r.item_name_en; }
  // Depots and items by code, as the page names them (coordination/vocab).
  function depot(code) { return cfg.names.depots[code] || code; }
  function item(code) { return cfg.names.items[code] || code; }

  function render(o) {
    Object.keys(o.totals).forEach(function (k) {
      var el = document.querySelector('[data-total="' + k + '"]');
      if (el) el.textContent = String(o.totals[k]);
    });
    fill("below-table", o.below_target, labels.all_at_target, 7, function (tr, r) {
      tr.dataset.key = r.depot + "/" + r.item;
      if (r.critical) tr.className = "critical";
      [depot(r.depot), itemName(r)].forEach(function (v) { tr.appendChild(td(v)); });
      [r.available, r.in_transit, r.target, r.shortfall,
        r.days_of_supply === null ? labels.none : r.days_of_supply].forEach(function (v) {
        tr.appendChild(td(v, "num"));
      });
    });
    fill("warn-table", o.warnings, labels.no_warnings, 7, function (tr, w) {
      tr.className = "warn-" + w.kind;
      [labels.warnings[w.kind] || w.kind, depot(w.depot), item(w.item), w.lot || "", w.expiry || ""]
        .forEach(function (v) { tr.appendChild(td(v)); });
      tr.appendChild(td(w.quantity !== undefined ? w.quantity : w.available, "num"));
      tr.appendChild(td(w.days_left !== undefined ? w.days_left : w.days_of_supply, "num"));
    });
    fill("request-table", o.requests, labels.no_requests, 5, function (tr, r) {
      var cell = document.createElement("td");
      var a = document.createElement("a");
      a.href = cfg.request.replace("{id}", encodeURIComponent(r.id));
      a.textContent = String(r.id);
      cell.appendChild(a);
      tr.appendChild(cell);
      tr.appendChild(td(labels.requests[r.status] || r.status));
      tr.appendChild(td(r.destination_ref));
      tr.appendChild(td(r.lines.map(function (ln) { return item(ln.item) + " " + ln.requested; })
        .join("、")));
      tr.appendChild(td(r.requester));
    });
    var timeFormat = global.Coordination.timeFormat;
    fill("moves-table", o.movements, labels.no_movements, 7, function (tr, m) {
      tr.dataset.entry = m.id;
      var cell = document.createElement("td");
      var time = document.createElement("time");
      time.dateTime = m.at;
      time.textContent = timeFormat ? timeFormat.format(new Date(m.at)).slice(0, 5) : m.at;
      cell.appendChild(time);
      tr.appendChild(cell);
      [labels.entries[m.kind] || m.kind, depot(m.depot), itemName(m), m.lot].forEach(function (v) {
        tr.appendChild(td(v));
      });
      tr.appendChild(td(m.quantity, "num"));
      tr.appendChild(td(m.reference));
    });
    document.body.dataset.stockUpdated = o.generated_at;
  }

  function refresh() {
    timer = null;
    if (inFlight) { again = true; return; }
    inFlight = true;
    global.CoordinationDom.getJSON(cfg.overview).then(function (o) {
      render(o);
    }).catch(function (err) {
      console.error(err);
      again = true;
    }).then(function () {
      inFlight = false;
      if (again) { again = false; schedule(1000); }
    });
  }

  function schedule(delay) {
    if (timer === null) timer = setTimeout(refresh, delay);
  }

  var live = global.Coordination.live;
  if (live) {
    live.onEvent(function (ev) {
      if (ev.type.indexOf("stock.") === 0) schedule(200);
    });
  }
  global.Coordination.stock = { refresh: refresh };
})(window);
