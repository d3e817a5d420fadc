/* The shared DOM and fetch helpers every page script uses (loaded by base.html).

   One element builder (text always through textContent, so user text is never
   parsed as HTML), one CSRF token lookup and one way to call the JSON API:
   getJSON rejects on a non-2xx answer with the server's message; postJSON and
   postForm resolve to {ok, status, body} so a form can show the refusal. */
(function (global) {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function answer(resp) {
    return resp.json().catch(function () { return {}; }).then(function (data) {
      return { ok: resp.ok, status: resp.status, body: data };
    });
  }

  /* GET a JSON resource; rejects with an Error naming the URL, status and message. */
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(answer)
      .then(function (res) {
        if (!res.ok) {
          var err = new Error(url + " " + res.status +
                              (res.body && res.body.error ? ": " + res.body.error : ""));
          err.status = res.status;
          err.body = res.body;
          throw err;
        }
        return res.body;
      });
  }

  /* JSON POST with the session's CSRF token; resolves to {ok, status, body}. */
  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(answer);
  }

  /* Multipart POST (a form with a file) with the CSRF token; resolves to {ok, status, body}. */
  function postForm(url, formData) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      body: formData,
    }).then(answer);
  }

  global.CoordinationDom = {
    el: el, csrfToken: csrfToken, getJSON: getJSON, postJSON: postJSON, postForm: postForm,
  };
})(window);
