/* The duty-log form and list on the command-room page. */
(function (global) {
  "use strict";
  var form = document.getElementById("dutylog-form");
  var list = document.getElementById("dutylog-list");
  var labels = JSON.parse(document.getElementById("dutylog-labels").textContent);
  var live = global.Coordination.live;

  function addEntry(entry) {
    var item = document.createElement("li");
    item.className = "fresh";
    var time = document.createElement("time");
    time.dateTime = entry.logged_at;
    time.textContent = global.Coordination.timeFormat.format(new Date(entry.logged_at)).slice(0, 5);
    var tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = labels[entry.category] || entry.category;
    var author = document.createElement("small");
    author.textContent = "— " + entry.author;
    item.appendChild(time);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(tag);
    item.appendChild(document.createTextNode(" " + entry.text + " "));
    item.appendChild(author);
    list.insertBefore(item, list.firstChild);
  }

  if (live) {
    live.onEvent(function (ev) {
      if (ev.type === "dutylog.posted") addEntry(ev.payload);
    });
  }

  if (form) {
    var error = document.getElementById("dutylog-error");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = {
        text: form.elements.text.value,
        category: form.elements.category.value,
        area: form.elements.area.value || null,
      };
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      global.Coordination.postJSON(form.action, body).then(function (res) {
        button.disabled = false;
        if (res.ok) {
          form.elements.text.value = "";
          error.hidden = true;
        } else {
          error.textContent = res.body.error || String(res.status);
          error.hidden = false;
        }
      }, function () {
        button.disabled = false;
        error.textContent = form.dataset.offline || "offline";
        error.hidden = false;
      });
    });
  }
})(window);
