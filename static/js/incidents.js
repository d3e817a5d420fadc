/*
 * Incidents in the browser: the logging panel and the incidents layer on the
 * live map (/ops), the live incident board (/incidents) and the live parts of
 * one incident's page. Everything from the server is inserted as text
 * (textContent), never as HTML; words come translated in #incidents-config.
 * Live updates arrive through the page's one live channel (Coordination.live).
 */
(function (global) {
  "use strict";
  var node = document.getElementById("incidents-config");
  if (!node) return;
  var cfg = JSON.parse(node.textContent);
  var labels = cfg.labels;
  var C = global.Coordination || {};
  var lang = document.documentElement.lang || "zh-CN";
  var whenFormat = new Intl.DateTimeFormat(lang, {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  var INCIDENT_EVENTS = ["incident.reported", "incident.status_changed", "incident.unit_dispatched",
    "incident.unit_released", "incident.clock_set", "incident.destination_set",
    "incident.case_confirmed", "incident.condition_set"];

  var el = global.CoordinationDom.el;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, k) {
      return values[k] === undefined ? "" : String(values[k]);
    });
  }

  function duration(seconds) {
    var s = Math.max(0, Math.floor(Math.abs(seconds)));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    function two(n) { return n < 10 ? "0" + n : String(n); }
    return (h ? h + ":" + two(m) : String(m)) + ":" + two(sec);
  }

  function url(name, id) { return cfg.urls[name].replace("{id}", encodeURIComponent(id)); }

  var getJSON = global.CoordinationDom.getJSON;

  // --- deadlines (board, incident page) ------------------------------------

  var alerted = {};
  var alertBox = document.getElementById("deadline-alert");

  function deadlineState(deadline, reported) {
    if (!deadline) return { text: labels.no_deadline, missed: false };
    if (reported) return { text: labels.reported_up, missed: false };
    var left = (Date.parse(deadline) - Date.now()) / 1000;
    if (left >= 0) return { text: fill(labels.due_in, { t: duration(left) }), missed: false };
    return { text: fill(labels.overdue_by, { t: duration(left) }), missed: true };
  }

  function raiseAlert(id) {
    if (!alertBox || alerted[id]) return;
    alerted[id] = true;
    var line = el("p", "deadline-line", fill(labels.deadline_alert, { id: id }));
    line.dataset.id = id;
    alertBox.appendChild(line);
    alertBox.hidden = false;
  }

  function dropAlert(id) {
    if (!alertBox || !alerted[id]) return;
    delete alerted[id];
    var line = alertBox.querySelector('[data-id="' + String(id).replace(/\D/g, "") + '"]');
    if (line) line.remove();
    alertBox.hidden = !alertBox.children.length;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (cell) {
      if (!cell.dataset.since) return;
      cell.textContent = duration((now - Date.parse(cell.dataset.since)) / 1000);
    });
    document.querySelectorAll(".deadline[data-deadline]").forEach(function (cell) {
      var st = deadlineState(cell.dataset.deadline, cell.dataset.reported);
      var row = cell.closest("tr") || cell;
      var id = row.dataset.id || cell.dataset.id;
      if (cell.tagName === "TD") cell.textContent = st.text;
      else cell.dataset.state = st.text;
      row.classList.toggle("overdue", st.missed);
      if (st.missed) raiseAlert(id); else dropAlert(id);
    });
    document.querySelectorAll(".elapsed").forEach(function (cell) {
      if (!cell.dataset.at || !cell.dataset.from) { cell.textContent = "—"; return; }
      cell.textContent = duration((Date.parse(cell.dataset.at) - Date.parse(cell.dataset.from)) / 1000);
    });
  }

  // --- the board -----------------------------------------------------------

  var board = document.getElementById("incident-rows");

  function boardRow(i) {
    var tr = el("tr", "prio-" + i.priority);
    tr.dataset.id = i.id;
    var link = el("a", null, "#" + i.id);
    link.href = url("page", i.id);
    var td = el("td"); td.appendChild(link); tr.appendChild(td);
    td = el("td"); td.appendChild(el("span", "prio prio-" + i.priority, labels.priority[i.priority])); tr.appendChild(td);
    var what = labels.types[i.type] || i.type;
    if (i.disease) what += " · " + (labels.diseases[i.disease] || i.disease);
    if (i.event_ref) what += " · " + ((labels.events || {})[i.event_ref + "/" + (i.venue_ref || "")] || i.event_ref);
    tr.appendChild(el("td", null, what));
    td = el("td"); td.appendChild(el("span", "istatus istatus-" + i.status, labels.status[i.status] || i.status)); tr.appendChild(td);
    td = el("td");
    if (i.units && i.units.length) {
      i.units.forEach(function (u) { td.appendChild(el("span", "tag", u.call_sign)); });
    } else { td.textContent = "—"; }
    tr.appendChild(td);
    td = el("td", "num age"); td.dataset.since = i.logged_at; tr.appendChild(td);
    td = el("td", "num since"); td.dataset.since = i.status_at; tr.appendChild(td);
    td = el("td", "deadline"); td.dataset.deadline = i.report_deadline || "";
    td.dataset.reported = (i.clocks && i.clocks.reported) || ""; tr.appendChild(td);
    return tr;
  }

  function renderBoard(list) {
    if (!board) return;
    while (board.firstChild) board.removeChild(board.firstChild);
    if (!list.length) {
      var tr = el("tr", "empty-row");
      var td = el("td", "empty", labels.empty_board); td.colSpan = 8; tr.appendChild(td);
      board.appendChild(tr);
    }
    list.forEach(function (i) { board.appendChild(boardRow(i)); });
    Object.keys(alerted).forEach(function (id) {
      if (!list.some(function (i) { return String(i.id) === String(id); })) dropAlert(id);
    });
    tick();
  }

  var refreshTimer = null;
  function refreshBoard() {
    if (!board || refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      // The same page with the same filters the board was opened with.
      getJSON(cfg.urls.list + global.location.search).then(function (body) {
        renderBoard(body.incidents);
        var count = document.getElementById("board-count");
        if (count && body.total !== undefined) {
          count.textContent = (body.total === 1 ? labels.count_one : labels.count_many)
            .replace("{num}", body.total).replace("{page}", body.page).replace("{pages}", body.pages);
        }
      })
        .catch(function (err) { console.error(err); });
    }, 150);
  }

  // --- the map layer ---------------------------------------------------------

  var lm = C.livemap;
  var L = global.L;
  var layer = null;
  var markers = {};   // id -> {props, marker}
  var pending = null;

  function incidentStyle(p) {
    var colour = { 1: "#b71c1c", 2: "#e65100", 3: "#f9a825", 4: "#546e7a" }[p.priority] || "#b71c1c";
    return { radius: 11, weight: 3, color: "#000", fillColor: colour, fillOpacity: 0.85,
      dashArray: p.status === "reported" ? "4 3" : null, className: "incident-marker incident-" + p.status };
  }

  function incidentPopup(p) {
    var box = el("div", "popup popup-incident");
    box.appendChild(el("h3", null, "#" + p.id + " " + (labels.types[p.type] || p.type)));
    if (p.disease) box.appendChild(el("p", null, labels.diseases[p.disease] || p.disease));
    box.appendChild(el("p", null, (labels.status[p.status] || p.status) + " · " +
      labels.patients + ": " + p.patients));
    if (p.address) box.appendChild(el("p", null, p.address));
    if (p.reporter || p.phone) box.appendChild(el("p", null, labels.reporter + ": " + [p.reporter, p.phone].filter(Boolean).join(" ")));
    var units = (p.units || []).map(function (u) { return u.call_sign; }).join("、");
    box.appendChild(el("p", null, labels.units + ": " + (units || labels.none)));
    var a = el("a", null, labels.open);
    a.href = url("page", p.id);
    box.appendChild(a);
    if (cfg.can_manage && p.open && p.status !== "at_hospital") {
      var b = el("button", "incident-recommend-btn", labels.recommended);
      b.type = "button";
      b.addEventListener("click", function () { showRecommendation(p.id); });
      box.appendChild(b);
    }
    return box;
  }

  function placeIncident(p) {
    if (!layer) return;
    var rec = markers[p.id];
    if (!p.open) {
      if (rec) { layer.removeLayer(rec.marker); delete markers[p.id]; }
      return;
    }
    if (rec) {
      if (p.version !== undefined && rec.props.version !== undefined && p.version < rec.props.version) return;
      rec.props = p;
      rec.marker.setStyle(incidentStyle(p));
      var el0 = rec.marker.getElement && rec.marker.getElement();
      if (el0) el0.setAttribute("class", "leaflet-interactive incident-marker incident-" + p.status);
      var popup = rec.marker.getPopup();
      if (popup && popup.isOpen()) popup.setContent(incidentPopup(p));
      return;
    }
    var marker = L.circleMarker([p.lat, p.lon], incidentStyle(p));
    rec = { props: p, marker: marker };
    marker.bindPopup(function () { return incidentPopup(rec.props); }, { maxWidth: 320 });
    marker.bindTooltip(function () { return el("span", null, "#" + rec.props.id); });
    markers[p.id] = rec;
    layer.addLayer(marker);
  }

  function loadLayer() {
    return getJSON(cfg.urls.layer).then(function (fc) {
      fc.features.forEach(function (f) { placeIncident(f.properties); });
    });
  }

  // --- the logging form ------------------------------------------------------

  var form = document.getElementById("incident-form");
  var formError = document.getElementById("incident-form-error");
  var formOk = document.getElementById("incident-form-ok");
  var recBox = document.getElementById("incident-recommend");

  function setLocation(lon, lat) {
    if (!form) return;
    var box = form.closest("dialog");  // the command room's logging dialog: only while open
    if (box && !box.open) return;
    form.elements.lon.value = lon.toFixed(5);
    form.elements.lat.value = lat.toFixed(5);
    // A point taken from this map is WGS-84 whatever was chosen for typed coordinates.
    if (form.elements.crs) form.elements.crs.value = "wgs84";
    if (layer && L) {
      if (pending) pending.setLatLng([lat, lon]);
      else pending = L.marker([lat, lon], { title: labels.pick_location, keyboard: false }).addTo(layer);
    }
  }

  function showError(box, message) {
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  if (form) {
    var diseaseName = document.getElementById("disease-name-label");
    form.elements.disease.addEventListener("change", function () {
      diseaseName.hidden = form.elements.disease.value !== "other";
    });
    // Places travel as JSON, not inline in the page (thousands of them), and only once
    // the operator reaches for the place field: the map is usable sooner, and an
    // operator who clicks the map never pays for the list.
    var places = {};
    var placesLoading = null;
    function loadPlaces() {
      if (placesLoading) return placesLoading;
      placesLoading = getJSON(cfg.urls.places).then(function (body) {
        var list = document.getElementById("incident-places");
        var batch = document.createDocumentFragment();
        body.places.forEach(function (p) {
          var key = p.name + " · " + p.kind;
          if (places[key]) return;
          places[key] = p;
          var opt = document.createElement("option");
          opt.value = key;
          batch.appendChild(opt);
        });
        list.appendChild(batch);
      }).catch(function (err) { placesLoading = null; console.error(err); });
      return placesLoading;
    }
    form.elements.place.addEventListener("focus", loadPlaces);
    form.elements.place.addEventListener("input", loadPlaces);
    form.elements.place.addEventListener("change", function () {
      var p = places[form.elements.place.value];
      if (!p) return;
      setLocation(p.lon, p.lat);
      if (lm && lm.map) lm.map.setView([p.lat, p.lon], Math.max(lm.map.getZoom(), 11));
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      showError(formError, "");
      if (formOk) formOk.hidden = true;
      var f = form.elements;
      var lon = parseFloat(f.lon.value), lat = parseFloat(f.lat.value);
      if (isNaN(lon) || isNaN(lat)) { showError(formError, labels.pick_location); return; }
      var place = f.place.value.split(" · ")[0];
      var body = {
        type: f.type.value, disease: f.disease.value || null, lon: lon, lat: lat,
        patients: parseInt(f.patients.value || "0", 10) || 0, reporter: f.reporter.value,
        phone: f.phone.value, notes: f.notes.value, address: place,
      };
      // Typed coordinates copied from a Chinese web map: the server converts them (schemas.py).
      if (f.crs && f.crs.value) body.crs = f.crs.value;
      if (f.disease.value === "other") body.disease_name = f.disease_name.value;
      if (f.found_at.value) body.found_at = new Date(f.found_at.value).toISOString();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      C.postJSON(cfg.urls.create, body).then(function (res) {
        button.disabled = false;
        if (!res.ok) { showError(formError, res.body.error || labels.failed); return; }
        var inc = res.body;
        placeIncident(inc);
        if (pending && layer) { layer.removeLayer(pending); pending = null; }
        form.reset();
        diseaseName.hidden = true;
        if (formOk) { formOk.textContent = fill(labels.logged, { id: inc.id }); formOk.hidden = false; }
        showRecommendation(inc.id);
      }, function () {
        button.disabled = false;
        showError(formError, labels.offline);
      });
    });
  }

  // --- recommendation and dispatch ------------------------------------------

  function showRecommendation(id) {
    if (!recBox) return Promise.resolve(null);
    recBox.hidden = false;
    recBox.dataset.incident = id;
    return getJSON(url("recommend", id)).then(function (rec) {
      renderRecommendation(id, rec);
      return rec;
    }, function () {
      recBox.textContent = labels.failed;
    });
  }

  function renderRecommendation(id, rec) {
    while (recBox.firstChild) recBox.removeChild(recBox.firstChild);
    recBox.appendChild(el("h3", null, labels.recommended + " · #" + id));
    if (rec.notice) recBox.appendChild(el("p", "eta-notice", rec.notice));
    if (rec.negative_pressure_required) recBox.appendChild(el("p", "np-required", labels.np_required));
    var msg = el("p", "dispatch-msg");
    msg.setAttribute("role", "status");
    if (!rec.units.length) recBox.appendChild(el("p", "empty", labels.no_units));
    var list = el("ol", "recommend-list");
    rec.units.forEach(function (u) {
      var li = el("li");
      li.dataset.unit = u.unit_id;
      li.appendChild(el("strong", null, u.call_sign));
      li.appendChild(document.createTextNode(" " + fill(labels.eta, { min: Math.round(u.eta_seconds / 60) }) +
        " · " + fill(labels.km, { km: (u.distance_m / 1000).toFixed(1) }) + " "));
      if (cfg.can_manage) {
        var b = el("button", "dispatch-btn", labels.dispatch);
        b.type = "button";
        b.dataset.unit = u.unit_id;
        b.addEventListener("click", function () { dispatch(id, u, b, msg); });
        li.appendChild(b);
      }
      list.appendChild(li);
    });
    recBox.appendChild(list);
    recBox.appendChild(msg);
    if (cfg.incident_id) return;  // the incident page lists them with a button each
    var care = rec.care && !rec.care.fallback ? rec.care : null;
    if (rec.care && rec.care.fallback && rec.care.notice) {
      recBox.appendChild(el("p", "eta-notice", rec.care.notice));
    }
    recBox.appendChild(el("h4", null, care ? labels.care_destinations : labels.destinations));
    if (care) {
      recBox.appendChild(el("p", "care-need", care.condition_label + " · " +
        fill(labels.care_window, { window: care.window_label })));
      if (care.notice) recBox.appendChild(el("p", "eta-notice", care.notice));
    }
    if (!rec.destinations.length) {
      recBox.appendChild(el("p", "empty", care ? labels.no_care : labels.no_destination));
    }
    var dl = el("ol", "destination-list");
    rec.destinations.forEach(function (d) {
      var text = d.name + " · " + (labels.kinds[d.kind] || d.kind) + " · " +
        fill(labels.km, { km: (d.distance_m / 1000).toFixed(1) });
      if (care && d.eta_seconds !== null) {
        text += " · " + fill(labels.eta, { min: Math.round(d.eta_seconds / 60) }) + " · " +
          (d.within_window ? labels.within_window
            : fill(labels.beyond_window, { min: d.over_window_minutes }));
      }
      dl.appendChild(el("li", d.within_window === false ? "beyond-window" : null, text));
    });
    recBox.appendChild(dl);
    if (care && care.skipped.length) {
      recBox.appendChild(el("h4", null, labels.skipped));
      var sl = el("ul", "skipped-list");
      care.skipped.forEach(function (k) {
        sl.appendChild(el("li", null, k.name + " · " +
          fill(labels.eta, { min: Math.round(k.eta_seconds / 60) }) + " — " + k.why));
      });
      recBox.appendChild(sl);
    }
  }

  function dispatch(id, unit, button, msg) {
    button.disabled = true;
    msg.classList.remove("form-error");
    C.postJSON(url("dispatch", id), { unit_id: unit.unit_id }).then(function (res) {
      if (res.ok) {
        msg.textContent = fill(labels.dispatched, { unit: unit.call_sign });
        placeIncident(res.body);
        return;
      }
      button.disabled = false;
      msg.classList.add("form-error");
      msg.textContent = res.body.error || labels.failed;
    }, function () {
      button.disabled = false;
      msg.classList.add("form-error");
      msg.textContent = labels.offline;
    });
  }

  // --- the incident page ------------------------------------------------------

  // One sentence per event, as the feed words it (feed.js: codes by display name).
  function describe(ev) {
    return C.describeEvent ? C.describeEvent(ev) : ev.type;
  }

  var timeline = document.getElementById("timeline");
  if (timeline) {
    timeline.querySelectorAll(".timeline-text").forEach(function (span) {
      span.textContent = describe(JSON.parse(span.dataset.event));
    });
  }

  // "Load earlier": the page holds the latest events; older pages come on demand.
  function timelineItem(ev, cls) {
    var li = el("li", cls || null);
    li.dataset.seq = ev.seq;
    li.dataset.type = ev.type;
    var t = el("time", null, whenFormat.format(new Date(ev.at)));
    t.dateTime = ev.at;
    li.appendChild(t);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "timeline-text", describe(ev)));
    return li;
  }

  var earlierBtn = document.getElementById("timeline-earlier");
  if (timeline && earlierBtn) {
    earlierBtn.addEventListener("click", function () {
      var first = timeline.querySelector("li[data-seq]");
      var before = first ? first.dataset.seq : "";
      earlierBtn.disabled = true;
      getJSON(url("timeline", cfg.incident_id) + "?before=" + encodeURIComponent(before))
        .then(function (body) {
          var anchor = timeline.firstChild;
          body.events.forEach(function (ev) { timeline.insertBefore(timelineItem(ev), anchor); });
          if (body.earlier) earlierBtn.disabled = false;
          else { earlierBtn.textContent = labels.earlier_none; }
        })
        .catch(function (err) { earlierBtn.disabled = false; console.error(err); });
    });
  }

  function onIncidentPage(ev) {
    if (!timeline || !ev.subject || ev.subject.type !== "incident" ||
        String(ev.subject.id) !== String(cfg.incident_id)) return;
    if (timeline.querySelector('[data-seq="' + ev.seq + '"]')) return;
    timeline.appendChild(timelineItem(ev, "fresh"));
    var p = ev.payload || {};
    var status = document.getElementById("incident-status");
    if (status && p.status && INCIDENT_EVENTS.indexOf(ev.type) >= 0 && p.id === cfg.incident_id) {
      status.textContent = labels.status[p.status] || p.status;
      status.className = "istatus istatus-" + p.status;
    }
    var changed = document.getElementById("incident-changed");
    if (changed) changed.hidden = false;
  }

  // --- live ---------------------------------------------------------------

  function handle(ev) {
    if (INCIDENT_EVENTS.indexOf(ev.type) >= 0 && ev.payload && ev.payload.lon !== undefined) {
      placeIncident(ev.payload);
    }
    if (INCIDENT_EVENTS.indexOf(ev.type) >= 0 || ev.type === "unit.status_changed") refreshBoard();
    onIncidentPage(ev);
    if (recBox && recBox.dataset.incident && !recBox.hidden && ev.type === "unit.status_changed") {
      var id = recBox.dataset.incident;
      getJSON(url("recommend", id)).then(function (rec) {
        if (recBox.dataset.incident === id) {
          var msg = recBox.querySelector(".dispatch-msg");
          var keep = msg ? { text: msg.textContent, cls: msg.className } : null;
          renderRecommendation(id, rec);
          var fresh = recBox.querySelector(".dispatch-msg");
          if (keep && fresh) { fresh.textContent = keep.text; fresh.className = keep.cls; }
        }
      }).catch(function () {});
    }
  }

  var ready = false;
  var queued = [];
  if (C.live) C.live.onEvent(function (ev) { if (ready) handle(ev); else queued.push(ev); });

  function start() {
    ready = true;
    var q = queued; queued = [];
    q.forEach(handle);
  }

  if (lm && lm.map && L) {
    layer = L.layerGroup().addTo(lm.map);
    lm.map.on("click", function (e) { setLocation(e.latlng.lng, e.latlng.lat); });
    loadLayer().then(start, function (err) { console.error(err); start(); });
  } else {
    start();
  }
  if (recBox && cfg.incident_id && !form) showRecommendation(cfg.incident_id);

  tick();
  setInterval(tick, 1000);

  /* A small read API for tests and other page modules. */
  C.incidents = {
    marker: function (id) {
      var rec = markers[id];
      if (!rec) return null;
      var ll = rec.marker.getLatLng();
      return { lat: ll.lat, lng: ll.lng, status: rec.props.status, props: rec.props };
    },
    count: function () { return Object.keys(markers).length; },
    open: function (id) {
      var rec = markers[id];
      if (!rec) return false;
      rec.marker.openPopup();
      return true;
    },
    setLocation: setLocation,
    showRecommendation: showRecommendation,
  };
})(window);
