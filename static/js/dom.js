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
  /* The server's own "nothing was saved, try again": a write that rolled back (503,
     code "retry") or one refused before it started because the server is overloaded
     (503 "overloaded", 429). Sending it again is safe. A few tries, Retry-After apart,
     each wait spread by ±50 % so a room of screens does not come back in step. */
  var RETRIES = 3;
  var RETRY_CODES = { retry: true, overloaded: true };
  function retryDelay(resp, data) {
    var shed = resp.status === 429 || (resp.status === 503 && data && RETRY_CODES[data.code]);
    if (!shed) return null;
    var seconds = parseInt(resp.headers.get("Retry-After") || "2", 10);
    var base = Math.min(isNaN(seconds) ? 2 : seconds, 10) * 1000;
    return Math.round(base * (0.5 + Math.random()));
  }

  function postJSON(url, body, triesLeft) {
    var left = triesLeft === undefined ? RETRIES : triesLeft;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        var wait = retryDelay(resp, data);
        if (wait !== null && left > 0) {
          return new Promise(function (done) { setTimeout(done, wait); })
            .then(function () { return postJSON(url, body, left - 1); });
        }
        return { ok: resp.ok, status: resp.status, body: data,
                 retryAfter: wait === null ? null : wait };
      });
    });
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
