"""What the benchmark program is made of: names, places, challenge ideas and the rewards
catalog. Plain data for benchmarks/bench_data.py; nothing here touches a database."""

from __future__ import annotations

from points.models import RewardKind
from portal.accounts.models import GiftPolicy, JobLevel

DOMAIN = "bench.example"


def words(text: str) -> list[str]:
    return text.split()


# (email, role, name): the logins the benchmark runner relies on come first
STAFF = [
    (f"bench-admin@{DOMAIN}", "admin", "Bench Admin"),
    (f"bench-manager@{DOMAIN}", "manager", "Bench Manager"),
    (f"priya.shah@{DOMAIN}", "admin", "Priya Shah"),
    (f"maya.patel@{DOMAIN}", "manager", "Maya Patel"),
    (f"tom.becker@{DOMAIN}", "manager", "Tom Becker"),
    (f"lena.kovacs@{DOMAIN}", "manager", "Lena Kovacs"),
    (f"sam.okoro@{DOMAIN}", "manager", "Sam Okoro"),
    (f"ines.duarte@{DOMAIN}", "manager", "Ines Duarte"),
]

FIRST_NAMES = words(
    "Ana Ben Carla David Elena Farid Grace Hiro Ines Jonas Keiko Liam Maria Noah Olga Pedro "
    "Quinn Rosa Sofia Tariq Uma Victor Wei Xena Yusuf Zoe Amara Bruno Chloe Diego Emma Felix "
    "Giulia Hana Ivan Julia Kai Lucia Mateo Nadia Omar Priya Rafael Sara Tomas Valentina"
)
LAST_NAMES = words(
    "Ruiz Okafor Meyer Chen Novak Haddad Kim Tanaka Silva Berg Sato Murphy Garcia Cohen Ivanova "
    "Costa Walsh Lopez Rossi Khan Patel Dubois Wang Petrov Yilmaz Schmidt Nguyen Santos Moreau "
    "Hughes Larsen Kowalski Fischer Jensen Morales Ahmed Brown Singh Muller Popescu"
)

COMPANY_WORDS = words(
    "Northwind Globex Initech Umbrella Acme Hooli Vandelay Soylent Cyberdyne Tyrell Wonka "
    "Oscorp Stark Wayne Aperture Gringotts Monarch Nakatomi Sirius Virtucon Blue Sun Lumen "
    "Helix Orbit Summit Harbor Cedar Granite Polar Meridian Crescent Beacon"
)
COMPANY_KINDS = words(
    "Health Bank Logistics Energy Retail Systems Labs Foods Insurance Federal Media Telecom "
    "Pharma Capital Robotics Analytics Airlines Motors Hotels Education"
)

INDUSTRIES = [
    "Healthcare",
    "Financial services",
    "Software",
    "Manufacturing",
    "Retail",
    "Education",
    "Government",
    "Telecommunications",
    "Energy",
    "Media",
]
# (segment, share of accounts, relative number of advocates, ARR range in dollars)
SEGMENTS = [
    ("Enterprise", 0.2, 4.0, (250_000, 3_000_000)),
    ("Mid-market", 0.35, 2.0, (50_000, 400_000)),
    ("SMB", 0.45, 1.0, (5_000, 60_000)),
]
REGIONS = [("North America", 0.45), ("EMEA", 0.3), ("APAC", 0.15), ("LATAM", 0.1)]
GIFT_POLICIES = [
    (GiftPolicy.ALLOWED, 0.7),
    (GiftPolicy.NEEDS_APPROVAL, 0.12),
    (GiftPolicy.NO_GIFTS, 0.1),
    (GiftPolicy.CHARITY_ONLY, 0.08),
]
POLICY_REASONS = {
    GiftPolicy.NEEDS_APPROVAL: "Their procurement team reviews every gift over a few dollars.",
    GiftPolicy.NO_GIFTS: "Public-sector ethics rules: employees may not accept gifts.",
    GiftPolicy.CHARITY_ONLY: "Their compliance team allows donations made in the advocate's name.",
}

# (job level, share of advocates, titles)
JOB_LEVELS = [
    (JobLevel.C_LEVEL, 0.05, ("Chief Technology Officer", "Chief Information Officer", "COO")),
    (JobLevel.VP, 0.1, ("VP of Engineering", "VP Customer Success", "VP Operations")),
    (JobLevel.DIRECTOR, 0.2, ("Director of IT", "Director of Support", "Director of Analytics")),
    (JobLevel.MANAGER, 0.3, ("Engineering Manager", "Support Manager", "Operations Manager")),
    (JobLevel.INDIVIDUAL, 0.3, ("Data Analyst", "Software Engineer", "Support Specialist")),
    (None, 0.05, ("",)),
]
TITLES = {level: titles for level, _share, titles in JOB_LEVELS if level}

# groups a challenge can target: (name, description, rules)
GROUPS = [
    ("Enterprise accounts", "Every advocate at an enterprise customer.", {"segment": "Enterprise"}),
    (
        "EMEA advocates",
        "Advocates at customers in Europe, the Middle East and Africa.",
        {"region": "EMEA"},
    ),  # noqa: E501
    ("APAC advocates", "Advocates at customers in Asia-Pacific.", {"region": "APAC"}),
    ("Executives", "C-level advocates.", {"job_level": "c_level"}),
    ("Healthcare", "Advocates at healthcare customers.", {"industry": "Healthcare"}),
]

TOPICS = [
    "the 2026 benchmark report",
    "reporting in Vouch 4.0",
    "workflow automation",
    "the new mobile app",
    "security and compliance",
    "AI assistants",
    "the product roadmap",
    "data exports",
    "integrations",
    "onboarding a new team",
]

# challenge type: (share of challenges, popularity per challenge)
CHALLENGE_MIX = {
    "content": (0.18, 3.0),
    "survey": (0.18, 3.0),
    "social_share": (0.14, 2.0),
    "review": (0.12, 1.2),
    "webinar": (0.12, 1.0),
    "referral": (0.08, 0.25),
    "reference_call": (0.06, 0.3),
    "case_study": (0.06, 0.2),
    "video": (0.06, 0.2),
}
SURVEY_CHOICES = "Customer support\nSales\nMarketing\nOperations\nEngineering"
REJECTION_REASONS = [
    "The link doesn't open a published review yet: send it again once it is live.",
    "The post is private, so we can't see it. Make it public and try again.",
    "This referral works at your own company: please refer someone elsewhere.",
    "We couldn't find the incentive disclosure in the review.",
    "The attendance list doesn't show you at this session.",
]
AVAILABILITY = [
    "Tuesdays and Thursdays after 14:00 CET",
    "Any morning next week",
    "Fridays, 9:00 to 12:00 Eastern",
    "Most afternoons; please give me two days' notice",
]
THANKS_NOTES = ["Thanked on our QBR call", "Handwritten card", "Mentioned at the user group"]

ADJUSTMENT_CARRIED_OVER = "Points carried over from the previous program"
ADJUSTMENT_CREDITS = [
    "Customer advisory board session",
    "Conference booth visit",
    "Beta feedback call",
    "Community forum answers",
    "Goodwill credit: delayed gift card",
    "Points carried over from the previous program",
]
ADJUSTMENT_DEBITS = ["Correction: points awarded twice", "Correction: wrong challenge credited"]
REDEMPTION_REJECTIONS = [
    "We can't ship to this address.",
    "Not available in your country, sorry.",
    "Duplicate request.",
]
REFUND_REASONS = ["The gift code never arrived.", "Parcel lost in transit.", "Event cancelled."]


def _reward(name, kind, cost, money, currency="USD", **extra) -> dict:
    return dict(name=name, kind=kind, cost=cost, money_value=money, currency=currency, **extra)


# the catalog: about a dozen of every kind; `stock` is a share of the expected demand
# (below 1: it ran out), `limit` is (count, period)
REWARDS = [
    *(
        _reward(
            f"{brand} gift card, {symbol}{value}",
            RewardKind.GIFT_CARD,
            value * 10,
            value * 100,
            currency,
            regions=regions,
        )
        for brand, value, symbol, currency, regions in [
            ("Amazon.com", 25, "$", "USD", "North America"),
            ("Amazon.com", 50, "$", "USD", "North America"),
            ("Starbucks", 10, "$", "USD", ""),
            ("Visa prepaid", 100, "$", "USD", ""),
            ("Apple", 25, "$", "USD", ""),
            ("Uber Eats", 20, "$", "USD", ""),
            ("DoorDash", 30, "$", "USD", "North America"),
            ("Target", 25, "$", "USD", "North America"),
            ("IKEA", 50, "€", "EUR", "EMEA"),
            ("Zalando", 40, "€", "EUR", "EMEA"),
            ("Airbnb", 75, "$", "USD", ""),
            ("Mercado Libre", 20, "$", "USD", "LATAM"),
        ]
    ),
    *(
        _reward(name, RewardKind.SWAG, cost, cost * 10, stock=stock, limit=limit)
        for name, cost, stock, limit in [
            ("Vouch hoodie", 400, 0.6, (1, "year")),
            ("Insulated water bottle", 200, 2.0, None),
            ("Laptop sticker pack", 50, None, None),
            ("Commuter backpack", 900, 0.4, (1, "year")),
            ("Advocate T-shirt", 250, 3.0, (2, "year")),
            ("Cosy socks", 100, None, None),
            ("Notebook set", 150, 5.0, None),
            ("Coffee mug", 120, None, None),
            ("Beanie", 180, 1.5, None),
            ("Golf umbrella", 350, 0.8, None),
            ("Wireless charger", 600, 0.5, (1, "quarter")),
            ("Desk plant", 220, 2.0, None),
        ]
    ),
    *(
        _reward(
            f"Donate {symbol}{value} to {charity}",
            RewardKind.CHARITY,
            value * 10,
            value * 100,
            currency,
            charity_name=charity,
        )
        for charity, value, symbol, currency in [
            ("Doctors Without Borders", 25, "$", "USD"),
            ("Code Club", 10, "€", "EUR"),
            ("the Red Cross", 50, "$", "USD"),
            ("WWF", 25, "€", "EUR"),
            ("UNICEF", 20, "$", "USD"),
            ("Khan Academy", 15, "$", "USD"),
            ("Girls Who Code", 30, "$", "USD"),
            ("charity: water", 40, "$", "USD"),
            ("Oxfam", 25, "£", "GBP"),
            ("Save the Children", 50, "$", "USD"),
            ("the Wikimedia Foundation", 10, "$", "USD"),
            ("Room to Read", 20, "$", "USD"),
        ]
    ),
    *(
        _reward(name, RewardKind.EXPERIENCE, cost, cost * 8, stock=stock, regions=regions)
        for name, cost, stock, regions in [
            ("Dinner with our CEO at Vouch Summit", 2000, 0.3, "North America"),
            ("Vouch Summit ticket", 1500, 1.0, ""),
            ("A day with our product team", 1200, 0.5, ""),
            ("Masterclass subscription", 1800, None, ""),
            ("Cooking class for two", 1600, 2.0, "EMEA"),
            ("Wine tasting evening", 1400, 1.0, "EMEA"),
            ("Spa day", 2500, 1.0, ""),
            ("Concert tickets", 1300, 0.7, "North America"),
            ("Sailing afternoon", 3000, 0.5, "APAC"),
            ("Hot-air balloon ride", 4000, 0.3, ""),
            ("Museum membership", 900, None, ""),
            ("Rooftop team dinner", 3500, 0.4, "LATAM"),
        ]
    ),
    *(
        _reward(name, RewardKind.RECOGNITION, cost, 0)
        for name, cost in [
            ("Featured in our customer newsletter", 150),
            ("Advocate of the month", 300),
            ("A LinkedIn shout-out from our CEO", 100),
            ("Speaker badge at Vouch Summit", 500),
            ("Hall of fame plaque", 800),
            ("Blog spotlight", 250),
            ("Byline on a case study", 400),
            ("Community MVP badge", 120),
            ("Certificate of thanks", 60),
            ("Guest on our podcast", 700),
            ("Your photo on the customer wall", 200),
            ("Beta tester credit in the release notes", 80),
        ]
    ),
]
REWARD_DESCRIPTIONS = {
    RewardKind.GIFT_CARD: "Delivered by email as a code within two working days.",
    RewardKind.SWAG: "Shipped to the address you give; tell us your size.",
    RewardKind.CHARITY: "We donate in your name and send you the receipt.",
    RewardKind.EXPERIENCE: "We book it with you; dates are agreed by email.",
    RewardKind.RECOGNITION: "Public thanks, approved by you before anything is published.",
}
STREETS = ["Harbor Street", "Elm Avenue", "Rue de la Paix", "Kingsway", "Calle Mayor", "Ringweg"]
