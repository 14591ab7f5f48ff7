"""Give each SuggestionVote its request (issue 12: one current name per gardener and request)
and make existing data obey the rule before 0008 adds the constraint: where a gardener agrees
with several names on one request, the newest agreement stays their current name and the older
ones go; the suggestions' counters are then recounted from the votes left
(``apps.plants.recount``'s definition, written out here as migrations must not import it)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, OuterRef, Q, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber


def fill_and_keep_one_name(apps, schema_editor):
    SuggestionVote = apps.get_model("plants", "SuggestionVote")
    IdentificationSuggestion = apps.get_model("plants", "IdentificationSuggestion")
    SuggestionVote.objects.update(
        request_id=Subquery(
            IdentificationSuggestion.objects.filter(pk=OuterRef("suggestion_id")).values("request_id")[:1]
        )
    )
    ranked = (
        SuggestionVote.objects.filter(agrees=True)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=["request_id", "voter_id"],
                order_by=[models.F("created_at").desc(), models.F("id").desc()],
            )
        )
        .values("id", "suggestion_id", "rank")
    )
    older = [row for row in ranked if row["rank"] > 1]
    if not older:
        return
    SuggestionVote.objects.filter(pk__in=[row["id"] for row in older]).delete()
    touched = sorted({row["suggestion_id"] for row in older})
    counts = SuggestionVote.objects.filter(suggestion_id=OuterRef("pk")).values("suggestion_id").order_by()
    IdentificationSuggestion.objects.filter(pk__in=touched).update(
        vote_count=Coalesce(Subquery(counts.annotate(n=Count("id", filter=Q(agrees=True))).values("n")[:1]), 0),
        disagree_count=Coalesce(Subquery(counts.annotate(n=Count("id", filter=Q(agrees=False))).values("n")[:1]), 0),
    )


class Migration(migrations.Migration):
    dependencies = [("plants", "0006_keep_vote_counts_when_user_goes")]

    operations = [
        migrations.AddField(
            model_name="suggestionvote",
            name="request",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="plants.plantidentificationrequest",
            ),
        ),
        migrations.RunPython(fill_and_keep_one_name, migrations.RunPython.noop),
    ]
