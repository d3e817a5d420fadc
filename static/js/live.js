/*
 * The live channel: one Socket.IO connection per page that never silently
 * misses an event. It keeps the last sequence number it has applied, replays
 * from the server on every (re)connect and whenever it sees a gap or a newer
 * head, applies live events strictly in order with no duplicate, and shows the
 * connection state (connecting / live / reconnecting / lost) on the page.
 */
(function (global) {
  "use strict";

  function createLive(options) {
    var context = options.context || "live";
    var lastSeq = options.head || 0;
    var eventHandlers = [];
    var stateHandlers = [];
    var replaying = false;
    var again = false;
    var buffered = [];
    var state = "connecting";

    var socket = global.io({
      transports: ["websocket"],
      auth: { context: context },
      reconnectionDelay: 500,
      reconnectionDelayMax: 10000,
      randomizationFactor: 0.5,
    });

    function setState(next) {
      state = next;
      stateHandlers.forEach(function (h) { h(next); });
    }

    function apply(ev) {
      if (ev.seq <= lastSeq) return;
      lastSeq = ev.seq;
      eventHandlers.forEach(function (h) {
        try { h(ev); } catch (err) { console.error(err); }
      });
    }

    function flush() {
      var queued = buffered.sort(function (a, b) { return a.seq - b.seq; });
      buffered = [];
      queued.forEach(onLive);
    }

    function replay() {
      if (replaying) { again = true; return; }
      if (!socket.connected) return;
      replaying = true;
      socket.timeout(15000).emit("replay", { since: lastSeq }, function (err, res) {
        replaying = false;
        if (err || !res || !res.ok) {
          setTimeout(replay, 2000);
          return;
        }
        res.events.forEach(apply);
        if (res.head > lastSeq) lastSeq = res.head;
        if (res.more || again) { again = false; replay(); return; }
        if (state !== "live") setState("live");
        flush();
      });
    }

    function onLive(ev) {
      if (ev.context !== context || ev.seq <= lastSeq) return;
      if (replaying) { buffered.push(ev); return; }
      if (buffered.length && ev.seq !== lastSeq + 1) { buffered.push(ev); return; }
      if (ev.seq === lastSeq + 1) { apply(ev); return; }
      // A gap: an event we may not see, or one still on its way. Ask the log.
      buffered.push(ev);
      replay();
    }

    socket.on("connect", function () { replay(); });
    socket.on("event", onLive);
    // Under load the server sends runs of consecutive events as one message.
    socket.on("events", function (list) { list.forEach(onLive); });
    socket.on("head", function (msg) {
      if (msg && msg.context === context && msg.seq > lastSeq) replay();
    });
    socket.on("disconnect", function () { setState("reconnecting"); });
    socket.on("connect_error", function () {
      setState(socket.active ? "reconnecting" : "offline");
    });

    return {
      socket: socket,
      onEvent: function (h) { eventHandlers.push(h); },
      onState: function (h) { stateHandlers.push(h); h(state); },
      lastSeq: function () { return lastSeq; },
      state: function () { return state; },
    };
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* The server's own "nothing was saved, try again" (503, code "retry"): the write
     rolled back, so sending it again is safe. A few tries, Retry-After apart. */
  var RETRIES = 3;
  function retryDelay(resp, data) {
    if (resp.status !== 503 || !data || data.code !== "retry") return null;
    var seconds = parseInt(resp.headers.get("Retry-After") || "2", 10);
    return Math.min(isNaN(seconds) ? 2 : seconds, 10) * 1000;
  }

  /* JSON POST with the session's CSRF token; resolves to {ok, status, body}. */
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

  global.Coordination = { createLive: createLive, postJSON: postJSON };
})(window);
