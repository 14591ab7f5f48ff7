// Care tasks (issue 14). The task endpoints answer an htmx request with 204 and
// HX-Trigger: careTaskDone {task, message} (apps/plants/care/views.py). Here the task region the
// form sits in ([data-care-tasks], e.g. one care card's tasks) is asked to refresh itself
// (careTasksChanged, its hx-trigger), not every region on the page.
// The message and focus are htmx-focus.js's: the message goes to the polite live region, and
// after the region's swap focus returns to the same task's button, else to the task's first
// visible control (a form inside a closed <details>), else into the region, not to the page.
// The site works without this file: every form also posts plainly and redirects back.
document.addEventListener("DOMContentLoaded", function () {
  document.body.addEventListener("careTaskDone", function (event) {
    var detail = event.detail || {};
    var source = event.target && event.target.closest ? event.target : null;
    var tasks = source && source.closest("[data-care-tasks]");
    if (!tasks && detail.task) {
      var item = document.querySelector('[data-care-task="' + String(detail.task) + '"]');
      tasks = item && item.closest("[data-care-tasks]");
    }
    if (tasks && window.htmx) window.htmx.trigger(tasks, "careTasksChanged");
  });
});
