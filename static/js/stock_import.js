/* The stock import page's live progress bar.
 *
 * The form is still submitted the ordinary way (the answer page lists the result or every
 * bad row); while the browser waits for it, this page keeps running and polls the job it
 * named in the hidden "job" field: rows checked of the total, problems so far, then
 * posting and done.
 */
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  var box = document.getElementById("import-progress");
  if (!form || !box) return;
  var bar = box.querySelector("progress");

  function newJob() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function show(p) {
    var label = box.dataset[p.phase] || p.phase;
    box.querySelector(".import-phase").textContent = label;
    box.querySelector(".import-rows").textContent =
      p.rows_total ? p.rows_done + " / " + p.rows_total : "";
    box.querySelector(".import-errors").textContent =
      p.errors ? "· " + p.errors + " " + box.dataset.problems : "";
    bar.value = p.rows_total ? Math.round(100 * p.rows_done / p.rows_total) : 0;
  }

  form.addEventListener("submit", function () {
    var job = newJob();
    form.elements.job.value = job;
    var url = box.dataset.url.replace("JOB", job);
    box.hidden = false;
    show({ phase: "reading", rows_total: 0, rows_done: 0, errors: 0 });
    var timer = setInterval(function () {
      fetch(url, { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (p) {
        if (!p) return;
        show(p);
        if (p.phase === "done" || p.phase === "rejected" || p.phase === "failed") {
          clearInterval(timer);
        }
      }, function () { /* the next tick asks again */ });
    }, 400);
  });
})();
