// Relative times ("5 minutes ago") written by the browser from the timestamp (issue 13).
// Progressive enhancement: the server writes <time datetime="..." data-relative>5 minutes
// ago</time>, which stays as the text without JavaScript. With this file the text is computed
// here from the datetime attribute, in the words Django's naturaltime uses, at load, after
// every htmx swap, and again every 30 seconds, so a cached panel or a page left open never
// shows an old "5 minutes ago". The server keeps the exact moment in the element's title.
(function () {
  "use strict";
  var UNITS = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
  ];

  function plural(count, word) {
    return count + "\u00a0" + word + (count === 1 ? "" : "s");
  }

  // Django's timesince: the two largest adjacent units, e.g. "2 days, 3 hours".
  function since(seconds) {
    for (var i = 0; i < UNITS.length; i++) {
      var count = Math.floor(seconds / UNITS[i][1]);
      if (count > 0) {
        var text = plural(count, UNITS[i][0]);
        if (i + 1 < UNITS.length) {
          var rest = Math.floor((seconds - count * UNITS[i][1]) / UNITS[i + 1][1]);
          if (rest > 0) text += ", " + plural(rest, UNITS[i + 1][0]);
        }
        return text;
      }
    }
    return plural(0, "minute");
  }

  // Django's naturaltime for a moment in the past (a future one reads "now").
  function natural(seconds) {
    if (seconds < 1) return "now";
    if (seconds < 60) return seconds === 1 ? "a second ago" : seconds + "\u00a0seconds ago";
    if (seconds < 3600) {
      var minutes = Math.floor(seconds / 60);
      return minutes === 1 ? "a minute ago" : minutes + "\u00a0minutes ago";
    }
    if (seconds < 24 * 3600) {
      var hours = Math.floor(seconds / 3600);
      return hours === 1 ? "an hour ago" : hours + "\u00a0hours ago";
    }
    return since(seconds) + " ago";
  }

  function refresh(root) {
    var now = Date.now();
    var elements = (root || document).querySelectorAll("time[data-relative][datetime]");
    for (var i = 0; i < elements.length; i++) {
      var moment = Date.parse(elements[i].getAttribute("datetime"));
      if (isNaN(moment)) continue;
      var text = natural(Math.floor((now - moment) / 1000));
      if (elements[i].textContent !== text) elements[i].textContent = text;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    refresh(document);
    document.body.addEventListener("htmx:afterSettle", function (event) {
      refresh(event.detail && event.detail.elt ? event.detail.elt : document);
    });
    window.setInterval(function () {
      refresh(document);
    }, 30000);
  });
})();
