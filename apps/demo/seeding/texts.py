"""Text material for the demo forum, identification requests and care cards: forums,
usernames, topic themes with their subjects and opening posts, reply advice, nicknames and
notes. Placeholders such as ``{plant}`` are filled from ``_DemoBuilder._context`` (see
``forum.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from apps.plants.models import CareCardStatus, PlantSpecies

FORUMS: list[tuple[str, str, str]] = [
    ("Houseplants", "houseplants", "Care questions and tips for plants that live indoors: light, watering, repotting."),
    ("Garden & outdoors", "garden-outdoors", "Beds, borders, balconies, lawns and vegetable patches."),
    (
        "Plant identification",
        "plant-identification",
        "Not sure what it is? Describe it, link your identification request and ask.",
    ),
    (
        "Pests & diseases",
        "pests-diseases",
        "Spots, bugs, mould and rot: diagnosis and treatment, organic and otherwise.",
    ),
    ("Propagation", "propagation", "Cuttings, division, seed sowing, layering and swaps."),
    ("Show and tell", "show-and-tell", "Proud of a plant, a bed or a windowsill? Share it here."),
]
FORUM_WEIGHTS = [30, 18, 14, 16, 10, 12]

USERNAME_STEMS = [
    "fern_lover",
    "moss_maven",
    "succulent_sam",
    "basil_bandit",
    "orchid_whisperer",
    "compost_king",
    "tomato_tamer",
    "pothos_pal",
    "rose_rambler",
    "seedling_sue",
    "bonsai_ben",
    "ivy_league",
    "cactus_kate",
    "monstera_mo",
    "leafy_lou",
    "thyme_traveller",
    "sprout_scout",
    "peat_free_pat",
    "balcony_bea",
    "allotment_al",
    "hosta_hal",
    "calathea_cal",
    "dahlia_dee",
    "greenhouse_gus",
    "wildflower_wen",
    "bulb_buddy",
    "hoya_hunter",
    "snake_plant_sid",
    "aloe_ali",
    "mint_condition",
    "root_rot_rob",
    "philo_phil",
    "lavender_liz",
    "berry_bush_bo",
    "worm_farmer",
    "trowel_tess",
]

SPOTS = [
    "on a north-facing windowsill",
    "next to the radiator in the living room",
    "in the bathroom",
    "about two metres from a south-facing window",
    "under a grow light on the bookshelf",
    "on the kitchen counter by the east window",
    "in a bright hallway",
    "on my desk at work",
]
WATERING_HABITS = [
    "once a week",
    "every ten days or so",
    "when the top few centimetres feel dry",
    "whenever I remember",
    "from the bottom every Sunday",
    "a little every few days",
]
POTS_TEXT = [
    "is plastic with drainage holes",
    "is a glazed ceramic cachepot",
    "is terracotta",
    "has no drainage hole (I know...)",
    "is a self-watering pot",
    "is the nursery pot it came in",
]
SYMPTOMS = [
    "yellowing lower leaves",
    "brown, crispy leaf tips",
    "drooping stems",
    "black spots on the leaves",
    "sticky residue on the leaves",
    "pale new growth",
    "curling leaves",
    "soft, mushy stems",
]
PESTS = ["spider mites", "fungus gnats", "mealybugs", "scale insects", "thrips", "aphids", "whitefly", "vine weevil"]
DISEASES = ["powdery mildew", "root rot", "leaf spot", "grey mould", "rust"]
GARDEN_SPOTS = ["raised bed", "front border", "balcony planter", "vegetable patch", "shady corner", "gravel garden"]
FEATURES = [
    "leaves with silver spots",
    "small white flowers in clusters",
    "thick, waxy leaves",
    "purple undersides",
    "leaves that fold up at night",
    "long trailing stems",
    "heart-shaped leaves",
    "a spiky rosette of leaves",
    "star-shaped blue flowers",
    "a lemony smell when the leaves are crushed",
]
FOUND_PLACES = [
    "on a walk by the canal",
    "in my new garden",
    "at a plant swap",
    "in a friend's conservatory",
    "growing through the fence",
    "on the windowsill of my new flat",
    "in a hotel lobby",
    "at the allotments",
]
TRIED: dict[str, list[str]] = {
    "houseplants": [
        "moved it away from the radiator",
        "let the top 3 cm of soil dry out between waterings",
        "checked the roots (white and firm, no smell)",
        "added a pebble tray for humidity",
        "stopped feeding for the winter",
        "switched to rainwater",
        "given it a quarter turn every week",
    ],
    "garden-outdoors": [
        "fed it with tomato feed",
        "cleared the weeds around it",
        "watered it through the dry spell",
        "cut back the tree that shades it",
        "added compost in spring",
    ],
    "pests-diseases": [
        "sprayed it with insecticidal soap",
        "put yellow sticky traps in the pot",
        "wiped the leaves with a damp cloth",
        "cut off the worst leaves",
        "moved it away from my other plants",
        "let the soil dry out more between waterings",
    ],
    "propagation": [
        "kept them in water on a bright windowsill",
        "changed the water every few days",
        "used rooting powder",
        "covered them with a clear bag for humidity",
        "put them on a heat mat",
    ],
}
OPEN_QUESTIONS = [
    "Any ideas?",
    "What would you do?",
    "Should I be worried?",
    "Thanks in advance!",
    "Grateful for any tips.",
]


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
            (
                "I've had my {plant} for about {n} months and lately it has {symptom}.",
                "My {plant} was doing great until a few weeks ago; now it has {symptom}.",
            ),
            ("water", "roots", "general"),
            situation=True,
            tried=True,
            reference=True,
        ),
        _Theme(
            ("How often do you water your {plant} in winter?", "Watering a {plant} with the heating on"),
            (
                "The heating is on and my {plant} dries out much faster than in summer. It sits {spot} and right now "
                "I water it {habit}.",
            ),
            ("water",),
            closing=("How often do you water yours?", "What's your routine?"),
        ),
        _Theme(
            ("Is {spot} enough light for {a_plant}?",),
            (
                "Moving flats, and the only free spot for my {plant} is {spot}. The [care sheet]({url}) says it wants "
                "**{light}**.",
            ),
            ("light",),
            closing=("Will it cope, or should I buy a grow light?", "Any experience with a spot like that?"),
        ),
        _Theme(
            ("My {plant} is getting leggy", "Long, bare stems on my {plant}"),
            ("The stems on my {plant} are getting long and the leaves are far apart. It sits {spot}.",),
            ("light", "general"),
            closing=("Should I prune it back or move it?", "Can I fix this or is it too late?"),
        ),
        _Theme(
            ("{Plant} dropping leaves after repotting", "Repotted my {plant}, now it's sulking"),
            (
                "I repotted my {plant} {n} days ago into a bigger pot with fresh mix, and since then it has dropped "
                "a few leaves.",
            ),
            ("roots", "general"),
            situation=True,
        ),
        _Theme(
            ("Safe to keep {a_plant} with cats?", "{Plant} and pets: toxic?"),
            ("Our new kitten chews everything green. Is it safe to keep {a_plant} in the living room?",),
            ("pets",),
            reference=True,
            closing=("Thanks!", "Better safe than sorry..."),
        ),
    ],
    "garden-outdoors": [
        _Theme(
            ("When should I prune my {plant}?", "Pruning a {plant}: now or in spring?"),
            (
                "We inherited {a_plant} with the house and it has got rather big.",
                "My {plant} in the {garden_spot} is {n} years old now and needs a trim.",
            ),
            ("prune",),
        ),
        _Theme(
            ("{Plant} not flowering this year", "Lots of leaves, no flowers on my {plant}"),
            ("Last year my {plant} in the {garden_spot} was covered in flowers; this year almost nothing.",),
            ("flowers",),
            tried=True,
        ),
        _Theme(
            ("Protecting {plant} from frost", "Will my {plant} survive the winter outside?"),
            (
                "Frost is forecast for next week and my {plant} is in the {garden_spot}. The [care sheet]({url}) "
                "gives hardiness zones {zones}.",
            ),
            ("frost",),
            closing=("Fleece, mulch, or bring it in?", "What do you do with yours?"),
        ),
        _Theme(
            ("First year growing {plant}: what am I in for?",),
            ("This is my first proper season with {a_plant}; it's going in the {garden_spot}.",),
            ("garden", "water"),
            reference=True,
            closing=("Any beginner tips?", "What do you wish you had known?"),
        ),
        _Theme(
            ("{Plant} in a pot on a windy balcony",),
            ("I only have a small, windy balcony and I'd love to grow {a_plant} in a big pot.",),
            ("garden", "frost", "water"),
            closing=("Will it cope?", "Which pot size would you use?"),
        ),
    ],
    "plant-identification": [
        _Theme(
            ("What is this plant? Found it {found}",),
            ("Found this {found}: about {cm} cm tall, with {feature}.",),
            ("id",),
            closing=ID_CLOSINGS,
        ),
        _Theme(
            ("Help identifying a plant with {feature}",),
            (
                "No label, and the shop had no idea. It has {feature}.",
                "My neighbour gave me a cutting; she doesn't know the name either. It has {feature}.",
            ),
            ("id",),
            closing=ID_CLOSINGS,
        ),
        _Theme(
            ("Mystery plant in my {garden_spot}",),
            ("This came up on its own in my {garden_spot}: about {cm} cm tall, with {feature}.",),
            ("id",),
            closing=ID_CLOSINGS,
            category=PlantSpecies.Category.GARDEN,
        ),
        _Theme(
            ("Inherited a plant, no label: ideas?",),
            ("Inherited this from my grandmother and nobody knows what it is. It has {feature}.",),
            ("id",),
            closing=ID_CLOSINGS,
            category=PlantSpecies.Category.HOUSEPLANT,
        ),
    ],
    "pests-diseases": [
        _Theme(
            (
                "{Pest} on my {plant}: help!",
                "How do you get rid of {pest} for good?",
                "Tiny bugs on the {plant}: {pest}?",
            ),
            (
                "I think my {plant} has {pest}: I keep finding them on the new growth.",
                "Third time this year I'm fighting {pest}, this time on the {plant}.",
            ),
            ("pests",),
            situation=True,
            tried=True,
            category=PlantSpecies.Category.HOUSEPLANT,
        ),
        _Theme(
            ("Is this {disease} on my {plant}?", "{Plant} with spots: {disease}?"),
            ("Noticed {symptom} on my {plant} this week and I'm worried it's {disease}.",),
            ("disease",),
            situation=True,
            tried=True,
            reference=True,
            category=PlantSpecies.Category.HOUSEPLANT,
        ),
    ],
    "propagation": [
        _Theme(
            (
                "Propagating {plant}: water or soil?",
                "My {plant} cuttings won't root",
                "Rooting hormone: worth it for {plant}?",
            ),
            (
                "I took {n} cuttings from my {plant} a few weeks ago and nothing has happened yet.",
                "Trying to propagate a {plant} for the first time.",
            ),
            ("propagation",),
            tried=True,
        ),
        _Theme(
            ("When to divide {a_plant}?", "Splitting a huge {plant}"),
            ("My {plant} has filled its pot and I'd love to share it with friends.",),
            ("propagation", "roots"),
        ),
        _Theme(
            ("Cutting swap: {plant} for anything variegated",),
            (
                "I have rooted {plant} cuttings to spare. Happy to swap for anything variegated, or just give "
                "them away.",
            ),
            ("swap",),
            closing=("Reply here if you're interested!",),
        ),
    ],
    "show-and-tell": [
        _Theme(
            ("{Plant} looking its best this week", "Proud of my {plant}", "New shelf, new {plant}"),
            ("Had to share: my {plant} is looking better than ever.", "Proud moment this week with the {plant}."),
            ("praise",),
            closing=("",),
        ),
        _Theme(
            ("Rescued {a_plant} from the clearance shelf", "Before and after: {n} months with my {plant}"),
            ("{n} months ago this {plant} was a sad clearance-shelf rescue. Look at it now!",),
            ("praise",),
            closing=("",),
        ),
        _Theme(
            ("Windowsill jungle update, month {n}",),
            ("Month {n} of the windowsill jungle. The {plant} is the star this time.",),
            ("praise",),
            closing=("",),
            category=PlantSpecies.Category.HOUSEPLANT,
        ),
    ],
}

# The moderator's pinned topics: house rules and how-tos that members greet rather than answer.
PINNED_THEME = _Theme(subjects=(), intros=(), advice=("welcome",), closing=("",))

REPLY_OPENERS = [
    "Had exactly the same thing last spring.",
    "Good question, this comes up a lot.",
    "+1 to what others said.",
    "I've grown these for years.",
    "Not an expert, but:",
    "",
    "",
    "",
]
ADVICE: dict[str, list[str]] = {
    "water": [
        "**Water less, but deeper.** Soak it, let it drain completely, then wait until the top few "
        "centimetres are dry.",
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
        "Looks like a **{guess}** (*{guess_scientific}*) to me. Compare it with the [catalog "
        "page](/plants/species/{guess_slug}/).",
        "I'd say **{guess}**. The leaves are a giveaway; check the [catalog page](/plants/species/{guess_slug}/).",
        "Agree, that's a **{guess}** (*{guess_scientific}*).",
    ],
    "swap": [
        "I'd love one! I have a spare spider plant baby to send back.",
        "Interested! Could swap for a variegated pothos cutting.",
        "Still available? I'll send you a message.",
    ],
    "welcome": [
        "Thanks for setting this up!",
        "Great guidelines. Happy to be here.",
        "Bookmarked. Thank you!",
        "Hi all! Mostly houseplants here, slowly taking over the flat.",
        "Hello from a balcony gardener!",
        "Very helpful, thanks. The leaf close-up tip made all the difference for me.",
    ],
    "praise": [
        "Gorgeous! What's your secret?",
        "That's stunning. How long did it take?",
        "Jealous! Mine never looks like that.",
        "What a transformation. Well done!",
        "Love it. Where did you get the pot?",
        "Look at those leaves!",
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
        "wipe both sides of the leaves with soapy water",
        "repeat after a week to catch the next generation",
        "check the plants next to it",
        "keep it away from the others for a month",
    ],
    "water": [
        "check the drainage holes are not blocked",
        "cut back on water until it recovers",
        "empty the saucer after watering",
        "use a chunkier, faster-draining mix",
    ],
    "light": [
        "move it somewhere with bright, indirect light",
        "turn it a quarter every week",
        "prune the longest stems",
    ],
}
REPLY_SIGNOFFS = ["Good luck!", "Keep us posted.", "Hope that helps.", "Post an update in a couple of weeks!", "", ""]
AUTHOR_FOLLOW_UPS = [
    "Thanks everyone! I'll try that and report back.",
    "Thank you, that makes sense. Much appreciated.",
    "Update: it's looking better already. Really appreciate the help.",
    "Good to know, thanks! I had no idea.",
]
AUTHOR_REPLIES: dict[str, list[str]] = {
    "praise": ["Thank you! Mostly patience, honestly.", "Thanks! It took about a year.", "Ha, thank you!"],
    "welcome": ["Welcome, everyone! Glad to have you here.", "Thanks all. Shout if anything is unclear."],
    "swap": ["Two left! Send me a message.", "All gone now, thanks everyone!"],
}

NICKNAMES = [
    "Kevin",
    "Big Green",
    "Spike",
    "Fernando",
    "Sir Droops-a-lot",
    "Leafy",
    "Monty",
    "Gertrude",
    "The survivor",
    "Sprout",
    "Grandma's {name}",
    "Kitchen {name}",
    "Office {name}",
    "Balcony {name}",
    "Bathroom {name}",
    "",
]
CARE_NOTES: dict[str, list[str]] = {
    CareCardStatus.PLANNING: [
        "Want one for the {spot_short}. Check it is pet safe first.",
        "On the wish list for spring.",
    ],
    CareCardStatus.NEWLY_ACQUIRED: [
        "Bought {days} days ago. Leaving it in the nursery pot for now.",
        "Gift from a friend; quarantined for two weeks.",
    ],
    CareCardStatus.THRIVING: [
        "Loves the {spot_short}. Water every {interval} days, feed monthly in summer.",
        "New leaf every couple of weeks!",
    ],
    CareCardStatus.STRUGGLING: [
        "Lower leaves yellowing since I moved it. Checking the roots this weekend.",
        "Possible {pest}; treated once.",
    ],
    CareCardStatus.RECOVERED: [
        "Back from root rot: repotted into gritty mix, watering much less.",
        "Pests gone after three rounds of soap spray.",
    ],
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
    (51.5074, -0.1278),
    (52.5200, 13.4050),
    (48.8566, 2.3522),
    (40.7128, -74.0060),
    (45.5017, -73.5673),
    (-33.8688, 151.2093),
    (52.3676, 4.9041),
    (59.3293, 18.0686),
    (53.3498, -6.2603),
    (47.3769, 8.5417),
]


# First words of common names that stay capitalized in the middle of a sentence.
PROPER_FIRST_WORDS = {
    "African",
    "August",
    "Boston",
    "Burro's",
    "Busy",
    "Chinese",
    "Easter",
    "English",
    "Flaming",
    "Japanese",
    "Mexican",
    "Swiss",
    "Thanksgiving",
}


def _mid_sentence(name: str) -> str:
    """``"Peace lily"`` -> ``"peace lily"``, but ``"Swiss cheese plant"`` and ``"ZZ plant"`` stay."""
    first = name.split(" ", 1)[0]
    if first in PROPER_FIRST_WORDS or (len(first) > 1 and first.isupper()):
        return name
    return name[:1].lower() + name[1:]
