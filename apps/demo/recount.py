"""The maintained counters on ``User`` rows, recomputed from the rows they count.

Services keep the counters current with ``F()`` increments in the same transaction as each
write (``apps.forum.services``, ``apps.plants.services``); this recount is for bulk loads that
bypass the services (``seed_demo`` and the test factories use ``bulk_create``). It reads forum
and plants rows, so it lives above both, here in ``demo`` (SPEC "Layout": ``accounts`` imports
only ``core``). Drift of the forum counters in a live database is repaired by
``manage.py forum_recount`` (``apps.forum.recount``).
"""

from django.db.models import OuterRef, Q

from apps.accounts.models import User
from apps.core.db import SubqueryCount
from apps.forum.models import Post, Topic
from apps.plants.models import IdentificationStatus, PlantIdentificationRequest, SavedCareInstructions


def user_counters_recount(*, user_ids: list[int] | None = None) -> int:
    """Recompute every maintained counter of ``User`` (posts, approved posts, topics,
    identification requests, identified plants, care cards) from the rows.

    ``user_ids``: a list of user ids to update (``None``: every user). One ``UPDATE`` statement
    with correlated subqueries (``SubqueryCount``). Returns the number of rows updated. Raises
    only what the database raises.
    """
    users = User.objects.all() if user_ids is None else User.objects.filter(pk__in=user_ids)
    visible_posts = Post.objects.filter(poster=OuterRef("pk"), is_deleted=False)
    return users.update(
        post_count=SubqueryCount(visible_posts),
        approved_post_count=SubqueryCount(visible_posts.filter(is_approved=True)),
        topic_count=SubqueryCount(Topic.objects.filter(poster=OuterRef("pk"), is_deleted=False)),
        identification_request_count=SubqueryCount(PlantIdentificationRequest.objects.filter(owner=OuterRef("pk"))),
        identified_plant_count=SubqueryCount(
            PlantIdentificationRequest.objects.filter(Q(owner=OuterRef("pk")), status=IdentificationStatus.IDENTIFIED)
        ),
        care_card_count=SubqueryCount(SavedCareInstructions.objects.filter(owner=OuterRef("pk"))),
    )
