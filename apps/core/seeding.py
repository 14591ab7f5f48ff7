"""Demo data for ``manage.py seed_demo``: gardeners, a moderator, forums, identification
requests with generated photos, care cards and a little moderation history.

Everything is drawn from one seed (``random.Random``), so the same seed gives the same rows,
names, texts and images; only timestamps move, because they are relative to the moment of the
run. Rows are written with ``bulk_create``, which bypasses the services, so the denormalized
counters are recomputed at the end with the recount services (``user_counters_recount``,
``forum_counters_recount``). Trust levels follow the SPEC rules ("Domain": basic 5 approved
posts and 7 days, trusted 25 and 30, veteran 100 and 90) from the generated posts, except for
the three named demo accounts, whose levels the issue fixes.

Sizes come from one place, :class:`SeedSizes`; a larger preset only needs another instance.
"""

from __future__ import annotations

import io
import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from PIL import Image, ImageDraw

from apps.accounts.models import TRUST_LEVEL_ORDER, TrustLevel, User
from apps.accounts.services import user_counters_recount
from apps.core.models import ModerationAction
from apps.forum.markdown import render_markdown
from apps.forum.models import Forum, Post, Report, Topic
from apps.forum.services import forum_counters_recount
from apps.plants.models import (
    CareCardStatus,
    IdentificationStatus,
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
    SavedCareInstructions,
    SuggestionSource,
    SuggestionVote,
)

BATCH_SIZE = 500
MODERATORS_GROUP = "moderators"
FORUM_HISTORY_DAYS = 120
SPARKLINE_DAYS = 12 * 7
IMAGE_POOL_SIZE = 8
IMAGE_DRAW_PX = 1600  # drawn large, then downsampled: cheap anti-aliasing
PHOTO_PX = 800  # stored photo, square (the upload rules allow up to 1600 px)
THUMBNAIL_PX = 300
THUMBNAIL_DIR = "identification/thumbs/demo"
PHOTO_DIR = "identification/photos/demo"


@dataclass(frozen=True)
class SeedSizes:
    """How much demo data to write. ``users`` counts the gardeners besides the three named demo
    accounts; ``posts`` includes each topic's opening post, so it must be at least ``topics``."""

    users: int = 30
    topics: int = 120
    posts: int = 600
    requests: int = 150
    care_cards: int = 80

    def validate(self) -> None:
        """Raise ``ValueError`` with a readable message when the sizes cannot be honoured."""
        for name in ("users", "topics", "posts", "requests", "care_cards"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be 0 or more.")
        if self.posts < self.topics:
            raise ValueError(
                f"--posts ({self.posts}) counts each topic's opening post, so it must be at least --topics ({self.topics})."
            )


@dataclass(frozen=True)
class DemoAccount:
    """A sign-in the summary prints: ``username`` / ``password`` and what the account is for."""

    username: str
    password: str
    role: str


GARDENER = DemoAccount("gardener", "demo-gardener-pass-2026", "gardener, trust level basic, lots of data")
MODERATOR = DemoAccount("moderator", "demo-moderator-pass-2026", "moderator (staff, group 'moderators'), veteran")
NEWBIE = DemoAccount("newbie", "demo-newbie-pass-2026", "new gardener, trust level new, posts wait in the review queue")
OTHER_PASSWORD = "demo-password-2026"


@dataclass
class SeedResult:
    """What :func:`demo_data_seed` wrote besides rows (count those with
    :func:`demo_data_counts`): the named ``accounts``, the generated gardeners'
    ``other_usernames`` (all with ``other_password``) and the ``stored_images`` names."""

    accounts: list[DemoAccount]
    other_usernames: list[str]
    stored_images: list[str]
    other_password: str = OTHER_PASSWORD


# The steps ``demo_data_seed`` announces through ``on_step``, in order (a progress bar's total).
SEED_STEPS: tuple[str, ...] = (
    "Hashing demo passwords",
    "Planning gardeners",
    "Writing forum topics and posts",
    "Saving gardeners and the moderators group",
    "Saving forums, topics and posts",
    "Drawing plant images",
    "Saving identification requests, photos, suggestions and votes",
    "Saving care cards",
    "Saving moderation log and reports",
    "Recounting counters",
)


# --- Public entry points -------------------------------------------------------------------


def demo_data_exists() -> bool:
    """True when the primary demo gardener (username ``gardener``, any letter case) exists."""
    return User.objects.filter(username__iexact=GARDENER.username).exists()


def demo_data_conflicts() -> list[str]:
    """Rows that would collide with the demo data on a database that is not seeded yet:
    taken demo usernames or forum slugs/names. Returns human-readable descriptions (``[]``
    when seeding can go ahead)."""
    problems = []
    for name in (GARDENER.username, MODERATOR.username, NEWBIE.username):
        if User.objects.filter(username__iexact=name).exists():
            problems.append(f"user '{name}' already exists")
    forums = Forum.objects.filter(
        Q(slug__in=[slug for _, slug, _ in FORUMS]) | Q(name__in=[name for name, _, _ in FORUMS])
    ).order_by("position", "name")
    problems += [f"forum '{name}' already exists" for name in forums.values_list("name", flat=True)]
    return problems


@transaction.atomic
def demo_data_flush() -> dict[str, int]:
    """Delete the demo data: every forum (with its topics, posts and reports), every
    identification request (photos, suggestions, votes), every care card, the moderation log
    entries not written by a superuser, and every user who is not a superuser. The species
    catalog, groups and superusers stay. Stored image files are left; the next seed overwrites
    them. Returns ``{"<model label>": rows deleted}``.
    """
    deleted: dict[str, int] = {}

    def tally(result: tuple[int, dict[str, int]]) -> None:
        for label, count in result[1].items():
            deleted[label] = deleted.get(label, 0) + count

    tally(Forum.objects.all().delete())
    # Requests point at their accepted suggestion and suggestions at their request: clear the
    # back reference first so the delete is plain cascades.
    PlantIdentificationRequest.objects.update(accepted_suggestion=None)
    tally(PlantIdentificationRequest.objects.all().delete())
    tally(SavedCareInstructions.objects.all().delete())
    tally(ModerationAction.objects.exclude(actor__is_superuser=True).delete())
    tally(User.objects.filter(is_superuser=False).delete())
    return {label: count for label, count in sorted(deleted.items()) if count}


def demo_data_seed(
    *,
    sizes: SeedSizes,
    seed: int,
    now: datetime | None = None,
    on_step: Callable[[str], None] | None = None,
) -> SeedResult:
    """Write the demo data in one transaction and return what was written.

    ``sizes`` says how many rows of each kind (validated; ``ValueError`` when impossible),
    ``seed`` (int) drives every random choice, images included. ``now`` (aware datetime,
    default ``timezone.now()``) is the reference point: forum history covers the last 120 days,
    the gardener's identification requests the last 12 weeks. ``on_step(label)`` is called
    before each of :data:`SEED_STEPS`. Does not check whether demo data already exists (see
    :func:`demo_data_exists`); unique constraints raise ``IntegrityError`` if it does.
    """
    sizes.validate()
    builder = _DemoBuilder(sizes=sizes, seed=seed, now=now or timezone.now())
    steps: Sequence[Callable[[], None]] = (
        builder.hash_passwords,
        builder.plan_users,
        builder.plan_forum,
        builder.save_users,
        builder.save_forum,
        builder.draw_images,
        builder.save_identifications,
        builder.save_care_cards,
        builder.save_moderation,
        builder.recount,
    )
    with transaction.atomic():
        for label, step in zip(SEED_STEPS, steps, strict=True):
            if on_step is not None:
                on_step(label)
            step()
    return SeedResult(
        accounts=[GARDENER, MODERATOR, NEWBIE],
        other_usernames=[member.user.username for member in builder.others],
        stored_images=[name for thumb, photo, _, _ in builder.images for name in (thumb, photo)],
    )


def demo_data_counts() -> dict[str, int]:
    """Rows of each kind now in the database, in display order: ``{"users": 33, "staff users":
    1, "forums": 6, ..., "requests identified": 97, ...}``. One ``COUNT`` per kind, plus one
    grouped count for the request statuses."""
    statuses = dict(
        PlantIdentificationRequest.objects.order_by().values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    counts = {
        "users": User.objects.count(),
        "staff users": User.objects.filter(is_staff=True).count(),
        "forums": Forum.objects.count(),
        "topics": Topic.objects.count(),
        "pinned topics": Topic.objects.filter(is_pinned=True).count(),
        "posts": Post.objects.count(),
        "posts awaiting review": Post.objects.filter(is_approved=False, is_deleted=False).count(),
        "open reports": Report.objects.filter(status=Report.Status.OPEN).count(),
        "moderation actions": ModerationAction.objects.count(),
        "identification requests": sum(statuses.values()),
    }
    for status in IdentificationStatus:
        counts[f"requests {status.label.lower()}"] = statuses.get(status.value, 0)
    counts |= {
        "photos": PlantPhoto.objects.count(),
        "suggestions": IdentificationSuggestion.objects.count(),
        "suggestion votes": SuggestionVote.objects.count(),
        "care cards": SavedCareInstructions.objects.count(),
        "species in the catalog": PlantSpecies.objects.count(),
    }
    return counts


# --- Text material -------------------------------------------------------------------------

FORUMS: list[tuple[str, str, str]] = [
    ("Houseplants", "houseplants", "Care questions and tips for plants that live indoors: light, watering, repotting."),
    ("Garden & outdoors", "garden-outdoors", "Beds, borders, balconies, lawns and vegetable patches."),
    ("Plant identification", "plant-identification", "Not sure what it is? Describe it, link your identification request and ask."),
    ("Pests & diseases", "pests-diseases", "Spots, bugs, mould and rot: diagnosis and treatment, organic and otherwise."),
    ("Propagation", "propagation", "Cuttings, division, seed sowing, layering and swaps."),
    ("Show and tell", "show-and-tell", "Proud of a plant, a bed or a windowsill? Share it here."),
]
FORUM_WEIGHTS = [30, 18, 14, 16, 10, 12]

USERNAME_STEMS = [
    "fern_lover", "moss_maven", "succulent_sam", "basil_bandit", "orchid_whisperer", "compost_king",
    "tomato_tamer", "pothos_pal", "rose_rambler", "seedling_sue", "bonsai_ben", "ivy_league",
    "cactus_kate", "monstera_mo", "leafy_lou", "thyme_traveller", "sprout_scout", "peat_free_pat",
    "balcony_bea", "allotment_al", "hosta_hal", "calathea_cal", "dahlia_dee", "greenhouse_gus",
    "wildflower_wen", "bulb_buddy", "hoya_hunter", "snake_plant_sid", "aloe_ali", "mint_condition",
    "root_rot_rob", "philo_phil", "lavender_liz", "berry_bush_bo", "worm_farmer", "trowel_tess",
]

SPOTS = [
    "on a north-facing windowsill", "next to the radiator in the living room", "in the bathroom",
    "about two metres from a south-facing window", "under a grow light on the bookshelf",
    "on the kitchen counter by the east window", "in a bright hallway", "on my desk at work",
]
WATERING_HABITS = [
    "once a week", "every ten days or so", "when the top few centimetres feel dry", "whenever I remember",
    "from the bottom every Sunday", "a little every few days",
]
POTS_TEXT = [
    "is plastic with drainage holes", "is a glazed ceramic cachepot", "is terracotta", "has no drainage hole (I know...)",
    "is a self-watering pot", "is the nursery pot it came in",
]
SYMPTOMS = [
    "yellowing lower leaves", "brown, crispy leaf tips", "drooping stems", "black spots on the leaves",
    "sticky residue on the leaves", "pale new growth", "curling leaves", "soft, mushy stems",
]
PESTS = ["spider mites", "fungus gnats", "mealybugs", "scale insects", "thrips", "aphids", "whitefly", "vine weevil"]
DISEASES = ["powdery mildew", "root rot", "leaf spot", "grey mould", "rust"]
GARDEN_SPOTS = ["raised bed", "front border", "balcony planter", "vegetable patch", "shady corner", "gravel garden"]
FEATURES = [
    "leaves with silver spots", "small white flowers in clusters", "thick, waxy leaves", "purple undersides",
    "leaves that fold up at night", "long trailing stems", "heart-shaped leaves", "a spiky rosette of leaves",
    "star-shaped blue flowers", "a lemony smell when the leaves are crushed",
]
FOUND_PLACES = [
    "on a walk by the canal", "in my new garden", "at a plant swap", "in a friend's conservatory",
    "growing through the fence", "on the windowsill of my new flat", "in a hotel lobby", "at the allotments",
]
TRIED: dict[str, list[str]] = {
    "houseplants": [
        "moved it away from the radiator", "let the top 3 cm of soil dry out between waterings",
        "checked the roots (white and firm, no smell)", "added a pebble tray for humidity",
        "stopped feeding for the winter", "switched to rainwater", "given it a quarter turn every week",
    ],
    "garden-outdoors": [
        "fed it with tomato feed", "cleared the weeds around it", "watered it through the dry spell",
        "cut back the tree that shades it", "added compost in spring",
    ],
    "pests-diseases": [
        "sprayed it with insecticidal soap", "put yellow sticky traps in the pot", "wiped the leaves with a damp cloth",
        "cut off the worst leaves", "moved it away from my other plants", "let the soil dry out more between waterings",
    ],
    "propagation": [
        "kept them in water on a bright windowsill", "changed the water every few days", "used rooting powder",
        "covered them with a clear bag for humidity", "put them on a heat mat",
    ],
}
OPEN_QUESTIONS = ["Any ideas?", "What would you do?", "Should I be worried?", "Thanks in advance!", "Grateful for any tips."]


ID_CLOSINGS = ("What is it?", "Any ideas? Photos are in my identification request.", "Thanks in advance!")


@dataclass(frozen=True)
class _Theme:
    """One kind of forum topic: subjects and an opening post that fit together, and the kinds
    of advice (keys of :data:`ADVICE`) that replies draw from."""

    subjects: tuple[str, ...]
    intros: tuple[str, ...]
    advice: tuple[str, ...]
    category: str | None = None  # PlantSpecies.Category value when the forum's default does not fit
    situation: bool = False  # "It sits ... and I water it ..."
    tried: bool = False  # "What I have tried so far:" list
    reference: bool = False  # a link to one of the species' sources
    closing: tuple[str, ...] = tuple(OPEN_QUESTIONS)


THEMES: dict[str, list[_Theme]] = {
    "houseplants": [
        _Theme(
            ("{Symptom} on my {plant}", "My {plant} has {symptom}: what am I doing wrong?"),
            ("I've had my {plant} for about {n} months and lately it has {symptom}.",
             "My {plant} was doing great until a few weeks ago; now it has {symptom}."),
            ("water", "roots", "general"), situation=True, tried=True, reference=True,
        ),
        _Theme(
            ("How often do you water your {plant} in winter?", "Watering a {plant} with the heating on"),
            ("The heating is on and my {plant} dries out much faster than in summer. It sits {spot} and right now "
             "I water it {habit}.",),
            ("water",), closing=("How often do you water yours?", "What's your routine?"),
        ),
        _Theme(
            ("Is {spot} enough light for {a_plant}?",),
            ("Moving flats, and the only free spot for my {plant} is {spot}. The [care sheet]({url}) says it wants "
             "**{light}**.",),
            ("light",), closing=("Will it cope, or should I buy a grow light?", "Any experience with a spot like that?"),
        ),
        _Theme(
            ("My {plant} is getting leggy", "Long, bare stems on my {plant}"),
            ("The stems on my {plant} are getting long and the leaves are far apart. It sits {spot}.",),
            ("light", "general"), closing=("Should I prune it back or move it?", "Can I fix this or is it too late?"),
        ),
        _Theme(
            ("{Plant} dropping leaves after repotting", "Repotted my {plant}, now it's sulking"),
            ("I repotted my {plant} {n} days ago into a bigger pot with fresh mix, and since then it has dropped "
             "a few leaves.",),
            ("roots", "general"), situation=True,
        ),
        _Theme(
            ("Safe to keep {a_plant} with cats?", "{Plant} and pets: toxic?"),
            ("Our new kitten chews everything green. Is it safe to keep {a_plant} in the living room?",),
            ("pets",), reference=True, closing=("Thanks!", "Better safe than sorry..."),
        ),
    ],
    "garden-outdoors": [
        _Theme(
            ("When should I prune my {plant}?", "Pruning a {plant}: now or in spring?"),
            ("We inherited {a_plant} with the house and it has got rather big.",
             "My {plant} in the {garden_spot} is {n} years old now and needs a trim."),
            ("prune",),
        ),
        _Theme(
            ("{Plant} not flowering this year", "Lots of leaves, no flowers on my {plant}"),
            ("Last year my {plant} in the {garden_spot} was covered in flowers; this year almost nothing.",),
            ("flowers",), tried=True,
        ),
        _Theme(
            ("Protecting {plant} from frost", "Will my {plant} survive the winter outside?"),
            ("Frost is forecast for next week and my {plant} is in the {garden_spot}. The [care sheet]({url}) "
             "gives hardiness zones {zones}.",),
            ("frost",), closing=("Fleece, mulch, or bring it in?", "What do you do with yours?"),
        ),
        _Theme(
            ("First year growing {plant}: what am I in for?",),
            ("This is my first proper season with {a_plant}; it's going in the {garden_spot}.",),
            ("garden", "water"), reference=True, closing=("Any beginner tips?", "What do you wish you had known?"),
        ),
        _Theme(
            ("{Plant} in a pot on a windy balcony",),
            ("I only have a small, windy balcony and I'd love to grow {a_plant} in a big pot.",),
            ("garden", "frost", "water"), closing=("Will it cope?", "Which pot size would you use?"),
        ),
    ],
    "plant-identification": [
        _Theme(
            ("What is this plant? Found it {found}",),
            ("Found this {found}: about {cm} cm tall, with {feature}.",),
            ("id",), closing=ID_CLOSINGS,
        ),
        _Theme(
            ("Help identifying a plant with {feature}",),
            ("No label, and the shop had no idea. It has {feature}.",
             "My neighbour gave me a cutting; she doesn't know the name either. It has {feature}."),
            ("id",), closing=ID_CLOSINGS,
        ),
        _Theme(
            ("Mystery plant in my {garden_spot}",),
            ("This came up on its own in my {garden_spot}: about {cm} cm tall, with {feature}.",),
            ("id",), closing=ID_CLOSINGS, category=PlantSpecies.Category.GARDEN,
        ),
        _Theme(
            ("Inherited a plant, no label: ideas?",),
            ("Inherited this from my grandmother and nobody knows what it is. It has {feature}.",),
            ("id",), closing=ID_CLOSINGS, category=PlantSpecies.Category.HOUSEPLANT,
        ),
    ],
    "pests-diseases": [
        _Theme(
            ("{Pest} on my {plant}: help!", "How do you get rid of {pest} for good?", "Tiny bugs on the {plant}: {pest}?"),
            ("I think my {plant} has {pest}: I keep finding them on the new growth.",
             "Third time this year I'm fighting {pest}, this time on the {plant}."),
            ("pests",), situation=True, tried=True, category=PlantSpecies.Category.HOUSEPLANT,
        ),
        _Theme(
            ("Is this {disease} on my {plant}?", "{Plant} with spots: {disease}?"),
            ("Noticed {symptom} on my {plant} this week and I'm worried it's {disease}.",),
            ("disease",), situation=True, tried=True, reference=True, category=PlantSpecies.Category.HOUSEPLANT,
        ),
    ],
    "propagation": [
        _Theme(
            ("Propagating {plant}: water or soil?", "My {plant} cuttings won't root", "Rooting hormone: worth it for {plant}?"),
            ("I took {n} cuttings from my {plant} a few weeks ago and nothing has happened yet.",
             "Trying to propagate a {plant} for the first time."),
            ("propagation",), tried=True,
        ),
        _Theme(
            ("When to divide {a_plant}?", "Splitting a huge {plant}"),
            ("My {plant} has filled its pot and I'd love to share it with friends.",),
            ("propagation", "roots"),
        ),
        _Theme(
            ("Cutting swap: {plant} for anything variegated",),
            ("I have rooted {plant} cuttings to spare. Happy to swap for anything variegated, or just give them away.",),
            ("swap",), closing=("Reply here if you're interested!",),
        ),
    ],
    "show-and-tell": [
        _Theme(
            ("{Plant} looking its best this week", "Proud of my {plant}", "New shelf, new {plant}"),
            ("Had to share: my {plant} is looking better than ever.", "Proud moment this week with the {plant}."),
            ("praise",), closing=("",),
        ),
        _Theme(
            ("Rescued {a_plant} from the clearance shelf", "Before and after: {n} months with my {plant}"),
            ("{n} months ago this {plant} was a sad clearance-shelf rescue. Look at it now!",),
            ("praise",), closing=("",),
        ),
        _Theme(
            ("Windowsill jungle update, month {n}",),
            ("Month {n} of the windowsill jungle. The {plant} is the star this time.",),
            ("praise",), closing=("",), category=PlantSpecies.Category.HOUSEPLANT,
        ),
    ],
}

REPLY_OPENERS = [
    "Had exactly the same thing last spring.", "Good question, this comes up a lot.", "+1 to what others said.",
    "I've grown these for years.", "Not an expert, but:", "", "", "",
]
ADVICE: dict[str, list[str]] = {
    "water": [
        "**Water less, but deeper.** Soak it, let it drain completely, then wait until the top few centimetres are dry.",
        "**Go by the soil, not the calendar.** Push a finger in: if it's damp at the first knuckle, wait.",
        "**Check the drainage.** Wet soil plus yellow leaves usually means the roots are sitting in water.",
        "**Bottom watering** works well for this one: 20 minutes in a tray, then let it drain.",
    ],
    "light": [
        "**More light** is almost always the answer to leggy growth.",
        "**East or west windows** are ideal: bright, but no harsh midday sun.",
        "**A cheap LED grow light** on a 12-hour timer changed everything for my darker shelves.",
        "**Prune just above a leaf node** and the plant will branch and fill out again.",
    ],
    "roots": [
        "**Check the roots first.** If they are brown and mushy, trim back to healthy tissue and repot into fresh mix.",
        "**Don't repot and fertilise at the same time**; give it a month to settle in first.",
        "**Repotting shock** is normal: keep it out of direct sun and water lightly for a couple of weeks.",
    ],
    "general": [
        "**Patience.** Most plants sulk for a few weeks after a change.",
        "**Yellow lower leaves** on their own are often just old leaves being recycled; watch the new growth instead.",
        "**Cold draughts** do this too; is it near a door that opens a lot?",
    ],
    "pests": [
        "**Isolate it** from your other plants until the problem is gone.",
        "**Neem oil** every 7 days for three weeks sorted mine out.",
        "**Insecticidal soap** once a week, and wipe the undersides of the leaves too.",
        "**Yellow sticky traps** catch the flying adults; letting the topsoil dry out breaks the cycle.",
        "**Predatory mites** cleared a bad infestation in my conservatory without any spraying.",
    ],
    "disease": [
        "**Cut out the affected leaves** and bin them (not the compost heap).",
        "**Improve the air flow** and water the soil, not the leaves.",
        "**Stop misting** while it has spots; wet leaves spread fungal problems.",
    ],
    "propagation": [
        "**Node, node, node.** A cutting without a node will root but never grow a new shoot.",
        "**Water propagation** is fine, but move it to soil once the roots are 3 to 5 cm long.",
        "**Warmth matters more than hormone**: a heat mat at about 22 °C doubled my success rate.",
        "**Divide in spring** when new growth starts, each piece with its own roots and a few shoots.",
    ],
    "prune": [
        "**Prune right after flowering**, so you don't cut off next year's buds.",
        "**Take out a third of the oldest stems** at the base each year and it stays young.",
        "**Clean, sharp secateurs**, and cut just above an outward-facing bud.",
    ],
    "flowers": [
        "**A high-potash feed** (tomato feed) encourages flowers rather than leaves.",
        "**Too much shade** is the usual reason for few flowers; has a tree grown up nearby?",
        "**Too much nitrogen** gives you leaves instead of flowers; is lawn feed running off into that bed?",
        "**Some years are just off years**: a dry late summer sets fewer buds.",
    ],
    "frost": [
        "**A thick mulch** in autumn keeps the roots warm.",
        "**Fleece on cold nights**, and move pots against a sunny wall.",
        "**Wet cold kills more than dry cold**: raise pots on feet so they drain.",
    ],
    "garden": [
        "**Prepare the soil well**: a bucket of compost in the planting hole pays off for years.",
        "**Water deeply once a week** rather than a little every day, so the roots go down.",
        "**Check the hardiness zone** on the care sheet against your area before you plant.",
    ],
    "id": [
        "Looks like a **{guess}** (*{guess_scientific}*) to me. Compare it with the [catalog page](/plants/species/{guess_slug}/).",
        "I'd say **{guess}**. The leaves are a giveaway; check the [catalog page](/plants/species/{guess_slug}/).",
        "Agree, that's a **{guess}** (*{guess_scientific}*).",
    ],
    "swap": [
        "I'd love one! I have a spare spider plant baby to send back.",
        "Interested! Could swap for a variegated pothos cutting.",
        "Still available? I'll send you a message.",
    ],
    "praise": [
        "Gorgeous! What's your secret?", "That's stunning. How long did it take?", "Jealous! Mine never looks like that.",
        "What a transformation. Well done!", "Love it. Where did you get the pot?", "Look at those leaves!",
    ],
}
PET_FACTS: dict[bool, list[str]] = {
    True: [
        "According to the [ASPCA list]({aspca}) it is **toxic to cats**: {notes}",
        "I'd keep it out of reach: it's **toxic to cats** ({aspca_link}).",
        "Ours lives on top of the wardrobe for exactly that reason. **Toxic to cats**, sadly.",
    ],
    False: [
        "Good news: it's on the **non-toxic** side of the [ASPCA list]({aspca}), so your kitten should be fine.",
        "**Non-toxic** to cats and dogs as far as I know; my cat has been nibbling mine for years.",
        "That one is **safe for cats**. Chewed leaves look sad, though!",
    ],
}
ASPCA_URL = "https://www.aspca.org/pet-care/animal-poison-control/toxic-and-non-toxic-plants"
REPLY_STEPS_INTRO = ["What worked for me:", "My routine:", "I'd try this, in order:"]
REPLY_STEPS: dict[str, list[str]] = {
    "pests": [
        "wipe both sides of the leaves with soapy water", "repeat after a week to catch the next generation",
        "check the plants next to it", "keep it away from the others for a month",
    ],
    "water": [
        "check the drainage holes are not blocked", "cut back on water until it recovers",
        "empty the saucer after watering", "use a chunkier, faster-draining mix",
    ],
    "light": ["move it somewhere with bright, indirect light", "turn it a quarter every week", "prune the longest stems"],
}
REPLY_SIGNOFFS = ["Good luck!", "Keep us posted.", "Hope that helps.", "Post an update in a couple of weeks!", "", ""]
AUTHOR_FOLLOW_UPS = [
    "Thanks everyone! I'll try that and report back.",
    "Thank you, that makes sense. Much appreciated.",
    "Update: it's looking better already. Really appreciate the help.",
    "Good to know, thanks! I had no idea.",
]
AUTHOR_THANKS_PRAISE = ["Thank you! Mostly patience, honestly.", "Thanks! It took about a year.", "Ha, thank you!"]

NICKNAMES = [
    "Kevin", "Big Green", "Spike", "Fernando", "Sir Droops-a-lot", "Leafy", "Monty", "Gertrude", "The survivor",
    "Sprout", "Grandma's {name}", "Kitchen {name}", "Office {name}", "Balcony {name}", "Bathroom {name}", "",
]
CARE_NOTES: dict[str, list[str]] = {
    CareCardStatus.PLANNING: ["Want one for the {spot_short}. Check it is pet safe first.", "On the wish list for spring."],
    CareCardStatus.NEWLY_ACQUIRED: ["Bought {days} days ago. Leaving it in the nursery pot for now.", "Gift from a friend; quarantined for two weeks."],
    CareCardStatus.THRIVING: ["Loves the {spot_short}. Water every {interval} days, feed monthly in summer.", "New leaf every couple of weeks!"],
    CareCardStatus.STRUGGLING: ["Lower leaves yellowing since I moved it. Checking the roots this weekend.", "Possible {pest}; treated once."],
    CareCardStatus.RECOVERED: ["Back from root rot: repotted into gritty mix, watering much less.", "Pests gone after three rounds of soap spray."],
    CareCardStatus.LOST: ["Overwatered it over the winter. Lesson learned.", "Frost got it in February."],
}
SPOTS_SHORT = ["east window", "bathroom", "kitchen", "balcony", "living room", "office", "bedroom shelf"]
REQUEST_NOTES = [
    "Found this {found}. About {cm} cm tall, with {feature}.",
    "Bought without a label at a garden centre. It has {feature}.",
    "Growing in a crack in the pavement outside my house. Any idea?",
    "My neighbour gave me a cutting; she doesn't know the name either.",
    "Came up on its own in the {garden_spot} this year.",
    "",
]
FREE_TEXT_NAMES = ["Some kind of Calathea?", "Looks like a young Ficus to me", "Maybe a Peperomia", "A wild Geranium?"]
CITIES = [
    (51.5074, -0.1278), (52.5200, 13.4050), (48.8566, 2.3522), (40.7128, -74.0060), (45.5017, -73.5673),
    (-33.8688, 151.2093), (52.3676, 4.9041), (59.3293, 18.0686), (53.3498, -6.2603), (47.3769, 8.5417),
]


# First words of common names that stay capitalized in the middle of a sentence.
PROPER_FIRST_WORDS = {
    "African", "August", "Boston", "Burro's", "Busy", "Chinese", "Easter", "English", "Flaming", "Japanese",
    "Mexican", "Swiss", "Thanksgiving",
}


def _mid_sentence(name: str) -> str:
    """``"Peace lily"`` -> ``"peace lily"``, but ``"Swiss cheese plant"`` and ``"ZZ plant"`` stay."""
    first = name.split(" ", 1)[0]
    if first in PROPER_FIRST_WORDS or (len(first) > 1 and first.isupper()):
        return name
    return name[:1].lower() + name[1:]


# --- The builder ---------------------------------------------------------------------------


@dataclass(eq=False)
class _Member:
    """A planned user: the unsaved row plus the numbers the plan needs about it."""

    user: User
    weight: float
    joined: datetime
    approved_posts: int = 0
    fixed_level: str | None = None


@dataclass(eq=False)
class _TopicPlan:
    topic: Topic
    forum_slug: str
    species: PlantSpecies
    theme: _Theme
    context: dict[str, Any]
    weight: float
    posts: list[Post] = field(default_factory=list)


class _DemoBuilder:
    """Holds the plan between steps. Each part of the data gets its own ``random.Random``
    derived from the seed and the part's name, so changing one size does not reshuffle the
    other parts."""

    def __init__(self, *, sizes: SeedSizes, seed: int, now: datetime) -> None:
        self.sizes = sizes
        self.seed = seed
        self.now = now
        # Sorted in Python: database collations order names differently, and the RNG's choices
        # must see the same list on SQLite and PostgreSQL.
        self.species = sorted(PlantSpecies.objects.all(), key=lambda species: species.scientific_name)
        if not self.species:
            raise ValueError("The species catalog is empty; run migrations (or load_species_catalog) first.")
        self.houseplants = [s for s in self.species if s.category == PlantSpecies.Category.HOUSEPLANT] or self.species
        self.garden_plants = [s for s in self.species if s.category == PlantSpecies.Category.GARDEN] or self.species
        self.hashes: dict[str, str] = {}
        self.members: list[_Member] = []
        self.others: list[_Member] = []
        self.topics: list[_TopicPlan] = []
        self.images: list[tuple[str, str, int, int]] = []  # (thumbnail name, photo name, width, height)

    def rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{part}")

    def ago(self, *, days: float) -> datetime:
        return self.now - timedelta(days=days)

    # Users ----------------------------------------------------------------------------------

    def hash_passwords(self) -> None:
        # One hash per distinct password (Argon2 is deliberately slow); users share the string.
        for password in (GARDENER.password, MODERATOR.password, NEWBIE.password, OTHER_PASSWORD):
            self.hashes[password] = make_password(password)

    def _member(self, *, username: str, password: str, joined: datetime, weight: float, rng: random.Random) -> _Member:
        user = User(
            username=username,
            email=f"{username}@example.com",
            password=self.hashes[password],
            date_joined=joined,
            email_confirmed_at=joined + timedelta(minutes=rng.uniform(2, 90)),
            last_login=min(self.now, joined + (self.now - joined) * (0.6 + 0.4 * rng.random())),
            is_active=True,
        )
        return _Member(user=user, weight=weight, joined=joined)

    def plan_users(self) -> None:
        rng = self.rng("users")
        self.gardener = self._member(
            username=GARDENER.username, password=GARDENER.password, joined=self.ago(days=212.3), weight=0, rng=rng
        )
        self.gardener.user.first_name, self.gardener.user.last_name = "Robin", "Gardener"
        self.gardener.fixed_level = TrustLevel.BASIC
        self.moderator = self._member(
            username=MODERATOR.username, password=MODERATOR.password, joined=self.ago(days=361.7), weight=2.5, rng=rng
        )
        self.moderator.user.is_staff = True
        # The moderator's level is granted, not earned from posts: mark it as set by a moderator
        # so no automatic change overrides it (SPEC "Domain").
        self.moderator.user.trust_level_set_by_moderator = True
        self.moderator.fixed_level = TrustLevel.VETERAN
        self.newbie = self._member(
            username=NEWBIE.username, password=NEWBIE.password, joined=self.ago(days=3.4), weight=0, rng=rng
        )
        self.newbie.fixed_level = TrustLevel.NEW
        taken = {GARDENER.username, MODERATOR.username, NEWBIE.username}
        upper = max(99, self.sizes.users * 3)
        for _ in range(self.sizes.users):
            while True:
                name = f"{rng.choice(USERNAME_STEMS)}_{rng.randint(1, upper)}"
                if name not in taken:
                    break
            taken.add(name)
            # Pareto weights: a few very active gardeners, many quiet ones (capped so one
            # member cannot write half the forum).
            weight = min(rng.paretovariate(1.1), 25.0)
            joined = self.ago(days=rng.uniform(2, 365))
            self.others.append(self._member(username=name, password=OTHER_PASSWORD, joined=joined, weight=weight, rng=rng))
        self.members = [self.gardener, self.moderator, self.newbie, *self.others]
        # Generated names are drawn from the seeded RNG, so keep the list in a stable order.
        self.active = [self.moderator, *self.others]  # who writes the bulk of the forum
        self.active_cum_weights = list(itertools.accumulate(max(m.weight, 0.05) for m in self.active))
        self.member_of = {id(m.user): m for m in self.members}

    def _pick(self, rng: random.Random, *, accept: Callable[[_Member], bool] | None = None) -> _Member:
        """A member of the active crowd, by activity weight; with ``accept``, the first of a
        few draws it accepts (the moderator when none is), so picking stays O(log n)."""
        for _ in range(25):
            member = rng.choices(self.active, cum_weights=self.active_cum_weights, k=1)[0]
            if accept is None or accept(member):
                return member
        return self.moderator

    def _reply_time(self, rng: random.Random, *, after: datetime) -> datetime:
        """When an answer arrives: a log-normal delay after ``after`` (median 10 hours, a long
        tail of days and weeks), never in the future."""
        delay = timedelta(hours=math.exp(rng.gauss(math.log(10), 1.6)))
        if after + delay >= self.now:
            return self._time_after(rng, start=after)
        return after + delay

    def _time_after(self, rng: random.Random, *, start: datetime, skew: float = 1.0) -> datetime:
        """A time between ``start`` and now, nearer ``start`` when ``skew`` > 1."""
        span = max((self.now - start).total_seconds(), 60.0)
        return start + timedelta(seconds=span * rng.random() ** skew)

    # Forum ----------------------------------------------------------------------------------

    def _context(self, rng: random.Random, species: PlantSpecies) -> dict[str, Any]:
        plant = species.display_name
        guess = species if rng.random() < 0.7 else rng.choice(self.species)
        symptom, pest = rng.choice(SYMPTOMS), rng.choice(PESTS)
        article = "an" if plant[:1].lower() in "aeiou" else "a"
        return {
            "plant": _mid_sentence(plant),
            "a_plant": f"{article} {_mid_sentence(plant)}",
            "Plant": plant[:1].upper() + plant[1:],
            "url": f"/plants/species/{species.slug}/",
            "light": species.get_light_display().lower(),
            "zones": species.hardiness_zones,
            "interval": species.watering_interval_days,
            "spot": rng.choice(SPOTS),
            "habit": rng.choice(WATERING_HABITS),
            "symptom": symptom,
            "Symptom": symptom.capitalize(),
            "pest": pest,
            "Pest": pest.capitalize(),
            "disease": rng.choice(DISEASES),
            "feature": rng.choice(FEATURES),
            "found": rng.choice(FOUND_PLACES),
            "garden_spot": rng.choice(GARDEN_SPOTS),
            "n": rng.randint(2, 14),
            "cm": rng.choice([10, 15, 20, 30, 40, 60, 80, 120]),
            "guess": guess.display_name,
            "guess_scientific": guess.scientific_name,
            "guess_slug": guess.slug,
        }

    def _species_for(self, rng: random.Random, forum_slug: str, *, category: str | None = None) -> PlantSpecies:
        if category == PlantSpecies.Category.HOUSEPLANT:
            return rng.choice(self.houseplants)
        if category == PlantSpecies.Category.GARDEN:
            return rng.choice(self.garden_plants)
        if forum_slug in ("houseplants", "propagation"):
            return rng.choice(self.houseplants)
        if forum_slug == "garden-outdoors":
            return rng.choice(self.garden_plants)
        return rng.choice(self.species)

    def _opening_source(self, rng: random.Random, plan: _TopicPlan) -> str:
        theme, species, ctx = plan.theme, plan.species, plan.context
        paragraphs = [rng.choice(theme.intros).format(**ctx)]
        if theme.situation:
            paragraphs.append(f"It sits {ctx['spot']} and I water it {ctx['habit']}. The pot {rng.choice(POTS_TEXT)}.")
        if theme.tried and rng.random() < 0.7:
            tried = rng.sample(TRIED[plan.forum_slug], rng.randint(2, 3))
            paragraphs.append("What I have tried so far:\n\n" + "\n".join(f"- {item}" for item in tried))
        references = [ref for ref in species.references or [] if ref.get("url")]
        if theme.reference and references and rng.random() < 0.5:
            ref = rng.choice(references)
            paragraphs.append(f"I read the [{ref['publisher']} page]({ref['url']}) but it doesn't say much about this.")
        if plan.forum_slug == "show-and-tell":
            paragraphs.append(
                f"Routine: **{ctx['light']}**, water about every {ctx['interval']} days, and a lot of talking to it."
            )
        closing = rng.choice(theme.closing)
        if closing:
            paragraphs.append(closing)
        return "\n\n".join(paragraphs)

    def _reply_source(self, rng: random.Random, plan: _TopicPlan, *, by_author: bool) -> str:
        theme, species, ctx = plan.theme, plan.species, plan.context
        if by_author:
            return rng.choice(AUTHOR_THANKS_PRAISE if "praise" in theme.advice else AUTHOR_FOLLOW_UPS)
        kind = rng.choice(theme.advice)
        if kind in ("praise", "swap"):
            return rng.choice(ADVICE[kind])
        paragraphs = []
        opener = rng.choice(REPLY_OPENERS)
        if opener:
            paragraphs.append(opener)
        if kind == "pets":
            notes = species.toxicity_notes or "it can upset their stomach."
            paragraphs.append(
                rng.choice(PET_FACTS[species.toxic_to_cats]).format(
                    aspca=ASPCA_URL, aspca_link=f"[ASPCA list]({ASPCA_URL})", notes=notes
                )
            )
        elif kind == "id":
            guess = species if rng.random() < 0.6 else rng.choice(self.species)
            paragraphs.append(
                rng.choice(ADVICE["id"]).format(
                    guess=guess.display_name, guess_scientific=guess.scientific_name, guess_slug=guess.slug
                )
            )
        else:
            paragraphs.append(rng.choice(ADVICE[kind]))
            if kind in ("water", "light") and rng.random() < 0.4:
                paragraphs.append(
                    f"The [care sheet]({ctx['url']}) says **{ctx['light']}** and water roughly every "
                    f"**{ctx['interval']} days**, which matches my experience."
                )
            if kind in REPLY_STEPS and rng.random() < 0.35:
                steps = rng.sample(REPLY_STEPS[kind], rng.randint(2, 3))
                paragraphs.append(
                    rng.choice(REPLY_STEPS_INTRO) + "\n\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
                )
        signoff = rng.choice(REPLY_SIGNOFFS)
        if signoff:
            paragraphs.append(signoff)
        return "\n\n".join(paragraphs)

    def _new_topic(
        self,
        rng: random.Random,
        *,
        forum_slug: str,
        poster: _Member,
        created: datetime,
        used: set[str],
        subject: str | None = None,
        source: str | None = None,
        approved: bool = True,
    ) -> _TopicPlan:
        theme = rng.choice(THEMES[forum_slug])
        for _ in range(8):  # a few tries for a subject not used yet
            species = self._species_for(rng, forum_slug, category=theme.category)
            context = self._context(rng, species)
            candidate = subject or rng.choice(theme.subjects).format(**context)[:200]
            if candidate not in used or subject:
                break
        used.add(candidate)
        topic = Topic(
            forum=self.forums_by_slug[forum_slug],
            poster=poster.user,
            subject=candidate,
            created_at=created,
            last_post_at=created,
            is_approved=approved,
        )
        plan = _TopicPlan(
            topic=topic, forum_slug=forum_slug, species=species, theme=theme, context=context,
            weight=min(rng.paretovariate(1.5), 8.0),  # a few busy threads, none with half the forum
        )
        text = source or self._opening_source(rng, plan)
        plan.posts.append(
            Post(topic=topic, poster=poster.user, source=text, is_opening_post=True, created_at=created, is_approved=approved)
        )
        self.topics.append(plan)
        return plan

    def _add_reply(
        self, rng: random.Random, plan: _TopicPlan, *, poster: _Member, created: datetime, approved: bool = True
    ) -> Post:
        by_author = poster.user is plan.topic.poster
        seen = {post.source for post in plan.posts}
        for _ in range(5):  # the same reply twice in one topic reads like a bot
            source = self._reply_source(rng, plan, by_author=by_author)
            if source not in seen:
                break
        post = Post(
            topic=plan.topic,
            poster=poster.user,
            source=source,
            created_at=created,
            is_approved=approved,
        )
        if rng.random() < 0.06:
            post.updated_at = min(self.now, created + timedelta(minutes=rng.uniform(3, 600)))
        plan.posts.append(post)
        return post

    def plan_forum(self) -> None:
        rng = self.rng("forum")
        self.forums_by_slug = {
            slug: Forum(name=name, slug=slug, description=description, position=index)
            for index, (name, slug, description) in enumerate(FORUMS, start=1)
        }
        slugs = [slug for _, slug, _ in FORUMS]
        used: set[str] = set()
        topics_left = self.sizes.topics
        replies_left = self.sizes.posts - self.sizes.topics

        # Two pinned topics by the moderator, written when the forum opened.
        pinned = [
            (
                "show-and-tell",
                "Welcome to the Plant Community Portal: start here",
                "Welcome! A few house rules:\n\n- **Be kind.** Everyone killed a plant once.\n"
                "- Say where the plant lives (light, window direction, country) when you ask for help.\n"
                "- New members' first posts wait in the review queue for a moderator; that's normal.\n\n"
                "The [species catalog](/plants/species/) has general care guidance for the most common plants.",
            ),
            (
                "plant-identification",
                "How to ask for an identification (read before posting)",
                "Good photos make all the difference:\n\n1. One photo of the **whole plant**\n"
                "2. One close-up of a **leaf, top and underside**\n3. Flowers or fruit if there are any\n\n"
                "Start with an [identification request](/plants/identify/); if the machine is unsure, "
                "link the request here and ask the community.",
            ),
        ]
        for slug, subject, source in pinned[: min(2, topics_left)]:
            plan = self._new_topic(
                rng, forum_slug=slug, poster=self.moderator, created=self.ago(days=FORUM_HISTORY_DAYS - 0.5),
                used=used, subject=subject, source=source,
            )
            plan.topic.is_pinned = True
            plan.weight = 6.0
            topics_left -= 1

        # The primary gardener: topics and replies at fixed ages so the dashboard's "last 7
        # days" and "last 30 days" always have something.
        gardener_topic_days = [1.6, 5.2, 9.5, 16.0, 24.5, 41.0, 67.0, 98.0][: min(8, topics_left // 10)]
        for days in gardener_topic_days:
            slug = rng.choice(["houseplants", "pests-diseases", "propagation", "show-and-tell", "houseplants"])
            plan = self._new_topic(
                rng, forum_slug=slug, poster=self.gardener, created=self.ago(days=days + rng.uniform(0, 0.4)), used=used
            )
            plan.weight = 4.0
            topics_left -= 1

        # The newbie's first topic waits in the review queue.
        if topics_left > 0:
            self._new_topic(
                rng, forum_slug="houseplants", poster=self.newbie, created=self.ago(days=0.7), used=used, approved=False
            )
            topics_left -= 1

        start = self.ago(days=FORUM_HISTORY_DAYS)
        for _ in range(topics_left):
            poster = self._pick(rng)
            slug = rng.choices(slugs, weights=FORUM_WEIGHTS, k=1)[0]
            # Recent days a little busier than old ones (power < 1 pulls towards now).
            created = self.now - (self.now - max(start, poster.joined)) * rng.random() ** 0.8
            self._new_topic(rng, forum_slug=slug, poster=poster, created=created, used=used)

        approved_topics = [plan for plan in self.topics if plan.topic.is_approved]
        if not approved_topics:
            replies_left = 0

        def topic_before(moment: datetime, poster: _Member) -> _TopicPlan | None:
            candidates = [
                p for p in approved_topics
                if p.topic.created_at < moment - timedelta(hours=1) and p.topic.poster is not poster.user
            ]
            if not candidates:
                return None
            return rng.choices(candidates, weights=[p.weight for p in candidates], k=1)[0]

        gardener_reply_days = [0.3, 2.1, 3.6, 6.2, 8.0, 12.5, 19.0, 27.0, 35.0, 52.0, 80.0, 110.0]
        for days in gardener_reply_days[: min(12, replies_left // 20)]:
            created = self.ago(days=days + rng.uniform(0, 0.2))
            plan = topic_before(created, self.gardener)
            if plan is not None:
                self._add_reply(rng, plan, poster=self.gardener, created=created)
                replies_left -= 1

        for days in [0.5, 1.2, 2.3][: min(3, replies_left)]:
            created = self.ago(days=days)
            plan = topic_before(created, self.newbie)
            if plan is not None:
                self._add_reply(rng, plan, poster=self.newbie, created=created, approved=False)
                replies_left -= 1

        topic_cum_weights = list(itertools.accumulate(p.weight for p in approved_topics))
        for _ in range(max(replies_left, 0)):
            plan = rng.choices(approved_topics, cum_weights=topic_cum_weights, k=1)[0]
            # The topic's author comes back now and then; otherwise the weighted crowd answers.
            author = self.member_of[id(plan.topic.poster)]
            if len(plan.posts) > 1 and author.weight > 0 and rng.random() < 0.12:
                # The author comes back to thank people, after the latest answer so far.
                poster = author
                created = self._time_after(rng, start=max(post.created_at for post in plan.posts), skew=2.0)
            else:
                poster = self._pick(rng, accept=lambda m, author=author: m is not author)
                created = self._reply_time(rng, after=max(plan.topic.created_at, poster.joined))
            self._add_reply(rng, plan, poster=poster, created=created)

        # Posts in each topic in time order; later replies cannot predate the opening post.
        for plan in self.topics:
            plan.posts.sort(key=lambda post: (not post.is_opening_post, post.created_at))
            for post in plan.posts:
                post.html = render_markdown(post.source)
                if post.is_approved:
                    self.member_of[id(post.poster)].approved_posts += 1

        # A couple of old topics are locked (the discussion ran its course).
        old = [p for p in self.topics if not p.topic.is_pinned and p.topic.created_at < self.ago(days=90)]
        for plan in rng.sample(old, min(2, len(old))):
            plan.topic.is_locked = True

    # Saving users and forum ------------------------------------------------------------------

    def _trust_level(self, member: _Member) -> str:
        if member.fixed_level is not None:
            return member.fixed_level
        age_days = (self.now - member.joined).days
        level = TrustLevel.NEW
        for candidate in TRUST_LEVEL_ORDER[1:]:
            needs = settings.TRUST_LEVEL_REQUIREMENTS[candidate.value]
            if member.approved_posts >= needs["approved_posts"] and age_days >= needs["account_age_days"]:
                level = candidate
        return level

    def save_users(self) -> None:
        for member in self.members:
            member.user.trust_level = self._trust_level(member)
        # A member still at level "new" has had their older posts approved by a moderator; the
        # last two days' replies are still waiting in the review queue.
        recent = self.ago(days=2)
        for plan in self.topics:
            for post in plan.posts:
                if (
                    not post.is_opening_post
                    and post.created_at > recent
                    and post.poster.trust_level == TrustLevel.NEW
                ):
                    post.is_approved = False
        User.objects.bulk_create([m.user for m in self.members], batch_size=BATCH_SIZE)
        group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
        self.moderator.user.groups.add(group)

    def save_forum(self) -> None:
        Forum.objects.bulk_create(list(self.forums_by_slug.values()))
        Topic.objects.bulk_create([plan.topic for plan in self.topics], batch_size=BATCH_SIZE)
        posts = [post for plan in self.topics for post in plan.posts]
        Post.objects.bulk_create(posts, batch_size=BATCH_SIZE)

    # Images ---------------------------------------------------------------------------------

    def draw_images(self) -> None:
        if not self.sizes.requests:
            return
        rng = self.rng("images")
        kinds = list(PLANT_KINDS)
        rng.shuffle(kinds)
        for index in range(IMAGE_POOL_SIZE):
            image = draw_plant_image(rng=random.Random(rng.getrandbits(64)), kind=kinds[index % len(kinds)])
            photo = image.reduce(IMAGE_DRAW_PX // PHOTO_PX)  # box filter: fast, and enough for flat shapes
            thumb = photo.resize((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS, reducing_gap=2.0)
            thumb_name = _store_jpeg(f"{THUMBNAIL_DIR}/plant-{index + 1}.jpg", thumb)
            photo_name = _store_jpeg(f"{PHOTO_DIR}/plant-{index + 1}.jpg", photo)
            self.images.append((thumb_name, photo_name, photo.width, photo.height))

    # Identification requests ----------------------------------------------------------------

    def _request_status(self, rng: random.Random, created: datetime) -> str:
        age = self.now - created
        if age < timedelta(hours=1):
            return rng.choice([IdentificationStatus.PENDING, IdentificationStatus.PROCESSING, IdentificationStatus.IDENTIFIED])
        return rng.choices(
            [IdentificationStatus.IDENTIFIED, IdentificationStatus.NEEDS_HELP, IdentificationStatus.FAILED],
            weights=[68, 20, 12],
            k=1,
        )[0]

    def save_identifications(self) -> None:
        rng = self.rng("identifications")
        total = self.sizes.requests
        gardener_count = min(25, total // 6)
        plans: list[tuple[_Member, datetime, str]] = []
        # The gardener: newest one still processing, a pending one just before, three in the
        # last 7 days, the rest over the 12 weeks of the dashboard's sparkline.
        forced = [(0.004, IdentificationStatus.PROCESSING), (0.015, IdentificationStatus.PENDING)]
        for i in range(gardener_count):
            if i < len(forced):
                days, status = forced[i]
                created = self.ago(days=days)
            else:
                days = rng.uniform(0.5, 6.5) if i < 5 else 7 + (SPARKLINE_DAYS - 7.5) * rng.random() ** 1.2
                created = self.ago(days=days)
                status = self._request_status(rng, created)
            plans.append((self.gardener, created, status))
        # Make sure the gardener's list shows every outcome at least once.
        for index, status in ((3, IdentificationStatus.NEEDS_HELP), (6, IdentificationStatus.FAILED)):
            if index < len(plans):
                member, created, _ = plans[index]
                plans[index] = (member, created, status)
        if total - len(plans) > 0:
            created = self.ago(days=1.1)
            plans.append((self.newbie, created, IdentificationStatus.NEEDS_HELP))
        while len(plans) < total:
            owner = self._pick(rng)
            created = self.now - (self.now - max(self.ago(days=FORUM_HISTORY_DAYS), owner.joined)) * rng.random()
            plans.append((owner, created, self._request_status(rng, created)))

        requests, photos = [], []
        for owner, created, status in plans:
            thumb, photo, width, height = rng.choice(self.images)
            request = PlantIdentificationRequest(
                owner=owner.user,
                notes=rng.choice(REQUEST_NOTES).format(**self._context(rng, rng.choice(self.species))),
                thumbnail=thumb,
                status=status,
                created_at=created,
            )
            if rng.random() < 0.4:
                lat, lon = rng.choice(CITIES)
                exact = rng.random() < 0.3
                places = Decimal("0.00001") if exact else Decimal("0.01")
                request.latitude = Decimal(str(lat + rng.uniform(-0.08, 0.08))).quantize(places)
                request.longitude = Decimal(str(lon + rng.uniform(-0.08, 0.08))).quantize(places)
                request.location_is_exact = exact
            requests.append(request)
            photos.append(PlantPhoto(request=request, image=photo, position=0, width=width, height=height))
        PlantIdentificationRequest.objects.bulk_create(requests, batch_size=BATCH_SIZE)
        PlantPhoto.objects.bulk_create(photos, batch_size=BATCH_SIZE)

        suggestions: list[IdentificationSuggestion] = []
        accepted: dict[int, IdentificationSuggestion] = {}
        for index, request in enumerate(requests):
            made = self._suggestions_for(rng, request, self.member_of[id(request.owner)])
            suggestions += made
            if request.status == IdentificationStatus.IDENTIFIED:
                # Accepted: the community's answer when there is one with species, else the
                # machine's most probable.
                community = [s for s in made if s.source == SuggestionSource.COMMUNITY and s.species is not None]
                best = community[0] if community else max(made, key=lambda s: s.probability or 0)
                accepted[index] = best
        # One SuggestionVote row per counted vote, so vote_count matches the votes table.
        voters_of: list[list[_Member]] = []
        for suggestion in suggestions:
            voters: list[_Member] = []

            def can_vote(member: _Member, suggestion=suggestion, voters=voters) -> bool:
                return (
                    member.user is not suggestion.suggested_by
                    and member.user is not suggestion.request.owner
                    and member.joined < suggestion.created_at
                    and member not in voters
                )

            for _ in range(suggestion.vote_count):
                voter = self._pick(rng, accept=can_vote)
                if can_vote(voter):
                    voters.append(voter)
            suggestion.vote_count = len(voters)
            voters_of.append(voters)
        IdentificationSuggestion.objects.bulk_create(suggestions, batch_size=BATCH_SIZE)
        votes = [
            SuggestionVote(
                suggestion=suggestion, voter=voter.user, created_at=self._time_after(rng, start=suggestion.created_at, skew=2)
            )
            for suggestion, voters in zip(suggestions, voters_of, strict=True)
            for voter in voters
        ]
        SuggestionVote.objects.bulk_create(votes, batch_size=BATCH_SIZE)
        for index, suggestion in accepted.items():
            request = requests[index]
            request.accepted_suggestion = suggestion
            request.species = suggestion.species
            request.identified_at = max(suggestion.created_at, request.created_at) + timedelta(minutes=rng.uniform(1, 90))
            request.identified_at = min(request.identified_at, self.now)
        PlantIdentificationRequest.objects.bulk_update(
            [requests[i] for i in accepted], ["accepted_suggestion", "species", "identified_at"], batch_size=BATCH_SIZE
        )

    def _suggestions_for(self, rng: random.Random, request: PlantIdentificationRequest, owner: _Member) -> list:
        """1-3 suggestions for an identified or needs-help request; none while the machine has
        not answered (pending, processing) or when it failed."""
        if request.status not in (IdentificationStatus.IDENTIFIED, IdentificationStatus.NEEDS_HELP):
            return []
        identified = request.status == IdentificationStatus.IDENTIFIED
        machine = rng.choice([SuggestionSource.PLANT_ID, SuggestionSource.PLANTNET])
        count = rng.randint(1, 3)
        picked = rng.sample(self.species, count)
        community_answer = identified and rng.random() < 0.2 or not identified and rng.random() < 0.6
        made = []
        for position, species in enumerate(picked):
            if community_answer and position == count - 1 and count > 1:
                break
            if identified and not community_answer and position == 0:
                probability = rng.uniform(0.72, 0.99)
            else:
                probability = rng.uniform(0.03, 0.45) / (position + 1)
            made.append(
                IdentificationSuggestion(
                    request=request,
                    species=species,
                    probability=round(probability, 4),
                    source=machine,
                    vote_count=rng.choices([0, 1, 2], weights=[6, 2, 1], k=1)[0],
                    created_at=min(self.now, request.created_at + timedelta(seconds=rng.uniform(4, 40))),
                )
            )
        if community_answer:
            helper = self._pick(rng, accept=lambda m: m is not owner and m.joined < request.created_at)
            when = self._time_after(rng, start=request.created_at, skew=3)
            if identified or rng.random() < 0.5:
                suggestion = IdentificationSuggestion(species=rng.choice(self.species))
            else:
                suggestion = IdentificationSuggestion(free_text_name=rng.choice(FREE_TEXT_NAMES))
            suggestion.request = request
            suggestion.source = SuggestionSource.COMMUNITY
            suggestion.suggested_by = helper.user
            suggestion.probability = None
            suggestion.vote_count = rng.randint(2, 5) if identified else rng.randint(0, 3)
            suggestion.created_at = when
            made.append(suggestion)
        return made

    # Care cards -----------------------------------------------------------------------------

    def save_care_cards(self) -> None:
        rng = self.rng("care-cards")
        total = self.sizes.care_cards
        owned: dict[int, set[int]] = {}
        cards: list[SavedCareInstructions] = []

        def add(member: _Member, status: str, *, favourite: bool, updated_days: float | None = None) -> None:
            taken = owned.setdefault(id(member), set())
            choices = [s for s in self.species if s.pk not in taken]
            if not choices:
                return
            species = rng.choice(choices)
            taken.add(species.pk)
            created = self._time_after(rng, start=max(member.joined, self.ago(days=300)))
            updated = self.ago(days=updated_days) if updated_days is not None else self._time_after(rng, start=created)
            updated = max(updated, created)
            name = species.display_name
            nickname = rng.choice(NICKNAMES).format(name=_mid_sentence(name))[:80]
            notes = rng.choice(CARE_NOTES[status]).format(
                spot_short=rng.choice(SPOTS_SHORT), interval=species.watering_interval_days,
                days=rng.randint(2, 20), pest=rng.choice(PESTS),
            ) if rng.random() < 0.85 else ""
            cards.append(
                SavedCareInstructions(
                    owner=member.user, species=species, nickname=nickname, personal_notes=notes, status=status,
                    is_favourite=favourite, created_at=created, updated_at=updated,
                )
            )

        gardener_statuses = [
            CareCardStatus.THRIVING, CareCardStatus.STRUGGLING, CareCardStatus.NEWLY_ACQUIRED, CareCardStatus.THRIVING,
            CareCardStatus.PLANNING, CareCardStatus.RECOVERED, CareCardStatus.LOST, CareCardStatus.THRIVING,
        ]
        for i, status in enumerate(gardener_statuses[: min(8, total)]):
            add(self.gardener, status, favourite=i in (0, 3, 5), updated_days=0.2 + i * 4.5)
        if len(cards) < total:
            add(self.newbie, CareCardStatus.PLANNING, favourite=False)
        statuses = list(CareCardStatus)
        status_weights = [10, 12, 35, 15, 12, 6]
        attempts = 0
        while len(cards) < total and attempts < total * 20:
            attempts += 1
            add(
                self._pick(rng),
                rng.choices(statuses, weights=status_weights, k=1)[0],
                favourite=rng.random() < 0.25,
            )
        SavedCareInstructions.objects.bulk_create(cards, batch_size=BATCH_SIZE)

    # Moderation -----------------------------------------------------------------------------

    def save_moderation(self) -> None:
        rng = self.rng("moderation")
        actor = self.moderator.user
        actions: list[tuple[ModerationAction, datetime]] = []
        for plan in self.topics:
            if plan.topic.is_pinned:
                actions.append((
                    ModerationAction(actor=actor, action="topic.pin", target_type="topic", target_id=str(plan.topic.pk),
                                     reason="House rules and how-to", metadata={"subject": plan.topic.subject}),
                    plan.topic.created_at + timedelta(minutes=5),
                ))
        # Posts of members still at level "new" were approved from the review queue.
        approved_new = [
            post for plan in self.topics for post in plan.posts
            if post.is_approved and post.poster.trust_level == TrustLevel.NEW and post.poster is not actor
        ]
        for post in rng.sample(approved_new, min(4, len(approved_new))):
            actions.append((
                ModerationAction(actor=actor, action="post.approve", target_type="post", target_id=str(post.pk),
                                 metadata={"topic_id": post.topic_id, "poster": post.poster.username}),
                min(self.now, post.created_at + timedelta(hours=rng.uniform(0.5, 8))),
            ))
        ModerationAction.objects.bulk_create([action for action, _ in actions])
        # created_at is auto_now_add, so insert stamps "now"; put the real times back in one UPDATE.
        for action, when in actions:
            action.created_at = when
        if actions:
            ModerationAction.objects.bulk_update([action for action, _ in actions], ["created_at"])

        # A few open reports for the moderators' queue, on replies of members past level "new"
        # (a trusted member's report would hide a new member's post: SPEC "Domain").
        candidates = [
            post for plan in self.topics for post in plan.posts
            if not post.is_opening_post and post.is_approved and post.poster.trust_level != TrustLevel.NEW
        ]
        reports = []
        reasons = [(Report.Reason.OFF_TOPIC, "Not really about plants."), (Report.Reason.SPAM, "Link to a shop."),
                   (Report.Reason.OTHER, "Advice here could hurt a cat: the plant is toxic.")]
        for post, (reason, detail) in zip(rng.sample(candidates, min(3, len(candidates))), reasons):
            reporter = self._pick(rng, accept=lambda m, p=post: m.user is not p.poster)
            if reporter.user is post.poster:
                continue
            reports.append(Report(post=post, reporter=reporter.user, reason=reason, detail=detail,
                                  created_at=self._time_after(rng, start=post.created_at, skew=2)))
        Report.objects.bulk_create(reports)

    def recount(self) -> None:
        user_counters_recount()
        forum_counters_recount()


# --- Drawing -------------------------------------------------------------------------------

PLANT_KINDS = ("broad", "blades", "rosette", "fern", "flowering", "cactus", "trailing", "broad-fenestrated")
GREENS = [(46, 125, 50), (56, 142, 60), (67, 160, 71), (85, 139, 47), (104, 159, 56), (27, 94, 32), (51, 105, 30),
          (124, 179, 66), (0, 105, 92), (38, 140, 120)]
WALLS = [((236, 239, 241), (207, 216, 220)), ((255, 248, 225), (255, 236, 179)), ((232, 245, 233), (200, 230, 201)),
         ((227, 242, 253), (187, 222, 251)), ((250, 250, 250), (224, 224, 224)), ((255, 243, 224), (255, 204, 188))]
TABLES = [(141, 110, 99), (188, 170, 164), (121, 85, 72), (176, 190, 197), (215, 204, 200)]
POT_COLOURS = [(191, 106, 73), (176, 90, 60), (236, 236, 236), (84, 110, 122), (233, 196, 106), (38, 70, 83),
               (244, 162, 97), (255, 255, 255)]
FLOWER_COLOURS = [(233, 30, 99), (244, 67, 54), (255, 235, 59), (255, 255, 255), (156, 39, 176), (255, 152, 0)]


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(max(0, min(255, int(c * factor))) for c in colour)  # type: ignore[return-value]


def _leaf_polygon(
    x: float, y: float, *, length: float, width: float, angle: float, pointed: float = 0.9, steps: int = 18
) -> list[tuple[float, float]]:
    """Outline of a leaf whose base is at (x, y), pointing at ``angle`` (radians, screen axes)."""
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    side = []
    for i in range(steps + 1):
        t = i / steps
        side.append((t * length, width / 2 * math.sin(math.pi * t) ** pointed * (1 - 0.25 * t)))
    outline = side + [(px, -py) for px, py in reversed(side)]
    return [(x + px * cos_a - py * sin_a, y + px * sin_a + py * cos_a) for px, py in outline]


def draw_plant_image(*, rng: random.Random, kind: str, size: int = IMAGE_DRAW_PX) -> Image.Image:
    """Draw a stylized potted plant: an RGB ``size`` x ``size`` image (pixels). ``kind`` is one
    of :data:`PLANT_KINDS`; colours, counts and angles come from ``rng``, so the same RNG state
    draws the same picture."""
    top, bottom = rng.choice(WALLS)
    gradient = Image.new("RGB", (1, 2))
    gradient.putpixel((0, 0), top)
    gradient.putpixel((0, 1), bottom)
    image = gradient.resize((size, size), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    s = size
    table_y = int(s * rng.uniform(0.76, 0.82))
    table = rng.choice(TABLES)
    draw.rectangle([0, table_y, s, s], fill=table)
    draw.rectangle([0, table_y, s, table_y + s // 90], fill=_shade(table, 1.15))

    cx = s / 2 + rng.uniform(-0.06, 0.06) * s
    pot_top = s * rng.uniform(0.55, 0.6)
    pot_bottom = table_y + s * 0.05
    top_w = s * rng.uniform(0.15, 0.19)
    bottom_w = top_w * rng.uniform(0.7, 0.85)
    pot = rng.choice(POT_COLOURS)
    draw.ellipse([cx - bottom_w * 1.3, pot_bottom - s * 0.02, cx + bottom_w * 1.3, pot_bottom + s * 0.025],
                 fill=_shade(table, 0.8))
    greens = rng.sample(GREENS, 4)
    origin = (cx, pot_top)

    def leaf(x, y, length, width, angle, colour, *, rib=True, pointed=0.9):
        draw.polygon(_leaf_polygon(x, y, length=length, width=width, angle=angle, pointed=pointed), fill=colour)
        if rib:
            end = (x + math.cos(angle) * length * 0.92, y + math.sin(angle) * length * 0.92)
            draw.line([(x, y), end], fill=_shade(colour, 0.7), width=max(2, s // 400))

    def stem_to(angle, length, colour, width=None):
        end = (origin[0] + math.cos(angle) * length, origin[1] + math.sin(angle) * length)
        draw.line([origin, end], fill=colour, width=width or max(3, s // 160))
        return end

    if kind in ("broad", "broad-fenestrated", "flowering"):
        count = rng.randint(7, 11) if kind != "flowering" else rng.randint(6, 9)
        for _ in range(count):
            angle = rng.uniform(-math.pi + 0.35, -0.35)
            end = stem_to(angle, s * rng.uniform(0.12, 0.33), _shade(greens[0], 0.8))
            length = s * rng.uniform(0.13, 0.22) * (0.7 if kind == "flowering" else 1)
            colour = _shade(rng.choice(greens), rng.uniform(0.85, 1.15))
            leaf_angle = angle + rng.uniform(-0.4, 0.4)
            leaf(end[0], end[1], length, length * rng.uniform(0.55, 0.85), leaf_angle, colour)
            if kind == "broad-fenestrated":
                for k in range(rng.randint(2, 4)):
                    t = 0.3 + 0.15 * k
                    hx = end[0] + math.cos(leaf_angle) * length * t + math.sin(leaf_angle) * length * 0.18
                    hy = end[1] + math.sin(leaf_angle) * length * t - math.cos(leaf_angle) * length * 0.18
                    r = length * 0.045
                    draw.ellipse([hx - r, hy - r, hx + r, hy + r], fill=top)
        if kind == "flowering":
            petal = rng.choice(FLOWER_COLOURS)
            for _ in range(rng.randint(3, 6)):
                angle = rng.uniform(-math.pi + 0.6, -0.6)
                fx, fy = stem_to(angle, s * rng.uniform(0.3, 0.42), _shade(greens[1], 0.8), width=max(2, s // 240))
                radius = s * rng.uniform(0.025, 0.04)
                for p in range(6):
                    a = p * math.pi / 3 + rng.uniform(-0.1, 0.1)
                    px, py = fx + math.cos(a) * radius, fy + math.sin(a) * radius
                    draw.ellipse([px - radius * 0.8, py - radius * 0.8, px + radius * 0.8, py + radius * 0.8], fill=petal)
                draw.ellipse([fx - radius * 0.55, fy - radius * 0.55, fx + radius * 0.55, fy + radius * 0.55],
                             fill=(255, 213, 79))
    elif kind == "blades":
        for _ in range(rng.randint(5, 9)):
            bx = cx + rng.uniform(-0.5, 0.5) * top_w * 1.2
            angle = -math.pi / 2 + rng.uniform(-0.3, 0.3)
            length, width = s * rng.uniform(0.3, 0.46), s * rng.uniform(0.05, 0.08)
            leaf(bx, pot_top + s * 0.01, length, width, angle, (205, 190, 80), rib=False, pointed=0.35)
            dark = _shade(rng.choice(greens), 0.75)
            leaf(bx, pot_top + s * 0.01, length * 0.96, width * 0.78, angle, dark, rib=False, pointed=0.35)
            for b in range(5):
                t = 0.15 + 0.15 * b
                mx, my = bx + math.cos(angle) * length * t, pot_top + math.sin(angle) * length * t
                draw.line([(mx - width * 0.25, my), (mx + width * 0.25, my - s * 0.006)], fill=_shade(dark, 1.3),
                          width=max(2, s // 500))
    elif kind == "rosette":
        base = (120, 165, 145) if rng.random() < 0.6 else (150, 170, 110)
        for layer in range(3):
            count = 9 - layer * 2
            for k in range(count):
                angle = -math.pi + 0.15 + (math.pi - 0.3) * (k + 0.5) / count + rng.uniform(-0.05, 0.05)
                length = s * (0.16 - layer * 0.04)
                leaf(cx, pot_top + s * 0.01, length, length * 0.45, angle, _shade(base, 0.85 + layer * 0.12),
                     rib=False, pointed=0.6)
    elif kind in ("fern", "trailing"):
        for _ in range(rng.randint(6, 9)):
            direction = rng.choice([-1, 1])
            angle = -math.pi / 2 + direction * rng.uniform(0.2, 1.3)
            length = s * rng.uniform(0.25, 0.4)
            droop = rng.uniform(0.6, 1.6) if kind == "trailing" else rng.uniform(0.3, 0.8)
            points = []
            for i in range(16):
                t = i / 15
                a = angle + direction * droop * t * t
                if not points:
                    points.append(origin)
                else:
                    px, py = points[-1]
                    points.append((px + math.cos(a) * length / 15, py + math.sin(a) * length / 15))
            colour = _shade(rng.choice(greens), rng.uniform(0.85, 1.1))
            draw.line(points, fill=_shade(colour, 0.7), width=max(2, s // 300))
            for i in range(2, 16, 1 if kind == "fern" else 2):
                px, py = points[i]
                a = angle + direction * droop * (i / 15) ** 2
                leaflet = s * (0.05 if kind == "fern" else 0.045) * (1 - i / 20)
                for side in (-1, 1):
                    leaf(px, py, leaflet, leaflet * (0.45 if kind == "fern" else 0.8), a + side * 1.1, colour, rib=False)
    elif kind == "cactus":
        colour = rng.choice(greens)
        width, height = top_w * 0.75, s * rng.uniform(0.28, 0.38)
        draw.rounded_rectangle([cx - width / 2, pot_top - height, cx + width / 2, pot_top + s * 0.01],
                               radius=int(width / 2), fill=colour)
        for arm in range(rng.randint(0, 2)):
            side = -1 if arm == 0 else 1
            ay = pot_top - height * rng.uniform(0.35, 0.6)
            ax = cx + side * width / 2
            draw.rounded_rectangle([min(ax, ax + side * width * 0.7), ay - width * 0.25,
                                    max(ax, ax + side * width * 0.7), ay + width * 0.25], radius=int(width * 0.2),
                                   fill=colour)
            tip_x = ax + side * width * 0.55
            draw.rounded_rectangle([tip_x - width * 0.22, ay - height * 0.35, tip_x + width * 0.22, ay + width * 0.2],
                                   radius=int(width * 0.2), fill=colour)
        for rib in (-0.25, 0, 0.25):
            draw.line([(cx + rib * width, pot_top - height * 0.92), (cx + rib * width, pot_top)],
                      fill=_shade(colour, 0.75), width=max(2, s // 400))
        for _ in range(60):
            sx = cx + rng.uniform(-0.45, 0.45) * width
            sy = pot_top - rng.uniform(0.05, 0.95) * height
            draw.line([(sx, sy), (sx + rng.uniform(-1, 1) * s * 0.01, sy - s * 0.008)], fill=(250, 250, 235), width=2)
        if rng.random() < 0.7:
            fx, fy, r = cx, pot_top - height, s * 0.03
            draw.ellipse([fx - r, fy - r * 1.4, fx + r, fy + r * 0.3], fill=rng.choice(FLOWER_COLOURS))

    # The pot goes on last so that stems disappear into it.
    draw.polygon([(cx - top_w, pot_top), (cx + top_w, pot_top), (cx + bottom_w, pot_bottom), (cx - bottom_w, pot_bottom)],
                 fill=pot)
    rim_h = s * 0.035
    draw.rectangle([cx - top_w * 1.06, pot_top - rim_h * 0.3, cx + top_w * 1.06, pot_top + rim_h * 0.7],
                   fill=_shade(pot, 0.88))
    draw.polygon([(cx - top_w * 0.9, pot_top + rim_h), (cx - top_w * 0.6, pot_top + rim_h),
                  (cx - bottom_w * 0.55, pot_bottom - s * 0.01), (cx - bottom_w * 0.8, pot_bottom - s * 0.01)],
                 fill=_shade(pot, 1.08))
    return image


def _store_jpeg(name: str, image: Image.Image) -> str:
    """Save ``image`` as JPEG under ``name`` through the default storage, replacing an earlier
    file of that name (a re-seed draws the same picture), and return the stored name."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(buffer.getvalue()))
