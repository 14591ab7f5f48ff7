"""Export everything about you (issue 11, "Your data"): every user relation is covered, the
export holds exactly the gardener's rows, the ZIP is built by a task, downloadable by its owner
only for 24 hours, at most one a day."""

import io
import json
import threading
import zipfile
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.accounts import personal_data
from apps.accounts.data_services import (
    ExportTooSoon,
    data_export_document,
    data_export_request,
    data_exports_purge,
    export_storage,
)
from apps.accounts.models import DataExport, RecoveryCode, User
from apps.plants.models import PlantPhoto
from tests import factories

from .data_world import give_everything, unique_gardener
from .test_two_factor import enable_two_factor

pytestmark = pytest.mark.django_db

DATA_PAGE = "/accounts/settings/data/"
EXPORT = "/accounts/settings/data/export/"


def test_every_relation_to_the_user_is_claimed_by_a_personal_data_source():
    """Walking ``apps.get_models()`` finds every foreign key, one-to-one and many-to-many to the
    user (auto-created tables included); each must be exported or declared derived with a
    reason, or the test names it. A new model with a user foreign key fails here until its app
    registers it (README "Your data")."""
    relations = personal_data.user_relations()
    assert {"forum.Post.poster", "plants.SuggestionVote.voter", "accounts.User_groups.user"} <= set(relations)
    assert personal_data.unclaimed_user_relations() == [], (
        "these user relations are in no personal-data source (export and deletion would miss them): "
        + ", ".join(personal_data.unclaimed_user_relations())
    )
    for source in personal_data.personal_data_sources():
        assert all(reason.strip() for reason in source.derived.values()), f"{source.name}: a derived relation needs why"
        assert all(reason.strip() for reason in source.kept_out.values()), f"{source.name}: a kept-out one needs why"
    kept_out = set().union(*(source.kept_out for source in personal_data.personal_data_sources()))
    assert {"accounts.TotpDevice.user", "accounts.RecoveryCode.user"} <= kept_out


def test_the_walk_names_a_relation_no_source_claims(monkeypatch):
    """Taking the forum's source away makes its relations unclaimed, by name: the check is not
    vacuous."""
    sources = {name: source for name, source in personal_data._SOURCES.items() if name != "forum"}
    monkeypatch.setattr(personal_data, "_SOURCES", sources)
    assert "forum.Post.poster" in personal_data.unclaimed_user_relations()
    assert "forum.Topic.last_poster" in personal_data.unclaimed_user_relations()


def _owned_ids(label: str, user: User) -> set[int]:
    """Ids of ``label``'s rows that are ``user``'s by the registry: a user relation pointing at
    them, or a source's ``indirect`` lookup."""
    model = apps.get_model(label)
    condition = Q(pk=user.pk) if label == settings.AUTH_USER_MODEL else Q(pk__in=[])
    for source in personal_data.personal_data_sources():
        for relation in source.exported:
            model_label, field = relation.rsplit(".", 1)
            if model_label == label:
                condition |= Q(**{field: user})
        if label in source.indirect:
            condition |= Q(**{source.indirect[label]: user})
    return set(model._default_manager.filter(condition).values_list("pk", flat=True))


@pytest.fixture
def two_gardeners(django_capture_on_commit_callbacks):
    """Two gardeners with rows in every table, each involving the other, and a ready export
    each."""
    rosa, ben = unique_gardener(), unique_gardener()
    forum = factories.ForumFactory()
    rows = give_everything(rosa, ben, forum)
    give_everything(ben, rosa, forum)
    with django_capture_on_commit_callbacks(execute=True):
        data_export_request(user=rosa)
        data_export_request(user=ben)
    return rosa, ben, rows


def test_the_export_holds_exactly_the_gardeners_rows_and_nothing_of_the_other(two_gardeners):
    """For every model label in the export, the ids are exactly the rows whose user relation (or
    the source's indirect lookup) points at the gardener: complete, and nothing of the second
    gardener, who has the same kinds of rows and talks to the first. Every exported relation has
    rows in this world, so each is really checked. The second gardener's name and email appear
    nowhere, not even where the first acted on them (an admin-log entry, an edit of their
    reply, whose earlier text is theirs)."""
    rosa, ben, rows = two_gardeners
    document, files = data_export_document(user=rosa)
    data = document["data"]
    exported_labels = {
        relation.rsplit(".", 1)[0] for source in personal_data.personal_data_sources() for relation in source.exported
    }
    indirect_labels = {label for source in personal_data.personal_data_sources() for label in source.indirect}
    assert set(data) == exported_labels | indirect_labels | {"accounts.User"}
    for label, section in data.items():
        ids = [row["id"] for row in section]
        assert len(ids) == len(set(ids)), f"{label}: a row twice"
        assert set(ids) == _owned_ids(label, rosa), f"{label}: not exactly the gardener's rows"
        assert ids, f"{label}: the world gives the gardener no row here, so the check proves nothing"
    text = json.dumps(document, default=str).casefold()
    for secret in (ben.username, ben.email, "Too much water, probably."):
        assert secret.casefold() not in text
    assert rosa.username in json.dumps(document, default=str)
    [own_edit_of_other] = [row for row in data["forum.PostRevision"] if row["post_id"] == rows["reply_by_other"].pk]
    assert own_edit_of_other["earlier_text"] is None
    photo_names = set(PlantPhoto.objects.filter(request__owner=rosa).values_list("image", flat=True))
    assert photo_names <= {stored for _, stored in files}
    assert not set(PlantPhoto.objects.filter(request__owner=ben).values_list("image", flat=True)) & {
        stored for _, stored in files
    }
    [request_row] = [row for row in data["plants.PlantIdentificationRequest"] if row["id"] == rows["own_request"].pk]
    assert request_row["machine_suggestions"] == []  # the other gardener's suggestion is theirs
    assert "password" not in data["accounts.User"][0]


def test_the_export_is_a_few_queries_whatever_the_rows(two_gardeners, django_assert_max_num_queries):
    """Collecting the document costs a fixed number of queries (a handful per source), not one
    per row. (24: two of them are the notification email source's choices and digests; two the care
    tasks and their done dates; one the care reminder records.)"""
    rosa, _, _ = two_gardeners
    with django_assert_max_num_queries(24):
        data_export_document(user=rosa)


def _signed_in(client, user):
    client.force_login(user)
    return client


def test_asking_for_an_export_builds_a_zip_with_the_json_and_the_photos(
    client, two_gardeners, django_capture_on_commit_callbacks
):
    """POST builds the ZIP through the task (run at once by the test settings' immediate
    backend); the page then lists it with a download link; the download is an attachment,
    ``private, no-store``, holding ``data.json`` (the document), ``README.txt`` and every photo,
    byte for byte."""
    rosa, _, _ = two_gardeners
    DataExport.objects.all().delete()
    _signed_in(client, rosa)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(EXPORT)
    assert response.status_code == 303 and response["Location"] == DATA_PAGE
    export = DataExport.objects.get(user=rosa)
    assert export.status == DataExport.Status.READY and export.file_name
    assert export.expires_at - export.finished_at == timedelta(seconds=settings.DATA_EXPORT_LIFETIME_SECONDS)
    assert len(export.public_id) >= 43  # 32 random bytes, url-safe
    page = client.get(DATA_PAGE)
    link = reverse("accounts:settings-data-export-download", kwargs={"public_id": export.public_id})
    assert page.status_code == 200 and link.encode() in page.content
    assert b"You can ask for your next export from" in page.content
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "no-store" in download["Cache-Control"] and "private" in download["Cache-Control"]
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    document = json.loads(bundle.read("data.json"))
    assert document["format"] == personal_data.EXPORT_FORMAT and document["user_id"] == rosa.pk
    assert "README.txt" in bundle.namelist()
    for photo in PlantPhoto.objects.filter(request__owner=rosa):
        [row] = [row for row in document["data"]["plants.PlantPhoto"] if row["id"] == photo.pk]
        with default_storage.open(photo.image.name, "rb") as stored:
            assert bundle.read(row["file"]) == stored.read()
    assert sorted(document["files"]) == sorted(name for name in bundle.namelist() if name.startswith("files/"))


def test_the_export_is_not_served_as_media(client, two_gardeners):
    """The ZIP lives in its own storage outside ``MEDIA_ROOT``: no media URL reaches it."""
    rosa, _, _ = two_gardeners
    export = DataExport.objects.get(user=rosa)
    export.refresh_from_db()
    assert export.file_name
    assert not (settings.MEDIA_ROOT / export.file_name).exists()
    assert export_storage().exists(export.file_name)
    assert client.get(f"/media/{export.file_name}").status_code == 404


def test_only_the_owner_can_download(client, client_factory, two_gardeners):
    """Another gardener with the link gets 404, like a made-up link; signed out, the sign-in
    page (with ``next``)."""
    rosa, ben, _ = two_gardeners
    export = DataExport.objects.get(user=rosa)
    link = reverse("accounts:settings-data-export-download", kwargs={"public_id": export.public_id})
    assert _signed_in(client_factory(), ben).get(link).status_code == 404
    assert _signed_in(client_factory(), rosa).get(link).status_code == 200
    made_up = reverse("accounts:settings-data-export-download", kwargs={"public_id": "x" * 43})
    assert _signed_in(client_factory(), rosa).get(made_up).status_code == 404
    signed_out = client.get(link)
    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/accounts/login/?next=")


def test_a_second_export_the_same_day_is_refused_with_a_clear_message(client, two_gardeners):
    """Asked again within 24 h: 429 with ``Retry-After`` and the page saying from when; nothing
    created. A failed export does not count; after the day another may be asked for."""
    rosa, _, _ = two_gardeners
    _signed_in(client, rosa)
    response = client.post(EXPORT)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.DATA_EXPORT_INTERVAL_SECONDS
    assert "You can ask for one export a day. You can ask for the next one from" in response.content.decode()
    assert DataExport.objects.filter(user=rosa).count() == 1
    with pytest.raises(ExportTooSoon):
        data_export_request(user=rosa)
    DataExport.objects.filter(user=rosa).update(status=DataExport.Status.FAILED)
    data_export_request(user=rosa)
    DataExport.objects.filter(user=rosa).update(
        requested_at=timezone.now() - timedelta(seconds=settings.DATA_EXPORT_INTERVAL_SECONDS + 1)
    )
    data_export_request(user=rosa)
    assert DataExport.objects.filter(user=rosa).count() == 3


def test_after_24_hours_the_link_is_gone_and_the_purge_removes_the_file(
    client, two_gardeners, django_capture_on_commit_callbacks
):
    """Past ``expires_at`` the download answers 410 with a page that says to ask again, even
    before the purge ran; ``manage.py data_exports_purge`` then deletes the file and marks the
    export expired (still 410). An export not yet due is left alone."""
    rosa, ben, _ = two_gardeners
    export = DataExport.objects.get(user=rosa)
    export.refresh_from_db()
    link = reverse("accounts:settings-data-export-download", kwargs={"public_id": export.public_id})
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _signed_in(client, rosa)
    gone = client.get(link)
    assert gone.status_code == 410 and b"This export has expired" in gone.content
    assert export_storage().exists(export.file_name)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("data_exports_purge", stdout=io.StringIO())
    stored_name = export.file_name
    export.refresh_from_db()
    assert export.status == DataExport.Status.EXPIRED and export.file_name == ""
    assert not export_storage().exists(stored_name)
    assert client.get(link).status_code == 410
    bens = DataExport.objects.get(user=ben)
    assert bens.status == DataExport.Status.READY and export_storage().exists(bens.file_name)
    assert data_exports_purge() == 0


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_start_one_export():
    """Eight threads ask for an export at the same moment (a barrier): exactly one is created;
    the others are refused, serialized on the user row."""
    rosa = unique_gardener()
    barrier = threading.Barrier(8)
    outcomes, started = [], []

    def ask():
        try:
            barrier.wait()
            started.append(timezone.now())
            data_export_request(user=rosa)
            outcomes.append("created")
        except ExportTooSoon:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(started) == 8 and max(started) - min(started) < timedelta(seconds=2)
    assert sorted(outcomes) == ["created"] + ["refused"] * 7
    assert DataExport.objects.filter(user=rosa).count() == 1


@pytest.mark.parametrize("exports", [1, 500], ids=["1-export", "500-exports"])
def test_query_budget_of_the_data_page(client, django_assert_num_queries, exports):
    """``/accounts/settings/data/`` for a warm session: 2 statements (the user, the exports),
    with one export or 500 (failed ones, all listed), and the rows show."""
    rosa = unique_gardener()
    now = timezone.now()
    DataExport.objects.bulk_create(
        DataExport(user=rosa, status=DataExport.Status.FAILED, requested_at=now - timedelta(minutes=index))
        for index in range(exports)
    )
    client.force_login(rosa)
    client.get("/healthz")
    client.get(DATA_PAGE)
    with django_assert_num_queries(2):
        response = client.get(DATA_PAGE)
    assert response.status_code == 200
    assert response.content.decode().count('<td data-label="Status">Failed</td>') == exports


@pytest.mark.parametrize("rows", [1, 500], ids=["1-row", "500-rows"])
def test_query_budget_of_the_download_and_delete_pages(client, django_assert_num_queries, rows):
    """The download is 2 statements (the user, the export) and the delete page 2 (the user,
    whether two-factor sign-in is on), whatever the other exports."""
    rosa = unique_gardener()
    now = timezone.now()
    DataExport.objects.bulk_create(
        DataExport(user=rosa, status=DataExport.Status.FAILED, requested_at=now - timedelta(days=2, minutes=index))
        for index in range(rows)
    )
    name = export_storage().save("budget.zip", io.BytesIO(b"PK"))
    ready = DataExport.objects.create(
        user=rosa, status=DataExport.Status.READY, file_name=name, expires_at=now + timedelta(hours=1)
    )
    client.force_login(rosa)
    client.get("/healthz")
    client.get(DATA_PAGE)
    with django_assert_num_queries(2):
        assert client.get(f"/accounts/settings/data/export/{ready.public_id}/").status_code == 200
    with django_assert_num_queries(2):
        assert client.get("/accounts/settings/data/delete/").status_code == 200


def test_a_photo_missing_from_storage_is_listed_not_fatal(two_gardeners, django_capture_on_commit_callbacks):
    """A photo whose file is gone still lets the export finish: ``data.json`` lists it under
    ``missing_files``."""
    rosa, _, _ = two_gardeners
    DataExport.objects.all().delete()
    gone = PlantPhoto.objects.filter(request__owner=rosa).order_by("pk").first()
    default_storage.delete(gone.image.name)
    with django_capture_on_commit_callbacks(execute=True):
        export = data_export_request(user=rosa)
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    with export_storage().open(export.file_name, "rb") as stored:
        document = json.loads(zipfile.ZipFile(stored).read("data.json"))
    assert document["missing_files"] == [f"files/plants/request-{gone.request_id}/photo-{gone.position}.jpg"]


def test_with_a_deferring_task_backend_the_purge_is_queued_for_the_expiry(two_gardeners, settings):
    """Where the task backend can defer (django-tasks-db in production), building an export
    queues the purge to run just after its expiry, so the file goes without waiting for cron."""
    from django_tasks_db.models import DBTaskResult

    from apps.accounts.data_services import data_export_build

    rosa, _, _ = two_gardeners
    DataExport.objects.all().delete()
    pending = DataExport.objects.create(user=rosa)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert data_export_build(export_id=pending.pk) == "ready"
    pending.refresh_from_db()
    [queued] = DBTaskResult.objects.filter(task_path__endswith="data_exports_purge_task")
    assert timedelta(0) < queued.run_after - pending.expires_at <= timedelta(seconds=1)
    assert data_export_build(export_id=pending.pk) == "skipped"  # delivered twice: built once


def test_the_export_says_two_factor_is_on_without_its_secrets(two_gardeners):
    """Two-factor sign-in's key and recovery codes are kept out (secrets, not data about you):
    the export says it is on, since when and how many recovery codes are left, and neither the
    key nor a code nor a code's hash appears. The profile, its avatar file and the app's session
    record are in."""
    rosa, _, _ = two_gardeners
    secret, codes = enable_two_factor(rosa)
    document, files = data_export_document(user=rosa)
    [profile] = document["data"]["accounts.User"]
    assert profile["two_factor_enabled"] is True and profile["two_factor_enabled_at"] is not None
    assert profile["two_factor_recovery_codes_left"] == 10
    assert "accounts.TotpDevice" not in document["data"] and "accounts.RecoveryCode" not in document["data"]
    text = json.dumps(document, default=str)
    hashes = RecoveryCode.objects.filter(user=rosa).values_list("code_hash", flat=True)
    for hidden in (secret, *codes, *hashes):
        assert hidden not in text
    assert profile["display_name"] == f"{rosa.username} the gardener" and profile["time_zone"] == "Europe/Paris"
    assert profile["avatar"] == "files/accounts/avatar.jpg" and (profile["avatar"], rosa.avatar.name) in files
    [session] = document["data"]["accounts.UserSession"]
    assert session["kind"] == "api" and session["device"] == "Firefox 128 on Ubuntu"
    assert session["ip_network"] == "203.0.113.0/24"
