/*
 * The trainer's console: the scenario clock ticks at the run's speed, and the
 * run's state (status, speed, which injects fired) is refreshed from the API
 * every two seconds, so a scheduler firing in any server process shows up
 * without a reload. Values are inserted as text only.
 */
(function (global) {
  "use strict";
  var node = document.getElementById("drill-console-config");
  if (!node) return;
  var cfg = JSON.parse(node.textContent);
  var lang = document.documentElement.lang || "zh-CN";
  var clockFmt = new Intl.DateTimeFormat(lang, {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hour12: false, timeZone: cfg.timezone,
  });
  var timeFmt = new Intl.DateTimeFormat(lang, {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: cfg.timezone,
  });
  var state = { simAt: Date.parse(cfg.run.sim_now), realAt: Date.now(), speed: cfg.run.speed,
    running: cfg.run.status === "running" };
  var simNode = document.getElementById("sim-now");

  function tick() {
    var sim = state.simAt + (state.running ? (Date.now() - state.realAt) * state.speed : 0);
    simNode.textContent = clockFmt.format(new Date(sim));
  }

  function apply(run) {
    state = { simAt: Date.parse(run.sim_now), realAt: Date.now(), speed: run.speed,
      running: run.status === "running" };
    var status = document.querySelector("#run-status .tag");
    status.textContent = cfg.labels.run[run.status] || run.status;
    status.className = "tag drill-state-" + run.status;
    document.getElementById("run-speed").textContent = run.speed + "×";
    document.getElementById("drill-console").dataset.status = run.status;
    run.injects.forEach(function (inj) {
      var row = document.querySelector('#injects tr[data-inject="' + inj.id + '"]');
      if (!row) { if (inj.status !== "pending") cfg.reload = true; return; }
      if (row.dataset.status === inj.status) return;
      row.dataset.status = inj.status;
      row.className = "inject-" + inj.status;
      var cell = row.cells[4];
      cell.textContent = cfg.labels.inject[inj.status] || inj.status;
      if (inj.fired) {
        cell.appendChild(document.createElement("br"));
        var small = document.createElement("small");
        small.textContent = timeFmt.format(new Date(inj.fired));
        cell.appendChild(small);
      }
      var form = row.cells[5].querySelector("form");
      if (form && inj.status !== "pending") form.remove();
    });
  }

  function refresh() {
    global.CoordinationDom.getJSON(cfg.api)
      .then(function (run) { if (run) apply(run); })
      .catch(function () { /* the next refresh tries again */ });
  }

  setInterval(tick, 250);
  setInterval(refresh, 2000);
  tick();
  global.Coordination = global.Coordination || {};
  global.Coordination.drillConsole = { refresh: refresh };
})(window);
