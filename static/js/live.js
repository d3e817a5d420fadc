/*
 * The live channel: one Socket.IO connection per page that never silently
 * misses an event. It keeps the last sequence number it has applied, replays
 * from the server on every (re)connect and whenever it sees a gap or a newer
 * head, applies live events strictly in order with no duplicate, and shows the
 * connection state (connecting / live / delayed / reconnecting / lost) on the page.
 *
 * Under load it stays calm: reconnects back off with jitter (a surge must not
 * become 200 screens reconnecting in the same second), a replay asks for large
 * pages (few round trips), a replay prompted by a head waits a random moment,
 * and when the server says it is behind ("delayed" on its head) the screen
 * shows "delayed" and waits for the live events instead of asking the log.
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
      // Exponential back-off from 0.5 s to 10 s, each delay spread by ±90 %, so screens
      // the server dropped together come back spread out, not in one burst.
      reconnectionDelay: 500,
      reconnectionDelayMax: 10000,
      randomizationFactor: 0.9,
    });
    var REPLAY_PAGE = 5000;
    var HEAD_JITTER_MS = 2000;
    var headTimer = null;
    var delayed = false;

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
      socket.timeout(15000).emit("replay", { since: lastSeq, limit: REPLAY_PAGE }, function (err, res) {
        replaying = false;
        if (err || !res || !res.ok) {
          setTimeout(replay, 2000 + Math.random() * 2000);
          return;
        }
        res.events.forEach(apply);
        if (res.head > lastSeq) lastSeq = res.head;
        if (res.more || again) { again = false; replay(); return; }
        settle();
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
    function settle() {
      var next = delayed ? "delayed" : "live";
      if (state !== next) setState(next);
    }

    socket.on("head", function (msg) {
      if (!msg || msg.context !== context) return;
      delayed = !!msg.delayed;
      if (state === "live" || state === "delayed") settle();
      // Behind: the events are queued for this screen in order; asking the log too
      // would only add load. Otherwise replay after a random moment, not in step.
      if (delayed || msg.seq <= lastSeq || headTimer) return;
      headTimer = setTimeout(function () {
        headTimer = null;
        if (msg.seq > lastSeq) replay();
      }, Math.random() * HEAD_JITTER_MS);
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

  /* postJSON is the shared one (dom.js); kept here so page scripts keep one name. */
  global.Coordination = { createLive: createLive, postJSON: global.CoordinationDom.postJSON };
})(window);
