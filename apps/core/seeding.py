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
from django.db.models import Q
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
    """What :func:`demo_data_seed` wrote: ``counts`` maps a row kind to its number of rows,
    ``other_usernames`` lists the generated gardeners (password :data:`OTHER_PASSWORD`)."""

    counts: dict[str, int]
    accounts: list[DemoAccount]
    other_usernames: list[str]
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
        counts=builder.counts,
        accounts=[GARDENER, MODERATOR, NEWBIE],
        other_usernames=[member.user.username for member in builder.others],
    )


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
TRIED = [
    "moved it away from the radiator", "let the top 3 cm of soil dry out between waterings",
    "checked the roots (white and firm, no smell)", "wiped the leaves with a damp cloth",
    "added a pebble tray for humidity", "repotted it into a pot one size up", "stopped feeding for the winter",
    "cut off the worst leaves", "switched to rainwater", "given it a quarter turn every week",
    "sprayed it with insecticidal soap", "put yellow sticky traps in the pot",
]
OPEN_QUESTIONS = ["Any ideas?", "What would you do?", "Should I be worried?", "Thanks in advance!", "Grateful for any tips."]

SUBJECTS: dict[str, list[str]] = {
    "houseplants": [
        "Yellow leaves on my {plant}", "{Plant}: brown, crispy tips. Too little humidity?",
        "How often do you water your {plant} in winter?", "Is {spot} enough light for a {plant}?",
        "{Plant} dropping leaves after repotting", "Best potting mix for a {plant}?", "My {plant} is getting leggy",
        "Drooping {plant} even though the soil is wet", "Safe to keep a {plant} with cats?",
        "{Plant} has not grown since spring",
    ],
    "garden-outdoors": [
        "When should I prune my {plant}?", "{Plant} not flowering this year", "Companion plants for {plant}?",
        "Protecting {plant} from frost", "Moving a {plant} to a sunnier spot", "Mulch for {plant}: bark or compost?",
        "{Plant} in a pot on a windy balcony", "First year growing {plant}: what am I in for?",
    ],
    "plant-identification": [
        "What is this plant? Found it {found}", "Help identifying a plant with {feature}",
        "Is this a {plant} or something else?", "Mystery seedling in my {garden_spot}", "Inherited a plant, no label: ideas?",
    ],
    "pests-diseases": [
        "{Pest} on my {plant}: help!", "{Symptom} on my {plant}: disease or watering?",
        "How do you get rid of {pest} for good?", "Is this {disease} on my {plant}?",
        "Sticky leaves and tiny bugs on the {plant}",
    ],
    "propagation": [
        "Propagating {plant}: water or soil?", "My {plant} cuttings won't root", "When to divide a {plant}?",
        "Rooting hormone: worth it for {plant}?", "Cutting swap: {plant} for anything variegated",
        "{Plant} from seed: sowing depth and temperature?",
    ],
    "show-and-tell": [
        "My {plant} finally flowered!", "Windowsill jungle update, month {n}", "Rescued a {plant} from the clearance shelf",
        "Before and after: {n} months with my {plant}", "{Plant} looking its best this week", "New shelf, new {plant}",
    ],
}

INTROS: dict[str, list[str]] = {
    "houseplants": [
        "I've had my {plant} for about {n} months and lately it has {symptom}.",
        "Quick question for the {plant} owners here.",
        "My {plant} was doing great until a few weeks ago; now it has {symptom}.",
    ],
    "garden-outdoors": [
        "This is my first proper season with a {plant} in the {garden_spot}.",
        "We inherited a {plant} with the house and I'd like to keep it happy.",
        "My {plant} in the {garden_spot} is {n} years old now and needs some attention.",
    ],
    "plant-identification": [
        "Found this {found}: about {cm} cm tall, with {feature}.",
        "No label, and the shop had no idea. It has {feature}.",
        "My neighbour gave me a cutting; she doesn't know the name either. It has {feature}.",
    ],
    "pests-diseases": [
        "I think my {plant} has {pest}: tiny specks under the leaves and {symptom}.",
        "Noticed {symptom} on my {plant} this week and I'm worried it's {disease}.",
        "Third time this year I'm fighting {pest}, this time on the {plant}.",
    ],
    "propagation": [
        "I took {n} cuttings from my {plant} a few weeks ago.",
        "My {plant} is huge and I'd love to share it with friends.",
        "Trying to propagate a {plant} for the first time.",
    ],
    "show-and-tell": [
        "Had to share: my {plant} is looking better than ever.",
        "{n} months ago this {plant} was a sad clearance-shelf rescue. Look at it now!",
        "Proud moment this week with the {plant}.",
    ],
}

REPLY_OPENERS = [
    "Had exactly the same thing last spring.", "Good question, this comes up a lot.", "Mine did this too after a move.",
    "+1 to what others said.", "Don't panic, they are tougher than they look.", "Welcome to the forum!",
    "I've grown these for years.", "",
]
REPLY_ADVICE = [
    "**Check the roots first.** If they are brown and mushy, trim back to healthy tissue and repot into fresh, dry mix.",
    "**Water less, but deeper.** Soak it, let it drain completely, then wait until the top few centimetres are dry.",
    "**More light** is almost always the answer to leggy growth.",
    "**Don't repot and fertilise at the same time**; give it a month to settle in first.",
    "**Isolate it** from your other plants until you know what you're dealing with.",
    "**Neem oil** every 7 days for three weeks sorted mine out.",
    "**Yellow lower leaves** on their own are often just old leaves being recycled; watch the new growth instead.",
    "**Bottom watering** and a layer of grit on top helped a lot with my fungus gnats.",
    "**Cold draughts** do this too; is it near a door that opens a lot?",
    "**Patience.** Most plants sulk for a few weeks after a change of spot.",
]
REPLY_STEPS_INTRO = ["What worked for me:", "My routine:", "I'd try this, in order:"]
REPLY_STEPS = [
    "wipe both sides of the leaves with soapy water", "repeat after a week to catch the next generation",
    "move it somewhere with bright, indirect light", "cut back on water until it recovers",
    "check the drainage holes are not blocked", "feed at half strength from spring to autumn",
    "remove any damaged leaves with clean scissors", "keep it away from radiators and draughts",
]
REPLY_SIGNOFFS = ["Good luck!", "Keep us posted.", "Hope that helps.", "Post an update in a couple of weeks!", ""]
AUTHOR_FOLLOW_UPS = [
    "Thanks everyone! I moved it closer to the window and there's a new leaf already.",
    "Thank you! Roots looked fine, so I'll just water less and wait.",
    "Treated it twice with insecticidal soap now; fingers crossed.",
    "Update: it's recovering. Really appreciate the help.",
]
SHOW_AND_TELL_REPLIES = [
    "Gorgeous! What's your secret?", "That's stunning. How long did it take?", "Jealous! Mine never looks like that.",
    "What a transformation. Well done!", "Love it. Where did you get the pot?",
]

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
        self.counts: dict[str, int] = {}
        self.species = list(PlantSpecies.objects.order_by("scientific_name"))
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

    def _pick(self, rng: random.Random, members: Sequence[_Member], *, exclude: Sequence[_Member] = ()) -> _Member:
        pool = [m for m in members if m not in exclude] or list(members)
        return rng.choices(pool, weights=[max(m.weight, 0.05) for m in pool], k=1)[0]

    def _time_after(self, rng: random.Random, *, start: datetime, skew: float = 1.0) -> datetime:
        """A time between ``start`` and now, nearer ``start`` when ``skew`` > 1."""
        span = max((self.now - start).total_seconds(), 60.0)
        return start + timedelta(seconds=span * rng.random() ** skew)

    # Forum ----------------------------------------------------------------------------------

    def _context(self, rng: random.Random, species: PlantSpecies) -> dict[str, Any]:
        plant = species.display_name
        return {
            "plant": _mid_sentence(plant),
            "Plant": plant[:1].upper() + plant[1:],
            "spot": rng.choice(SPOTS),
            "symptom": rng.choice(SYMPTOMS),
            "Symptom": rng.choice(SYMPTOMS).capitalize(),
            "pest": rng.choice(PESTS),
            "Pest": rng.choice(PESTS).capitalize(),
            "disease": rng.choice(DISEASES),
            "feature": rng.choice(FEATURES),
            "found": rng.choice(FOUND_PLACES),
            "garden_spot": rng.choice(GARDEN_SPOTS),
            "n": rng.randint(2, 14),
            "cm": rng.choice([10, 15, 20, 30, 40, 60, 80, 120]),
        }

    def _species_for(self, rng: random.Random, forum_slug: str) -> PlantSpecies:
        if forum_slug in ("houseplants", "propagation"):
            return rng.choice(self.houseplants)
        if forum_slug == "garden-outdoors":
            return rng.choice(self.garden_plants)
        return rng.choice(self.species)

    def _opening_source(self, rng: random.Random, forum_slug: str, species: PlantSpecies, ctx: dict) -> str:
        paragraphs = [rng.choice(INTROS[forum_slug]).format(**ctx)]
        if forum_slug in ("houseplants", "pests-diseases"):
            paragraphs.append(
                f"It sits {ctx['spot']} and I water it {rng.choice(WATERING_HABITS)}. The pot {rng.choice(POTS_TEXT)}."
            )
        if forum_slug in ("houseplants", "pests-diseases", "propagation") and rng.random() < 0.6:
            tried = rng.sample(TRIED, rng.randint(2, 4))
            paragraphs.append("What I have tried so far:\n\n" + "\n".join(f"- {item}" for item in tried))
        references = species.references or []
        if references and rng.random() < 0.35:
            ref = rng.choice(references)
            paragraphs.append(
                f"I read the [{ref['publisher']} page]({ref['url']}) but it doesn't say much about this."
            )
        if forum_slug == "show-and-tell":
            paragraphs.append(
                f"Routine: **{species.get_light_display().lower()}**, water about every "
                f"{species.watering_interval_days} days, and a lot of talking to it."
            )
        else:
            paragraphs.append(rng.choice(OPEN_QUESTIONS))
        return "\n\n".join(paragraphs)

    def _reply_source(self, rng: random.Random, plan: _TopicPlan, *, by_author: bool) -> str:
        species = plan.species
        if by_author:
            return rng.choice(AUTHOR_FOLLOW_UPS)
        if plan.forum_slug == "show-and-tell":
            return rng.choice(SHOW_AND_TELL_REPLIES)
        paragraphs = []
        opener = rng.choice(REPLY_OPENERS)
        if opener:
            paragraphs.append(opener)
        if plan.forum_slug == "plant-identification":
            guess = rng.choice([species, species, rng.choice(self.species)])
            paragraphs.append(
                f"Looks like a **{guess.display_name}** (*{guess.scientific_name}*) to me. "
                f"Compare it with the [catalog page](/plants/species/{guess.slug}/)."
            )
        else:
            paragraphs.append(rng.choice(REPLY_ADVICE))
            if rng.random() < 0.35:
                paragraphs.append(
                    f"The [care sheet](/plants/species/{species.slug}/) says **{species.get_light_display().lower()}** "
                    f"and water roughly every **{species.watering_interval_days} days**, which matches my experience."
                )
            if rng.random() < 0.3:
                steps = rng.sample(REPLY_STEPS, rng.randint(2, 4))
                paragraphs.append(
                    rng.choice(REPLY_STEPS_INTRO) + "\n\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
                )
            if species.toxic_to_cats and rng.random() < 0.25:
                paragraphs.append("Also worth knowing: it's **toxic to cats**, so keep it out of reach if you have one.")
        signoff = rng.choice(REPLY_SIGNOFFS)
        if signoff:
            paragraphs.append(signoff)
        return "\n\n".join(paragraphs)

    def _subject(self, rng: random.Random, forum_slug: str, ctx: dict, used: set[str]) -> str:
        subject = ""
        for _ in range(6):
            subject = rng.choice(SUBJECTS[forum_slug]).format(**ctx)[:200]
            if subject not in used:
                break
        used.add(subject)
        return subject

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
        species = self._species_for(rng, forum_slug)
        ctx = self._context(rng, species)
        topic = Topic(
            forum=self.forums_by_slug[forum_slug],
            poster=poster.user,
            subject=subject or self._subject(rng, forum_slug, ctx, used),
            created_at=created,
            last_post_at=created,
            is_approved=approved,
        )
        plan = _TopicPlan(topic=topic, forum_slug=forum_slug, species=species, weight=rng.paretovariate(1.5))
        text = source or self._opening_source(rng, forum_slug, species, ctx)
        plan.posts.append(
            Post(topic=topic, poster=poster.user, source=text, is_opening_post=True, created_at=created, is_approved=approved)
        )
        self.topics.append(plan)
        return plan

    def _add_reply(
        self, rng: random.Random, plan: _TopicPlan, *, poster: _Member, created: datetime, approved: bool = True
    ) -> Post:
        by_author = poster.user is plan.topic.poster and len(plan.posts) > 1
        post = Post(
            topic=plan.topic,
            poster=poster.user,
            source=self._reply_source(rng, plan, by_author=by_author),
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
            poster = self._pick(rng, self.active)
            slug = rng.choices(slugs, weights=FORUM_WEIGHTS, k=1)[0]
            # Recent days a little busier than old ones (power < 1 pulls towards now).
            created = self.now - (self.now - max(start, poster.joined)) * rng.random() ** 0.8
            self._new_topic(rng, forum_slug=slug, poster=poster, created=created, used=used)

        approved_topics = [plan for plan in self.topics if plan.topic.is_approved]
        if not approved_topics:
            replies_left = 0

        def topic_before(moment: datetime) -> _TopicPlan | None:
            candidates = [p for p in approved_topics if p.topic.created_at < moment - timedelta(hours=1)]
            if not candidates:
                return None
            return rng.choices(candidates, weights=[p.weight for p in candidates], k=1)[0]

        gardener_reply_days = [0.3, 2.1, 3.6, 6.2, 8.0, 12.5, 19.0, 27.0, 35.0, 52.0, 80.0, 110.0]
        for days in gardener_reply_days[: min(12, replies_left // 20)]:
            created = self.ago(days=days + rng.uniform(0, 0.2))
            plan = topic_before(created)
            if plan is not None:
                self._add_reply(rng, plan, poster=self.gardener, created=created)
                replies_left -= 1

        for days in [0.5, 1.2, 2.3][: min(3, replies_left)]:
            created = self.ago(days=days)
            plan = topic_before(created)
            if plan is not None:
                self._add_reply(rng, plan, poster=self.newbie, created=created, approved=False)
                replies_left -= 1

        weights = [p.weight for p in approved_topics]
        for _ in range(max(replies_left, 0)):
            plan = rng.choices(approved_topics, weights=weights, k=1)[0]
            # The topic's author comes back now and then; otherwise the weighted crowd answers.
            if len(plan.posts) > 1 and rng.random() < 0.12:
                poster = next(m for m in self.members if m.user is plan.topic.poster)
            else:
                poster = self._pick(rng, self.active)
            created = self._time_after(rng, start=max(plan.topic.created_at, poster.joined), skew=2.2)
            self._add_reply(rng, plan, poster=poster, created=created)

        # Posts in each topic in time order; later replies cannot predate the opening post.
        by_user = {id(m.user): m for m in self.members}
        for plan in self.topics:
            plan.posts.sort(key=lambda post: (not post.is_opening_post, post.created_at))
            for post in plan.posts:
                post.html = render_markdown(post.source)
                if post.is_approved:
                    by_user[id(post.poster)].approved_posts += 1

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
        self.counts["users"] = len(self.members)

    def save_forum(self) -> None:
        Forum.objects.bulk_create(list(self.forums_by_slug.values()))
        Topic.objects.bulk_create([plan.topic for plan in self.topics], batch_size=BATCH_SIZE)
        posts = [post for plan in self.topics for post in plan.posts]
        Post.objects.bulk_create(posts, batch_size=BATCH_SIZE)
        self.counts["forums"] = len(self.forums_by_slug)
        self.counts["topics"] = len(self.topics)
        self.counts["posts"] = len(posts)
        self.counts["posts awaiting review"] = sum(not post.is_approved for post in posts)
        self.counts["pinned topics"] = sum(plan.topic.is_pinned for plan in self.topics)

    # Images ---------------------------------------------------------------------------------

    def draw_images(self) -> None:
        rng = self.rng("images")
        kinds = list(PLANT_KINDS)
        rng.shuffle(kinds)
        for index in range(IMAGE_POOL_SIZE):
            image = draw_plant_image(rng=random.Random(rng.getrandbits(64)), kind=kinds[index % len(kinds)])
            photo = image.resize((PHOTO_PX, PHOTO_PX), Image.Resampling.LANCZOS)
            thumb = photo.resize((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
            thumb_name = _store_jpeg(f"{THUMBNAIL_DIR}/plant-{index + 1}.jpg", thumb)
            photo_name = _store_jpeg(f"{PHOTO_DIR}/plant-{index + 1}.jpg", photo)
            self.images.append((thumb_name, photo_name, photo.width, photo.height))
        self.counts["stored images"] = 2 * len(self.images)

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
            owner = self._pick(rng, self.active)
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

        owners = {id(m.user): m for m in self.members}
        suggestions: list[IdentificationSuggestion] = []
        accepted: dict[int, IdentificationSuggestion] = {}
        for index, request in enumerate(requests):
            made = self._suggestions_for(rng, request, owners[id(request.owner)])
            suggestions += made
            if request.status == IdentificationStatus.IDENTIFIED:
                # Accepted: the community's answer when there is one with species, else the
                # machine's most probable.
                community = [s for s in made if s.source == SuggestionSource.COMMUNITY and s.species is not None]
                best = community[0] if community else max(made, key=lambda s: s.probability or 0)
                accepted[index] = best
        IdentificationSuggestion.objects.bulk_create(suggestions, batch_size=BATCH_SIZE)
        for index, suggestion in accepted.items():
            request = requests[index]
            request.accepted_suggestion = suggestion
            request.species = suggestion.species
            request.identified_at = max(suggestion.created_at, request.created_at) + timedelta(minutes=rng.uniform(1, 90))
            request.identified_at = min(request.identified_at, self.now)
        PlantIdentificationRequest.objects.bulk_update(
            [requests[i] for i in accepted], ["accepted_suggestion", "species", "identified_at"], batch_size=BATCH_SIZE
        )

        votes = []
        for suggestion in suggestions:
            voters = [
                m for m in self.members
                if m.user is not suggestion.suggested_by and m.user is not suggestion.request.owner
                and m.joined < suggestion.created_at
            ]
            for voter in rng.sample(voters, min(suggestion.vote_count, len(voters))):
                votes.append(
                    SuggestionVote(
                        suggestion=suggestion, voter=voter.user, created_at=self._time_after(rng, start=suggestion.created_at, skew=2)
                    )
                )
            suggestion.vote_count = min(suggestion.vote_count, len(voters))
        IdentificationSuggestion.objects.bulk_update(suggestions, ["vote_count"], batch_size=BATCH_SIZE)
        SuggestionVote.objects.bulk_create(votes, batch_size=BATCH_SIZE)

        self.counts["identification requests"] = len(requests)
        for status in IdentificationStatus:
            self.counts[f"  {status.label.lower()}"] = sum(r.status == status for r in requests)
        self.counts["photos"] = len(photos)
        self.counts["suggestions"] = len(suggestions)
        self.counts["suggestion votes"] = len(votes)

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
                    created_at=request.created_at + timedelta(seconds=rng.uniform(4, 40)),
                )
            )
        if community_answer:
            helpers = [m for m in self.active if m is not owner and m.joined < request.created_at] or [self.moderator]
            helper = self._pick(rng, helpers)
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
                self._pick(rng, self.active),
                rng.choices(statuses, weights=status_weights, k=1)[0],
                favourite=rng.random() < 0.25,
            )
        SavedCareInstructions.objects.bulk_create(cards, batch_size=BATCH_SIZE)
        self.counts["care cards"] = len(cards)

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
            reporter = self._pick(rng, self.active, exclude=[m for m in self.members if m.user is post.poster])
            if reporter.user is post.poster:
                continue
            reports.append(Report(post=post, reporter=reporter.user, reason=reason, detail=detail,
                                  created_at=self._time_after(rng, start=post.created_at, skew=2)))
        Report.objects.bulk_create(reports)
        self.counts["moderation actions"] = len(actions)
        self.counts["open reports"] = len(reports)

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
