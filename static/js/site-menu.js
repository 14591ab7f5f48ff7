// The header's "Menu" disclosure (issue 15, templates/base.html). It is a <details>, so it opens
// and closes without this file; here, on a phone:
// - Escape closes the open menu and puts focus back on its summary;
// - a click, a tap or focus outside the menu closes it (the open panel lies over the page, so
//   focus must not move on underneath it).
// From 48rem up the summary is hidden and the links are shown inline: portal.css does it with
// ::details-content; for browsers without that pseudo-element the menu is also kept open here.
document.addEventListener("DOMContentLoaded", function () {
  var menu = document.querySelector(".site-menu");
  if (!menu) return;
  var summary = menu.querySelector("summary");
  // Keep in step with the "min-width: 48rem" media queries of the site header in portal.css.
  var WIDE_QUERY = window.matchMedia("(min-width: 48rem)");

  if (WIDE_QUERY.matches) menu.open = true;
  WIDE_QUERY.addEventListener("change", function () {
    menu.open = WIDE_QUERY.matches;  // a window narrowed past 48rem starts with the menu closed
  });

  function isMenu() {
    return menu.open && !WIDE_QUERY.matches;
  }

  // Back to a page kept in the back/forward cache: the menu a link was followed from is closed.
  window.addEventListener("pagehide", function () {
    if (isMenu()) menu.open = false;
  });

  menu.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !isMenu()) return;
    event.preventDefault();
    menu.open = false;
    summary.focus();
  });
  document.addEventListener("click", function (event) {
    if (isMenu() && !menu.contains(event.target)) menu.open = false;
  });
  menu.addEventListener("focusout", function (event) {
    // relatedTarget is null when focus leaves the page (another window) or goes nowhere: keep it open.
    if (isMenu() && event.relatedTarget && !menu.contains(event.relatedTarget)) menu.open = false;
  });
});
