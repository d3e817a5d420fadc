/*
 * Renders the live event feed from the page's bootstrap data and keeps it
 * current through the live channel. Descriptions arrive translated from the
 * server; every value is inserted as text, never as HTML.
 */
(function (global) {
  "use strict";
  var MAX_ITEMS = 200;
  var dataNode = document.getElementById("feed-data");
  if (!dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var list = document.getElementById("feed-list");
  var empty = document.getElementById("feed-empty");
  var lang = document.documentElement.lang || "zh-CN";
  var timeFormat = new Intl.DateTimeFormat(lang, {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
    timeZone: data.timezone,
  });

  function lookup(ev, path) {
    var value = ev, parent = null, last = "";
    path.split(".").forEach(function (key) {
      parent = value;
      last = key;
      value = value === null || value === undefined ? undefined : value[key];
    });
    // A name kept in both languages (a facility's name and name_en): the reader's half.
    if (last === "name" && parent && parent.name_en && lang.indexOf("zh") !== 0) {
      return String(parent.name_en);
    }
    // A value written in both languages (a plan task's title) has its pair beside it.
    var both = parent && typeof parent === "object" ? parent[last + "_i18n"] : null;
    if (both && typeof both === "object" && "zh" in both && "en" in both) value = both;
    if (value === undefined || value === null) return "";
    if (typeof value === "object" && "zh" in value && "en" in value) {  // a {zh, en} pair
      return String(document.documentElement.lang.indexOf("zh") === 0 ? value.zh : value.en);
    }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  // A code in a sentence (a status, a type) reads as its display name.
  var codes = data.codes || { coded: {}, vocab: {} };
  function named(type, key, value) {
    var vocab = (codes.coded[type] || {})[key];
    var words = vocab ? codes.vocab[vocab] || {} : {};
    return words[value] === undefined ? value : words[value];
  }

  function describe(ev) {
    var template = data.descriptions[ev.type] || data.descriptions["*"];
    return template.replace(/\{([a-z_.]+)\}/g, function (_m, key) {
      if (key === "actor") return ev.actor ? (ev.actor.display || ev.actor.name) : "";
      return named(ev.type, key, lookup(ev, key));
    });
  }

  var quiet = data.quiet || [];
  global.Coordination = global.Coordination || {};
  global.Coordination.describeEvent = describe;
  // Configuration events (roster, accounts, catalogue): hidden where the page offers
  // the switch (the command room), shown everywhere else.
  var configTypes = data.config || [];
  var showConfig = document.getElementById("feed-show-config");
  function isConfig(type) {
    return configTypes.some(function (c) {
      return c.charAt(c.length - 1) === "." ? type.indexOf(c) === 0 : type === c;
    });
  }
  function applyFilter() {
    list.classList.toggle("hide-config", !!showConfig && !showConfig.checked);
  }
  if (showConfig) showConfig.addEventListener("change", applyFilter);
  applyFilter();

  function render(ev, fresh) {
    if (quiet.indexOf(ev.type) >= 0) return;
    var item = document.createElement("li");
    item.dataset.seq = ev.seq;
    item.dataset.type = ev.type;
    if (fresh) item.className = "fresh";
    if (isConfig(ev.type)) item.classList.add("config");
    var time = document.createElement("time");
    time.dateTime = ev.at;
    time.textContent = timeFormat.format(new Date(ev.at));
    var text = document.createElement("span");
    text.className = "feed-text";
    text.textContent = describe(ev);
    item.appendChild(time);
    item.appendChild(text);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > MAX_ITEMS) list.removeChild(list.lastChild);
    empty.hidden = true;
  }

  data.events.forEach(function (ev) { render(ev, false); });
  empty.hidden = data.events.length > 0;

  var live = global.Coordination.createLive({ context: data.context, head: data.head });
  live.onEvent(function (ev) { render(ev, true); });
  var badge = document.getElementById("conn-state");
  if (badge) {
    live.onState(function (state) {
      badge.dataset.state = state;
      badge.textContent = data.labels[state] || state;
    });
  }
  global.Coordination.live = live;
  global.Coordination.timeFormat = timeFormat;
  global.Coordination.describe = describe;
})(window);
