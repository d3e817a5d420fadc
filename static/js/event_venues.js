/*
 * Major-event cover on the live map (/ops): the venues (outlines), their medical
 * posts and the standby ambulance positions of every event in progress, in the
 * "Event venues and medical posts" layer folium drew (so the layer control
 * toggles it). Everything from the server is inserted as text (textContent),
 * never as HTML; words come translated in #event-venues-config. The layer is
 * re-read every 15 minutes: events begin and end at midnight.
 */
(function (global) {
  "use strict";
  var node = document.getElementById("event-venues-config");
  var mapNode = document.getElementById("livemap-config");
  var C = global.Coordination || {};
  if (!node || !mapNode || !C.livemap || !C.livemap.map || !global.L) return;
  var cfg = JSON.parse(node.textContent);
  var mapCfg = JSON.parse(mapNode.textContent);
  var labels = cfg.labels;
  var layer = global[mapCfg.layers.venues];
  if (!layer) return;
  var L = global.L;
  var records = {};
  var loaded = false;
  var lang = document.documentElement.lang || "zh-CN";
  var whenFormat = new Intl.DateTimeFormat(lang, {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });

  var el = global.CoordinationDom.el;

  function pick(pair) {
    if (!pair) return "";
    if (typeof pair === "string") return pair;
    return cfg.lang === "zh" ? (pair.zh || pair.en || "") : (pair.en || pair.zh || "");
  }

  function when(iso) { return whenFormat.format(new Date(iso)); }

  function popup(p) {
    var box = el("div", "venue-popup");
    box.appendChild(el("strong", null, pick(p.name)));
    box.appendChild(el("div", "muted", labels[p.kind] + " · " + pick(p.event_title)));
    if (p.kind === "venue") {
      box.appendChild(el("div", null, labels.sessions));
      var list = el("ul");
      (p.sessions || []).forEach(function (s) {
        list.appendChild(el("li", null, when(s.start) + "–" + when(s.end) + " " + pick(s.title)));
      });
      if (!(p.sessions || []).length) list.appendChild(el("li", null, labels.no_sessions));
      box.appendChild(list);
      if (cfg.can_sitrep) {
        var a = el("a", null, labels.sitrep);
        a.setAttribute("href", cfg.sitrep_url.replace("{id}", encodeURIComponent(p.event)));
        box.appendChild(a);
      }
    } else if (p.kind === "medical_post") {
      box.appendChild(el("div", null, labels.doctors + ": " + p.doctors + " · " +
        labels.nurses + ": " + p.nurses));
    } else if (p.kind === "standby") {
      box.appendChild(el("div", null, labels.crew + ": " + p.crew));
      box.appendChild(el("div", null, labels.held + ": " + when(p.start) + "–" + when(p.end)));
    }
    return box;
  }

  function draw(feature) {
    var p = feature.properties;
    var shape;
    if (p.kind === "venue") {
      shape = L.polygon(L.GeoJSON.coordsToLatLngs(feature.geometry.coordinates, 1), {
        color: "#6f42c1", weight: 2, fillColor: "#6f42c1", fillOpacity: 0.15,
        className: "event-venue" });
    } else {
      var c = feature.geometry.coordinates;
      shape = L.circleMarker([c[1], c[0]], p.kind === "medical_post"
        ? { radius: 7, color: "#fff", weight: 2, fillColor: "#c62828", fillOpacity: 1,
            className: "event-post" }
        : { radius: 7, color: "#6f42c1", weight: 3, fillColor: "#fff", fillOpacity: 1,
            className: "event-standby" });
    }
    shape.bindPopup(function () { return popup(p); }, { maxWidth: 320 });
    shape.bindTooltip(function () { return el("span", null, pick(p.name)); });
    return shape;
  }

  function apply(collection) {
    layer.clearLayers();
    records = {};
    collection.features.forEach(function (f) {
      var shape = draw(f);
      records[f.id] = { layer: shape, props: f.properties };
      layer.addLayer(shape);
    });
    loaded = true;
  }

  function load() {
    return global.CoordinationDom.getJSON(cfg.url)
      .then(apply, function (err) { console.error(err); });
  }

  load();
  setInterval(load, 15 * 60 * 1000);

  /* A small read API for tests and other page modules. */
  C.eventVenues = {
    isLoaded: function () { return loaded; },
    counts: function () {
      var out = { venue: 0, medical_post: 0, standby: 0 };
      Object.keys(records).forEach(function (id) { out[records[id].props.kind] += 1; });
      return out;
    },
    shown: function () { return C.livemap.map.hasLayer(layer); },
    open: function (id) {
      var rec = records[id];
      if (!rec) return false;
      rec.layer.openPopup();  // a venue's popup opens at its outline's centre
      return true;
    },
    reload: load,
    /* Centre the map on a feature; returns its centre as {lat, lng} (null if unknown). */
    focus: function (id) {
      var rec = records[id];
      if (!rec) return null;
      if (rec.layer.getBounds) C.livemap.map.fitBounds(rec.layer.getBounds(), { animate: false });
      else C.livemap.map.setView(rec.layer.getLatLng(), 15, { animate: false });
      var ll = rec.layer.getBounds ? rec.layer.getBounds().getCenter() : rec.layer.getLatLng();
      return { lat: ll.lat, lng: ll.lng };
    },
  };
})(window);
