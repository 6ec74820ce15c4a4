// callqa review: play from a moment, follow playback in the transcript and the timeline.
// Plain script, no build step; loaded from this app only (the Content-Security-Policy allows nothing else).
(function () {
  "use strict";
  function player() { return document.getElementById("player"); }

  function seek(t) {
    var p = player();
    if (!p || isNaN(t)) return;
    var go = function () {
      p.currentTime = Math.max(0, t);
      var played = p.play();
      if (played && played.catch) played.catch(function () {});
    };
    if (p.readyState >= 1) go();
    else { p.addEventListener("loadedmetadata", go, { once: true }); p.load(); }
  }

  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-seek]");
    if (!el) return;
    e.preventDefault();
    e.stopPropagation();
    seek(parseFloat(el.getAttribute("data-seek")));
  });
  document.addEventListener("keydown", function (e) {
    if ((e.key === "Enter" || e.key === " ") && e.target.matches && e.target.matches("li[data-seek]")) {
      e.preventDefault();
      seek(parseFloat(e.target.getAttribute("data-seek")));
    }
  });

  // A link to a moment (/calls/ID#t=SECONDS, from coaching reports): mark the transcript line
  // said then, scroll to it and cue the player there. No autoplay: the reviewer presses play.
  function cueMoment() {
    var m = /^#t=([0-9.]+)$/.exec(window.location.hash);
    if (!m) return;
    var t = parseFloat(m[1]);
    var lines = document.querySelectorAll("#transcript li[data-seek]");
    var best = null;
    for (var i = 0; i < lines.length; i++) {
      if (parseFloat(lines[i].getAttribute("data-seek")) <= t + 0.5) best = lines[i];
    }
    if (best) {
      best.classList.add("moment");
      best.scrollIntoView({ block: "center" });
    }
    var p = player();
    if (!p) return;
    var cue = function () { p.currentTime = Math.max(0, t); };
    if (p.readyState >= 1) cue(); else p.addEventListener("loadedmetadata", cue, { once: true });
  }
  window.addEventListener("hashchange", cueMoment);

  document.addEventListener("DOMContentLoaded", function () {
    cueMoment();
    var p = player();
    if (!p) return;
    var svg = document.getElementById("timeline");
    var head = document.getElementById("playhead");
    var lines = Array.prototype.slice.call(document.querySelectorAll("#transcript li[data-seek]"));
    var duration = svg ? parseFloat(svg.getAttribute("data-duration")) : 0;
    var current = null;
    p.addEventListener("timeupdate", function () {
      var t = p.currentTime;
      if (head && duration > 0) {
        var x = Math.min(100, 100 * t / duration);
        head.setAttribute("x1", x); head.setAttribute("x2", x);
      }
      var now = null;
      for (var i = 0; i < lines.length; i++) {
        var a = parseFloat(lines[i].getAttribute("data-seek")), b = parseFloat(lines[i].getAttribute("data-end"));
        if (t >= a && t <= b + 0.2) { now = lines[i]; }
      }
      if (now !== current) {
        if (current) current.classList.remove("playing");
        if (now) now.classList.add("playing");
        current = now;
      }
    });
    if (svg && duration > 0) {
      svg.addEventListener("click", function (e) {
        if (e.target.closest("[data-seek]")) return;
        var box = svg.getBoundingClientRect();
        seek(duration * (e.clientX - box.left) / box.width);
      });
    }
  });
})();
