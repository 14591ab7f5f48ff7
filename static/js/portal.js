// Small progressive enhancements; the site works without this file.
// A dashboard panel whose request fails (network error or a 5xx) shows an error inside itself
// instead of staying on "Loading" forever.
document.addEventListener("DOMContentLoaded", function () {
  function showPanelError(event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.classList || !target.classList.contains("panel")) return;
    var title = target.getAttribute("data-panel-title") || "This panel";
    target.setAttribute("aria-busy", "false");
    target.replaceChildren();
    var heading = document.createElement("h2");
    heading.textContent = title;
    var message = document.createElement("p");
    message.className = "panel-error";
    message.textContent = "This panel could not be loaded just now. The rest of the page still works; try reloading in a minute.";
    target.append(heading, message);
  }
  document.body.addEventListener("htmx:responseError", showPanelError);
  document.body.addEventListener("htmx:sendError", showPanelError);
  // With DEBUG on, django-htmx's debug script (listening on document) replaces the whole page
  // with any 400 answer to an htmx request, taking it for Django's error page. Ours are forms
  // with their messages or error fragments, which base.html's responseHandling swaps in place,
  // so they do not reach that script; a whole error page still does.
  document.body.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status === 400 && !/^\s*<(!doctype|html)/i.test(xhr.responseText || "")) event.stopPropagation();
  });
  // A form inside a panel (the care-due panel's Done and Snooze) makes the panel reload itself
  // (its hx-trigger listens for the event the answer sends), which removes the pressed button.
  // Focus then goes to the button now in its place (the next task's), else the last one, else
  // the panel's heading, instead of falling back to the page.
  var refocus = null;
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    var panel = elt && elt.closest ? elt.closest(".panel") : null;
    if (!panel || panel === elt) return;
    var buttons = Array.prototype.slice.call(panel.querySelectorAll("form button"));
    refocus = { panel: panel, index: Math.max(buttons.indexOf(document.activeElement), 0) };
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.classList && target.classList.contains("panel")) target.setAttribute("aria-busy", "false");
    if (!refocus || refocus.panel !== target) return;
    var index = refocus.index;
    refocus = null;
    var active = document.activeElement;
    if (active && active !== document.body && !target.contains(active)) return;  // focus moved on elsewhere
    var buttons = target.querySelectorAll("form button");
    var next = buttons[Math.min(index, buttons.length - 1)] || target.querySelector("h2");
    if (!next) return;
    if (next.tagName === "H2") next.setAttribute("tabindex", "-1");
    next.focus();
  });
  // Messages of HX-Trigger events (a data-announce status line, or the polite live region) and
  // focus after other swaps: static/js/htmx-focus.js.
});
