"""factory_boy factories. Counters on users, topics and forums are maintained by services; data
made here in bulk is followed by the same recount services ``seed_demo`` uses (see
``populate`` helpers in ``tests/conftest.py``)."""

import io
from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from apps.accounts.models import TrustLevel, User
from apps.forum.markdown import render_markdown
from apps.forum.models import Forum, Post, Topic
from apps.plants.models import (
    CareCardStatus,
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantSpecies,
    SavedCareInstructions,
    SuggestionSource,
)

DEFAULT_PASSWORD = "correct-horse-battery-staple"


def jpeg_bytes(*, size=(64, 64), colour=(60, 140, 70)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"gardener{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(DEFAULT_PASSWORD)
    trust_level = TrustLevel.NEW
    email_confirmed_at = factory.LazyFunction(timezone.now)
    date_joined = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))


class SpeciesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlantSpecies

    scientific_name = factory.Sequence(lambda n: f"Testus species{n}")
    slug = factory.Sequence(lambda n: f"testus-species{n}")
    primary_common_name = factory.Sequence(lambda n: f"Test plant {n}")
    common_names = factory.LazyAttribute(lambda s: [s.primary_common_name])
    family = "Testaceae"
    category = PlantSpecies.Category.HOUSEPLANT
    light = PlantSpecies.Light.MEDIUM
    watering = "Water when the top few centimetres of soil are dry."
    watering_interval_days = 7
    humidity = PlantSpecies.Humidity.MEDIUM
    temperature_min_c = 15
    temperature_max_c = 27
    soil = "Well-draining potting mix"
    toxic_to_cats = False
    toxic_to_dogs = False
    toxic_to_people = False
    hardiness_zone_min = 10
    hardiness_zone_max = 12
    difficulty = PlantSpecies.Difficulty.EASY


class IdentificationRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlantIdentificationRequest

    owner = factory.SubFactory(UserFactory)
    notes = "Found this on my windowsill, what is it?"
    status = IdentificationStatus.NEEDS_HELP
    thumbnail = factory.LazyFunction(lambda: ContentFile(jpeg_bytes(), name="thumb.jpg"))


class SuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentificationSuggestion

    request = factory.SubFactory(IdentificationRequestFactory)
    species = factory.LazyFunction(lambda: PlantSpecies.objects.order_by("id").first())
    probability = 0.87
    source = SuggestionSource.PLANT_ID


class CareCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedCareInstructions

    owner = factory.SubFactory(UserFactory)
    species = factory.SubFactory(SpeciesFactory)
    nickname = factory.Sequence(lambda n: f"My plant {n}")
    status = CareCardStatus.THRIVING


class ForumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forum

    name = factory.Sequence(lambda n: f"Forum {n}")
    slug = factory.Sequence(lambda n: f"forum-{n}")
    description = "Talk about plants."


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    forum = factory.SubFactory(ForumFactory)
    poster = factory.SubFactory(UserFactory)
    subject = factory.Sequence(lambda n: f"Yellow leaves on my fern, take {n}")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    topic = factory.SubFactory(TopicFactory)
    poster = factory.SubFactory(UserFactory)
    source = "Try **less water** and more light."
    html = factory.LazyAttribute(lambda post: render_markdown(post.source))
