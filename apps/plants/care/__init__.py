"""Care tasks on a care card (issue 14; SPEC "Domain: Care tasks"): what to do for a plant and
when, in the gardener's own time zone.

- ``models``: ``CareTask`` (one recurring task of a card), ``CareTaskDone`` (its history),
  ``CareCalendarFeed`` (the secret calendar link), ``CareReminderSent`` (one reminder email per
  gardener and local date).
- ``schedule``: pure date arithmetic (local today, the growing season, the next due date).
- ``defaults``: the intervals a new card starts with, from the species' care facts or the
  generic table.
- ``services``: create defaults, mark done, snooze, edit; each bumps the owner's panel version.
"""
