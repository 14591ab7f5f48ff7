// Focus and announcements around htmx swaps (issue 15), one mechanism for every htmx action:
// votes on a request's suggestions, saving a care card, the review queue's decisions, care tasks.
// The site works without this file: every form also posts plainly.
//
// Focus. When a request starts while focus is on a control inside the element making it (a
// form's button) or inside its target, the ids of that control and of its ancestors within the
// swapped part are remembered. After the swap settles, if focus fell to <body> because the
// control was replaced, it goes to the first of:
//   1. the control with the same id in the new content, when visible (htmx 2 tries this itself);
//   2. the closest remembered ancestor still on the page (by id, e.g. the review queue's item,
//      now saying "Approved"): its status message (role=status or alert, with text), else its
//      first visible form control, else its first link, else its heading, else itself;
//   3. the swap target, by the same rule.
// So a control that should keep focus across a swap has an id that the new content repeats.
//
// Announcements. An answer whose HX-Trigger header carries {"<event>": {"message": "..."}} has the
// message read out: in the page's own status line for that event ([data-announce~="<event>"],
// the dashboard's) when there is one, else in a polite live region made on first use (visually
// hidden). After a swap the message is set once focus has moved. A form answered 400 (sent back
// with its messages) puts focus on its first field marked aria-invalid instead.
(function () {
  "use strict";

  var CONTROLS = "button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), "
    + "textarea:not([disabled])";
  var LINKS = "a[href], summary";
  var HEADINGS = "h1, h2, h3, h4, h5, h6";
  var STATUSES = "[role=status], [role=alert]";
  var pending = new WeakMap();  // the request's XMLHttpRequest -> what to do once it is answered

  function liveRegion() {
    var region = document.querySelector("[data-live-announcer]");
    if (!region) {
      region = document.createElement("div");
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      region.setAttribute("data-live-announcer", "");
      region.className = "visually-hidden";
      document.body.append(region);
    }
    return region;
  }

  function say(regions, message) {
    // Cleared first so that the same message twice in a row is announced twice.
    regions.forEach(function (region) { region.textContent = ""; });
    window.setTimeout(function () {
      regions.forEach(function (region) { region.textContent = message; });
    }, 50);
  }

  // The messages of the answer's HX-Trigger events, each where it belongs.
  function announce(xhr) {
    var header = xhr && xhr.getResponseHeader("HX-Trigger");
    if (!header || header.trim().charAt(0) !== "{") return;
    var events;
    try { events = JSON.parse(header); } catch (error) { return; }
    var general = [];
    // Focus just moved to a status saying the same thing (a decided queue item): already read.
    var active = document.activeElement;
    var focusedStatus = active && active.matches && active.matches(STATUSES) ? active.textContent : "";
    Object.keys(events).forEach(function (name) {
      var detail = events[name];
      var message = detail && typeof detail.message === "string" ? detail.message : "";
      if (!message || focusedStatus.indexOf(message) !== -1) return;
      var own = document.querySelectorAll('[data-announce~="' + CSS.escape(name) + '"]');
      if (own.length) say(Array.prototype.slice.call(own), message);
      else general.push(message);
    });
    if (general.length) say([liveRegion()], general.join(" "));
  }

  function visible(element) {
    return element.isConnected && element.getClientRects().length > 0;
  }

  function firstVisible(region, selector) {
    if (region.matches(selector) && visible(region)) return region;
    var found = region.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) if (visible(found[i])) return found[i];
    return null;
  }

  function focusOn(element) {
    if (!element || !visible(element)) return false;
    if (element.tabIndex < 0 && !element.hasAttribute("tabindex")) element.setAttribute("tabindex", "-1");
    element.focus();
    return document.activeElement === element;
  }

  function focusInside(region) {
    var statuses = region.querySelectorAll(STATUSES);
    for (var i = 0; i < statuses.length; i++) {
      if (statuses[i].textContent.trim() && focusOn(statuses[i])) return true;
    }
    return focusOn(firstVisible(region, CONTROLS)) || focusOn(firstVisible(region, LINKS))
      || focusOn(firstVisible(region, HEADINGS)) || focusOn(region);
  }

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }

  // The ids of the control and of its ancestors up to the swap target; an ancestor holding the
  // target is outside what is swapped, so focus is not sent there.
  function idsFrom(control, target) {
    var ids = [];
    for (var node = control; node && node !== document.body; node = node.parentElement) {
      if (node !== target && target && node.contains(target)) break;
      if (node.id) ids.push(node.id);
    }
    return ids;
  }

  // The first field marked invalid in what was swapped: the target, or (swapped outerHTML, so
  // the remembered element is gone) its successor by id, or a remembered ancestor.
  function focusInvalid(record) {
    var places = [record.target, record.target && record.target.id && document.getElementById(record.target.id)];
    record.ids.forEach(function (id) { places.push(document.getElementById(id)); });
    for (var i = 0; i < places.length; i++) {
      var place = places[i];
      if (!place || !place.isConnected) continue;
      var invalid = firstVisible(place, '[aria-invalid="true"]');
      if (invalid) return focusOn(invalid);
    }
    return false;
  }

  function restoreFocus(record) {
    if (!record.tracked || !focusLost()) return;
    if (record.controlHadId && focusOn(document.getElementById(record.ids[0]))) return;
    for (var i = record.controlHadId ? 1 : 0; i < record.ids.length; i++) {
      var ancestor = document.getElementById(record.ids[i]);
      if (ancestor && focusInside(ancestor)) return;
    }
    var target = record.target && record.target.isConnected ? record.target : null;
    if (target) focusInside(target);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var detail = event.detail || {};
    if (!detail.xhr) return;
    var record = { tracked: false, ids: [], controlHadId: false, target: detail.target || null, swapped: false };
    var active = document.activeElement;
    var inside = function (element) { return element && element.contains && element.contains(active); };
    if (active && active !== document.body && (inside(detail.elt) || inside(detail.target))) {
      record.tracked = true;
      record.ids = idsFrom(active, detail.target);
      record.controlHadId = Boolean(active.id);
    }
    pending.set(detail.xhr, record);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var record = event.detail && pending.get(event.detail.xhr);
    if (record) record.swapped = true;
  });

  // An answer that swapped nothing (204, refused): only its message.
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var record = xhr && pending.get(xhr);
    if (!record || record.swapped) return;
    pending.delete(xhr);
    announce(xhr);
  });

  // Fired once for each settled element of a swap: the first one does the work.
  document.addEventListener("htmx:afterSettle", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var record = xhr && pending.get(xhr);
    if (!record) return;
    pending.delete(xhr);
    // A form sent back with its messages (400): focus goes to the first field marked invalid,
    // where the message is read with it (GOV.UK's error pattern), not back to the button.
    if (!(record.tracked && xhr.status === 400 && focusInvalid(record))) restoreFocus(record);
    announce(xhr);
  });
})();
