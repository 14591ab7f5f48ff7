// Care tasks (issue 14). The task endpoints answer an htmx request with 204 and
// HX-Trigger: careTaskDone {task, message} (apps/plants/care/views.py). Here:
// - the message goes to a polite live region (made on first use, visually hidden);
// - the task region the form sits in ([data-care-tasks], e.g. one care card's tasks) is asked
//   to refresh itself (careTasksChanged, its hx-trigger), not every region on the page;
// - after that swap, focus returns to the same task's "Done today" button, or to the region
//   when the task left it, so keyboard users do not land at the top of the page.
// The site works without this file: every form also posts plainly and redirects back.
document.addEventListener("DOMContentLoaded", function () {
  // The live region is made on first use, so pages without care tasks keep a single status region.
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

  function announce(message) {
    // A page with its own visible status line for the event (the dashboard's) announces there.
    if (!message || document.querySelector('[data-announce~="careTaskDone"]')) return;
    var region = liveRegion();
    // Cleared first so the same message twice in a row is announced twice.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  var refocus = null;

  document.body.addEventListener("careTaskDone", function (event) {
    var detail = event.detail || {};
    announce(detail.message);
    var source = event.target && event.target.closest ? event.target : null;
    var tasks = source && source.closest("[data-care-tasks]");
    if (!tasks && detail.task) {
      var item = document.querySelector('[data-care-task="' + String(detail.task) + '"]');
      tasks = item && item.closest("[data-care-tasks]");
    }
    if (!tasks || !window.htmx) return;
    refocus = { regionId: tasks.id, task: detail.task };
    window.htmx.trigger(tasks, "careTasksChanged");
  });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (!refocus) return;
    var target = event.detail && event.detail.elt;
    if (!target || target.id !== refocus.regionId) return;
    var wanted = refocus;
    refocus = null;
    var active = document.activeElement;
    if (active && active !== document.body && document.body.contains(active)) return;
    var button = document.getElementById("care-task-" + wanted.task + "-done")
      || document.getElementById("care-task-" + wanted.task + "-edit");
    var fresh = document.getElementById(wanted.regionId);
    if (button) button.focus();
    else if (fresh) { fresh.setAttribute("tabindex", "-1"); fresh.focus(); }
  });
});
