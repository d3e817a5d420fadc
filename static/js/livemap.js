/*
 * The live map: fills the layers folium drew with GeoJSON from the API and
 * keeps them current from the live channel (Coordination.live), in place:
 * ambulances move and change colour, facility markers change status and their
 * open popups change content. Every value from the server is inserted as text
 * (textContent), never as HTML. Events are applied only if they are newer
 * than what a marker shows, so the snapshot/event race cannot move anything
 * backwards.
 */
(function (global) {
  "use strict";
  var node = document.getElementById("livemap-config");
  if (!node) return;
  var cfg = JSON.parse(node.textContent);
  var L = global.L;
  var map = global[cfg.map];
  var root = document.getElementById("livemap");
  var errorBox = document.getElementById("livemap-error");
  var labels = cfg.labels;
  var layers = {};
  Object.keys(cfg.layers).forEach(function (k) { layers[k] = global[cfg.layers[k]]; });
  var lang = document.documentElement.lang || "zh-CN";
  // A name kept in both languages: the reader's half (the other when it is empty).
  function nameOf(p) { return (lang.indexOf("zh") === 0 ? p.name : p.name_en || p.name) || ""; }
  var whenFormat = new Intl.DateTimeFormat(lang, {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });

  var FACILITY_FILL = { open: "#1a7f37", full: "#c62828", diverting: "#e67e00", stale: "#8a939c" };
  var KIND_STROKE = {
    fever_clinic: "#b3261e", triage_point: "#7b1fa2", isolation_point: "#d81b60",
    designated_hospital: "#0b5cad", township_health_centre: "#2e7d32", cdc_lab: "#00838f",
    ems_station: "#ef6c00", stockpile_depot: "#5d4037",
  };
  var KIND_RADIUS = { designated_hospital: 10, fever_clinic: 8, isolation_point: 8, cdc_lab: 7 };

  var facilities = {};   // id -> {props, layer}
  var units = {};        // id -> {props, marker}
  var places = {};
  var ready = false;
  var pending = [];
  var track = null;      // {unitId, line}

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function when(iso) {
    return iso ? whenFormat.format(new Date(iso)) : labels.never;
  }

  function newer(a, b) {  // is ISO time a newer than b (or b unknown)?
    if (!b) return true;
    if (!a) return false;
    return Date.parse(a) > Date.parse(b);
  }

  // --- facilities ---------------------------------------------------------

  function shownStatus(p) {
    if (!p.reports) return p.status;
    if (!p.last_report_at) return "stale";
    var age = (Date.now() - Date.parse(p.last_report_at)) / 1000;
    return age > cfg.stale_after_seconds ? "stale" : p.status;
  }

  function facilityStyle(p) {
    var status = shownStatus(p);
    return {
      radius: KIND_RADIUS[p.kind] || 6, weight: 2, opacity: 1,
      color: KIND_STROKE[p.kind] || "#333", fillColor: FACILITY_FILL[status] || "#999",
      fillOpacity: status === "stale" ? 0.45 : 0.9, dashArray: status === "stale" ? "3 3" : null,
    };
  }

  function facilityPopup(p) {
    var box = el("div", "popup popup-facility");
    box.appendChild(el("h3", null, nameOf(p)));
    var meta = el("p", "popup-meta");
    meta.appendChild(el("span", null, labels.kinds[p.kind] || p.kind));
    var status = shownStatus(p);
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", "fstatus fstatus-" + status,
      labels.facility_status[status] || status));
    box.appendChild(meta);
    var kinds = Object.keys(p.figures || {});
    if (kinds.length) {
      var table = el("table", "popup-table");
      var head = el("tr");
      ["", labels.capacity, labels.occupied, labels.free].forEach(function (t) {
        head.appendChild(el("th", null, t));
      });
      table.appendChild(head);
      kinds.forEach(function (k) {
        var f = p.figures[k];
        var row = el("tr");
        row.dataset.kind = k;
        row.appendChild(el("td", null, labels.beds[k] || k));
        row.appendChild(el("td", "num", f.capacity));
        row.appendChild(el("td", "num", f.occupied));
        row.appendChild(el("td", "num", f.capacity - f.occupied));
        table.appendChild(row);
      });
      box.appendChild(table);
    } else if (p.reports) {
      box.appendChild(el("p", "empty", labels.no_figures));
    }
    if (p.reports) box.appendChild(el("p", "popup-when", labels.last_report + ": " + when(p.last_report_at)));
    if (p.contact_name || p.contact_phone) {
      box.appendChild(el("p", "popup-contact",
        labels.contact + ": " + [p.contact_name, p.contact_phone].filter(Boolean).join(" ")));
    }
    if (p.address) box.appendChild(el("p", null, labels.address + ": " + p.address));
    if (cfg.can_report && p.reports) {
      var a = el("a", "popup-report", labels.report);
      a.href = cfg.urls.report.replace("{id}", encodeURIComponent(p.id));
      box.appendChild(a);
    }
    return box;
  }

  function facilityLayerOf(p) { return layers[p.kind] || layers.fever_clinic; }

  function addFacility(feature, batch) {
    var p = feature.properties;
    if (facilities[p.id]) { updateFacility(p); return; }
    if (p.kind === "stockpile_depot" && depots[p.code]) return;  // drawn from the stock tables
    var c = feature.geometry.coordinates;
    var layer = L.circleMarker([c[1], c[0]], facilityStyle(p));
    var rec = { props: p, layer: layer, shown: shownStatus(p), bound: false };
    layer._facilityId = p.id;  // popup and tooltip are bound on first use (bindFacility)
    facilities[p.id] = rec;
    if (batch) (batch[p.kind] = batch[p.kind] || []).push(layer);
    else facilityLayerOf(p).addLayer(layer);
  }

  // Binding a popup and a tooltip to each of 10,000 markers up front registered
  // 40,000 listeners and was most of the map's start-up time (benchmark profile):
  // each facility group listens once and binds a marker when it is first touched.
  function bindFacility(rec) {
    if (rec.bound) return;
    rec.bound = true;
    rec.layer.bindPopup(function () { return facilityPopup(rec.props); }, { maxWidth: 320 });
    rec.layer.bindTooltip(function () { return el("span", null, nameOf(rec.props)); });
  }

  function touchedFacility(e) {
    var target = e.layer || e.propagatedFrom;
    var rec = target && facilities[target._facilityId];
    if (!rec || rec.bound) return null;
    bindFacility(rec);
    return rec;
  }

  Object.keys(KIND_STROKE).forEach(function (kind) {
    if (!layers[kind]) return;
    layers[kind].on("click", function (e) {
      var rec = touchedFacility(e);
      if (rec) rec.layer.openPopup();
    });
    layers[kind].on("mouseover", function (e) {
      var rec = touchedFacility(e);
      if (rec) rec.layer.openTooltip();
    });
  });

  function updateFacility(p) {
    var rec = facilities[p.id];
    if (!rec) return false;
    if (!newer(p.last_report_at, rec.props.last_report_at) &&
        p.last_report_at !== rec.props.last_report_at) return false;
    rec.props = p;
    rec.shown = shownStatus(p);
    rec.layer.setStyle(facilityStyle(p));
    var popup = rec.layer.getPopup();
    if (popup && popup.isOpen()) popup.setContent(facilityPopup(p));
    return true;
  }

  // Stale is a matter of time, not of events: re-check every 20 s.
  setInterval(function () {
    Object.keys(facilities).forEach(function (id) {
      var rec = facilities[id];
      var now = shownStatus(rec.props);
      if (now !== rec.shown) { rec.shown = now; rec.layer.setStyle(facilityStyle(rec.props)); }
    });
  }, 20000);

  // --- units --------------------------------------------------------------

  function unitIcon(p) {
    return L.divIcon({
      className: "unit-icon unit-" + p.status + (p.negative_pressure ? " unit-np" : ""),
      iconSize: p.negative_pressure ? [20, 20] : [16, 16],
    });
  }

  function unitPopup(p, detail) {
    var box = el("div", "popup popup-unit");
    box.appendChild(el("h3", null, p.call_sign));
    if (p.negative_pressure) box.appendChild(el("p", "popup-np", labels.negative_pressure));
    var status = el("p");
    status.appendChild(document.createTextNode(labels.status + ": "));
    status.appendChild(el("span", "ustatus unit-" + p.status, labels.unit_status[p.status] || p.status));
    box.appendChild(status);
    box.appendChild(el("p", "popup-crew", labels.crew + ": " + (p.crew || []).join("、")));
    if (detail && detail.station) box.appendChild(el("p", null, labels.station + ": " + detail.station));
    box.appendChild(el("p", "popup-when", labels.position_at + ": " + when(p.position_at)));
    if (detail) {
      box.appendChild(el("h4", null, labels.status_history));
      var list = el("ol", "popup-history");
      detail.status_history.forEach(function (c) {
        list.appendChild(el("li", null, when(c.at) + " " + (labels.unit_status[c.status] || c.status) +
          (c.note ? " — " + c.note : "")));
      });
      box.appendChild(list);
      box.appendChild(el("p", "popup-track", labels.track.replace("{n}", detail.track.points.length)));
    } else {
      box.appendChild(el("p", "empty", labels.loading));
    }
    return box;
  }

  function showTrack(unitId, points) {
    if (track) map.removeLayer(track.line);
    var latlngs = points.map(function (pt) { return [pt.lat, pt.lon]; });
    track = { unitId: unitId, line: L.polyline(latlngs, { color: "#0b5cad", weight: 3, opacity: 0.7 }).addTo(map) };
  }

  function openUnit(id) {
    var rec = units[id];
    if (!rec) return Promise.resolve(null);
    rec.marker.bindPopup(unitPopup(rec.props, null), { maxWidth: 320 }).openPopup();
    return fetch(cfg.urls.unit.replace("{id}", encodeURIComponent(id)), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (detail) {
        if (!detail) return null;
        rec.detail = detail;
        rec.marker.setPopupContent(unitPopup(rec.props, detail));
        showTrack(id, detail.track.points);
        return detail;
      });
  }

  function addUnit(feature) {
    var p = feature.properties;
    if (units[p.id]) { applyUnit(p); return; }
    if (p.lon === null || p.lat === null) return;
    // The click also reaches the map, so clicking where an ambulance stands still sets
    // the incident location (incidents.js listens on the map).
    var marker = L.marker([p.lat, p.lon], { icon: unitIcon(p), keyboard: true, title: p.call_sign,
      zIndexOffset: 1000, bubblingMouseEvents: true });
    units[p.id] = { props: p, marker: marker };
    marker.on("click", function () { openUnit(p.id); });
    layers.units.addLayer(marker);
  }

  function applyUnit(p) {  // a full unit (status change)
    var rec = units[p.id];
    if (!rec) return;
    var statusChanged = rec.props.status !== p.status;
    var keepPos = !newer(p.position_at, rec.props.position_at);
    var merged = Object.assign({}, p);
    if (keepPos) {
      merged.lon = rec.props.lon; merged.lat = rec.props.lat; merged.position_at = rec.props.position_at;
    }
    rec.props = merged;
    if (statusChanged) rec.marker.setIcon(unitIcon(merged));
    if (!keepPos) rec.marker.setLatLng([merged.lat, merged.lon]);
    refreshUnitPopup(rec);
  }

  function moveUnit(pos) {
    var rec = units[pos.id];
    if (!rec || !newer(pos.at, rec.props.position_at)) return;
    rec.props.lon = pos.lon; rec.props.lat = pos.lat; rec.props.position_at = pos.at;
    rec.marker.setLatLng([pos.lat, pos.lon]);
    if (track && track.unitId === pos.id) track.line.addLatLng([pos.lat, pos.lon]);
    refreshUnitPopup(rec);
  }

  function refreshUnitPopup(rec) {
    var popup = rec.marker.getPopup();
    if (popup && popup.isOpen()) popup.setContent(unitPopup(rec.props, rec.detail));
  }

  // --- places and areas ---------------------------------------------------

  function placePopup(p) {
    var box = el("div", "popup popup-place");
    box.appendChild(el("h3", null, nameOf(p)));
    box.appendChild(el("p", null, (labels.places[p.kind] || p.kind) + " · " +
      labels.population + ": " + Number(p.population).toLocaleString(lang)));
    return box;
  }

  function addPlaces(collection) {
    var batch = [];
    collection.features.forEach(function (f) {
      var p = f.properties;
      if (places[p.id]) return;
      var layer;
      if (f.geometry.type === "Point") {
        layer = L.circleMarker([p.lat, p.lon], {
          radius: p.population > 2000 ? 4 : 3, weight: 1, color: "#555", fillColor: "#f5d76e",
          fillOpacity: 0.9,
        });
      } else {
        // Polygons are drawn whole but clustered by their representative point.
        layer = L.geoJSON(f, { style: { color: "#8d6e63", weight: 1, fillOpacity: 0.3 } });
        layer.getLatLng = function () { return L.latLng(p.lat, p.lon); };
      }
      layer.bindPopup(function () { return placePopup(p); });
      places[p.id] = layer;
      batch.push(layer);
    });
    addMany(layers.places, batch);
  }

  var OUTLINE_STYLE = {
    province: { color: "#5c6b7a", weight: 3, dashArray: "8 6", fill: false },
    city: { color: "#12263a", weight: 2.5, fill: false },
    other: { color: "#12263a", weight: 1, opacity: 0.7, fillColor: "#dfe7ef", fillOpacity: 0.12 },
  };

  function addAreas(collection) {
    collection.features.forEach(function (f) {
      var p = f.properties;
      var city = /00$/.test(p.code) && p.level !== "province";  // the prefecture-level city
      if (f.geometry.type !== "Point" && layers.boundaries) {
        var style = OUTLINE_STYLE[p.level === "province" ? "province" : (city ? "city" : "other")];
        layers.boundaries.addLayer(L.geoJSON(f, { style: style, interactive: false }));
      }
      var lon = p.seat_lon !== undefined ? p.seat_lon : null;
      var lat = p.seat_lat !== undefined ? p.seat_lat : null;
      if (f.geometry.type === "Point") { lon = f.geometry.coordinates[0]; lat = f.geometry.coordinates[1]; }
      if (lon === null || lat === null) return;  // an outline for context only (the province)
      var seat = L.circleMarker([lat, lon], {
        radius: city ? 7 : 5, weight: 2, color: "#12263a", fillColor: "#fff", fillOpacity: 1,
        interactive: false,
      });
      var name = lang.indexOf("zh") === 0 ? p.name_zh : p.name_en;
      // The city's seat is also its central district's (乌兰察布市 / 集宁区): the city's
      // name goes above the point, the district's to the right, so they never overlap.
      seat.bindTooltip(el("span", "seat-label", name), {
        permanent: true, direction: city ? "top" : "right", offset: city ? [0, -8] : [0, 0],
        className: "seat-tooltip" + (city ? " seat-city" : ""),
      });
      layers.areas.addLayer(seat);
    });
  }

  function addMany(group, list) {
    if (!list.length) return;
    if (typeof group.addLayers === "function") group.addLayers(list);
    else list.forEach(function (l) { group.addLayer(l); });
  }

  // --- stock depots ---------------------------------------------------------
  // Depots come from the stock tables (GET /api/stock/map) onto the stockpile layer,
  // with their stock status; a facility of kind stockpile_depot with the same code is
  // the same depot and is not drawn. Any stock event reloads them (one fetch per burst).

  var depots = {};       // code -> {props, marker}
  var depotTimer = null;

  function depotIcon(p) {
    return L.divIcon({ className: "depot-icon depot-" + p.status, iconSize: [16, 16] });
  }

  function depotPopup(p) {
    var d = labels.depot;
    var box = el("div", "popup popup-depot");
    box.appendChild(el("h3", null, lang.indexOf("zh") === 0 ? p.name_zh : p.name_en));
    var meta = el("p", "popup-meta");
    meta.appendChild(el("span", null, d.kind + " " + p.code));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", "depot-status depot-status-" + p.status, d.status[p.status]));
    box.appendChild(meta);
    if (p.owner) box.appendChild(el("p", null, d.owner + ": " + p.owner));
    if (p.contact_name || p.contact_phone) {
      box.appendChild(el("p", null, d.contact + ": " +
        [p.contact_name, p.contact_phone].filter(Boolean).join(" ")));
    }
    if (p.items.length) {
      box.appendChild(el("h4", null, d.below));
      var list = el("ul", "popup-depot-items");
      p.items.forEach(function (it) {
        var li = el("li", it.critical ? "critical" : null, d.line
          .replace("{item}", lang.indexOf("zh") === 0 ? it.name_zh : it.name_en)
          .replace("{available}", it.available).replace("{transit}", it.in_transit)
          .replace("{target}", it.target).replace("{short}", it.shortfall));
        li.dataset.item = it.item;
        list.appendChild(li);
      });
      if (p.below_target > p.items.length) {
        list.appendChild(el("li", null, d.more.replace("{n}", p.below_target - p.items.length)));
      }
      box.appendChild(list);
    }
    if (p.expiring) box.appendChild(el("p", null, d.expiring.replace("{n}", p.expiring)));
    if (p.running_out) box.appendChild(el("p", null, d.running_out.replace("{n}", p.running_out)));
    if (cfg.urls.depot_page) {
      var a = el("a", "popup-depot-link", d.open);
      a.href = cfg.urls.depot_page.replace("{code}", encodeURIComponent(p.code));
      box.appendChild(a);
    }
    return box;
  }

  function hideFacilityTwin(code) {
    Object.keys(facilities).forEach(function (id) {
      var rec = facilities[id];
      if (rec.props.kind !== "stockpile_depot" || rec.props.code !== code) return;
      facilityLayerOf(rec.props).removeLayer(rec.layer);
      delete facilities[id];
    });
  }

  function applyDepots(fc) {
    var seen = {};
    fc.features.forEach(function (f) {
      var p = f.properties;
      var c = f.geometry.coordinates;
      seen[p.code] = true;
      var rec = depots[p.code];
      if (!rec) {
        var marker = L.marker([c[1], c[0]], { icon: depotIcon(p), keyboard: true,
          title: lang.indexOf("zh") === 0 ? p.name_zh : p.name_en });
        rec = depots[p.code] = { props: p, marker: marker };
        marker.bindPopup(function () { return depotPopup(rec.props); }, { maxWidth: 340 });
        layers.stockpile_depot.addLayer(marker);
        hideFacilityTwin(p.code);
        return;
      }
      var changed = rec.props.status !== p.status;
      rec.props = p;
      rec.marker.setLatLng([c[1], c[0]]);
      if (changed) rec.marker.setIcon(depotIcon(p));
      var popup = rec.marker.getPopup();
      if (popup && popup.isOpen()) popup.setContent(depotPopup(p));
    });
    Object.keys(depots).forEach(function (code) {
      if (seen[code]) return;
      layers.stockpile_depot.removeLayer(depots[code].marker);
      delete depots[code];
    });
  }

  function loadDepots() {
    if (!cfg.urls.depots || !layers.stockpile_depot) return Promise.resolve();
    return getJSON(cfg.urls.depots).then(applyDepots);
  }

  function scheduleDepots() {
    if (depotTimer !== null) return;
    depotTimer = setTimeout(function () {
      depotTimer = null;
      loadDepots().catch(function (err) { console.error(err); scheduleDepots(); });
    }, 250);
  }

  // --- loading and events -------------------------------------------------

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(url + " " + r.status);
      return r.json();
    });
  }

  function loadFacilities() {
    return getJSON(cfg.urls.facilities).then(function (fc) {
      var batch = {};
      fc.features.forEach(function (f) { addFacility(f, batch); });
      Object.keys(batch).forEach(function (kind) { addMany(layers[kind], batch[kind]); });
    });
  }

  function loadUnits() {
    return getJSON(cfg.urls.units).then(function (fc) { fc.features.forEach(addUnit); });
  }

  function loadPlaces() { return getJSON(cfg.urls.places).then(addPlaces); }

  function handle(ev) {
    var p = ev.payload || {};
    switch (ev.type) {
      case "unit.moved": (p.positions || []).forEach(moveUnit); break;
      case "unit.status_changed": applyUnit(p); break;
      case "facility.capacity_reported":
      case "facility.capabilities_changed":
        if (!updateFacility(p) && !facilities[p.id]) loadFacilities();
        break;
      case "facilities.loaded": loadFacilities(); break;
      case "units.loaded": loadUnits(); break;
      case "places.loaded": loadPlaces(); break;
      default:
        if (ev.type.indexOf("stock.") === 0) scheduleDepots();
        break;
    }
  }

  function onEvent(ev) {
    if (!ready) { pending.push(ev); return; }
    handle(ev);
  }

  if (global.Coordination.live) global.Coordination.live.onEvent(onEvent);

  function load() {
    root.dataset.state = "loading";
    Promise.all([
      getJSON(cfg.urls.areas).then(addAreas), loadFacilities(), loadUnits(), loadPlaces(),
      loadDepots(),
    ]).then(function () {
      ready = true;
      var queued = pending;
      pending = [];
      queued.forEach(handle);
      root.dataset.state = "ready";
      errorBox.hidden = true;
      global.dispatchEvent(new CustomEvent("livemap:ready"));
    }, function (err) {
      console.error(err);
      errorBox.textContent = labels.load_failed;
      errorBox.hidden = false;
      setTimeout(load, 5000);
    });
  }
  load();

  function openFacility(id) {
    var rec = facilities[id];
    if (!rec) return false;
    bindFacility(rec);
    var group = facilityLayerOf(rec.props);
    if (typeof group.zoomToShowLayer === "function") {
      group.zoomToShowLayer(rec.layer, function () { rec.layer.openPopup(); });
    } else {
      rec.layer.openPopup();
    }
    return true;
  }

  /* A small read API for tests, the benchmark and other page modules. */
  global.Coordination.livemap = {
    map: map,
    isReady: function () { return ready; },
    facility: function (id) {
      var rec = facilities[id];
      if (!rec) return null;
      var ll = rec.layer.getLatLng();
      return { status: shownStatus(rec.props), fill: rec.layer.options.fillColor,
        lat: ll.lat, lng: ll.lng, props: rec.props };
    },
    unit: function (id) {
      var rec = units[id];
      if (!rec) return null;
      var ll = rec.marker.getLatLng();
      var icon = rec.marker.getElement();
      return { lat: ll.lat, lng: ll.lng, status: rec.props.status,
        className: icon ? icon.className : "", props: rec.props };
    },
    counts: function () {
      return { facilities: Object.keys(facilities).length, units: Object.keys(units).length,
        places: Object.keys(places).length };
    },
    openFacility: openFacility,
    openUnit: openUnit,
    depot: function (code) {
      var rec = depots[code];
      if (!rec) return null;
      var icon = rec.marker.getElement();
      return { status: rec.props.status, className: icon ? icon.className : "",
        props: rec.props };
    },
    openDepot: function (code) {
      var rec = depots[code];
      if (!rec) return false;
      rec.marker.openPopup();
      return true;
    },
  };
})(window);
