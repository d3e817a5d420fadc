/* An import job's page: the live progress bar.
 *
 * The job runs in the background (the upload only queued it); while it has not finished
 * this page polls its API (rows done of the total, problems so far, the phase) and, once
 * it ends, reloads so the server renders the outcome: rows imported or every bad row.
 */
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.dataset.finished === "true") return;
  var bar = box.querySelector("progress");

  function show(p) {
    var label = box.dataset[p.status === "running" ? p.phase : p.status] || "";
    box.querySelector(".import-phase").textContent = label;
    box.querySelector(".import-rows").textContent =
      p.rows_total ? p.rows_done + " / " + p.rows_total : "";
    box.querySelector(".import-errors").textContent =
      p.errors ? "· " + p.errors + " " + box.dataset.problems : "";
    bar.value = p.rows_total ? Math.round(100 * p.rows_done / p.rows_total) : 0;
  }

  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (p) {
      if (p) {
        show(p);
        if (p.finished) {
          window.location.reload();
          return;
        }
      }
      setTimeout(poll, 400);
    }, function () { setTimeout(poll, 1000); /* the next tick asks again */ });
  }
  setTimeout(poll, 200);
})();
