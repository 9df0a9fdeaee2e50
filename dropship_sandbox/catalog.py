"""The supplier's catalog: products in realistic categories, drawn from the world seed.

Most products are clean; a small, fixed share carries the defects real supplier feeds have (no variants,
no price, a weight that is not a number, a product taken off the shelves) so the pipelines meet them.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dropship_sandbox.world import DEFAULT_SIM_START, World


@dataclass(frozen=True)
class Category:
    name: str
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    cost_range: tuple[float, float]  # supplier price, USD
    weight_range: tuple[int, int]  # grams
    variant_axis: str  # Color | Size | Style
    variant_values: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "Home & Garden / Lighting / Night Lights",
        (
            "Sunset Lamp",
            "Moon Lamp",
            "Galaxy Projector",
            "LED Strip Light",
            "Crystal Table Lamp",
            "Motion Sensor Light",
        ),
        ("Aesthetic", "Rechargeable", "Smart", "Dimmable", "Minimalist"),
        (3.5, 28.0),
        (150, 1400),
        "Color",
        ("Black", "White", "Rose Gold", "Silver", "Blue"),
    ),
    Category(
        "Pet Supplies / Dog Supplies / Toys",
        (
            "Chew Toy",
            "Snuffle Mat",
            "Self-Cleaning Slicker Brush",
            "Automatic Ball Launcher",
            "Lick Mat",
            "Cooling Mat",
        ),
        ("Durable", "Interactive", "Washable", "Portable", "Non-Slip"),
        (1.8, 35.0),
        (80, 2500),
        "Size",
        ("S", "M", "L", "XL"),
    ),
    Category(
        "Beauty & Health / Skin Care Tools",
        (
            "Ice Roller",
            "Gua Sha Set",
            "Facial Steamer",
            "Blackhead Remover",
            "LED Face Mask",
            "Scalp Massager",
        ),
        ("Rose Quartz", "Electric", "Mini", "Professional", "Travel"),
        (1.2, 22.0),
        (50, 900),
        "Color",
        ("Pink", "Green", "White", "Purple"),
    ),
    Category(
        "Home & Garden / Kitchen / Gadgets",
        (
            "Vegetable Chopper",
            "Milk Frother",
            "Oil Sprayer",
            "Magnetic Knife Strip",
            "Electric Salt Grinder",
            "Silicone Stretch Lids",
        ),
        ("Multi-Function", "Stainless Steel", "Rechargeable", "Compact", "Eco-Friendly"),
        (1.5, 19.0),
        (60, 1800),
        "Style",
        ("Standard", "Deluxe", "Set of 2"),
    ),
    Category(
        "Consumer Electronics / Phone Accessories",
        (
            "Magnetic Phone Mount",
            "Wireless Charger",
            "Ring Light",
            "Phone Tripod",
            "Power Bank",
            "Bluetooth Tracker",
        ),
        ("Fast-Charging", "Foldable", "360°", "Ultra-Slim", "Waterproof"),
        (2.2, 26.0),
        (40, 600),
        "Color",
        ("Black", "White", "Green", "Blue"),
    ),
    Category(
        "Sports & Outdoors / Fitness",
        ("Resistance Bands Set", "Posture Corrector", "Massage Gun", "Ab Roller", "Jump Rope", "Yoga Wheel"),
        ("Adjustable", "Heavy-Duty", "Smart", "Portable", "Anti-Slip"),
        (2.0, 32.0),
        (100, 2200),
        "Size",
        ("S", "M", "L"),
    ),
    Category(
        "Women's Clothing / Accessories / Jewelry",
        ("Layered Necklace", "Hair Claw Clip Set", "Birthstone Ring", "Pearl Earrings", "Silk Scrunchies"),
        ("Dainty", "Gold-Plated", "Vintage", "Hypoallergenic", "Handmade"),
        (0.8, 12.0),
        (10, 200),
        "Style",
        ("Gold", "Silver", "Rose Gold"),
    ),
    Category(
        "Toys & Hobbies / Educational",
        ("Magnetic Tiles", "Montessori Busy Board", "Fidget Cube", "Kids Walkie Talkies", "STEM Robot Kit"),
        ("Colorful", "Wooden", "Creative", "Rechargeable", "Safe"),
        (2.5, 30.0),
        (120, 2000),
        "Style",
        ("Standard", "Deluxe"),
    ),
    Category(
        "Car Accessories / Interior",
        ("Car Vacuum", "Seat Gap Filler", "Trunk Organizer", "Dashboard Phone Holder", "Car Air Freshener"),
        ("Cordless", "Leather", "Collapsible", "Universal", "Magnetic"),
        (1.5, 24.0),
        (80, 1600),
        "Color",
        ("Black", "Beige", "Gray"),
    ),
    Category(
        "Home & Garden / Home Storage",
        (
            "Under-Sink Organizer",
            "Vacuum Storage Bags",
            "Drawer Dividers",
            "Cable Management Box",
            "Over-Door Shoe Rack",
        ),
        ("Stackable", "Space-Saving", "Bamboo", "Adjustable", "Clear"),
        (1.6, 21.0),
        (150, 2400),
        "Style",
        ("Small", "Large"),
    ),
)

# Share of the catalog with the defects real feeds carry, by kind.
DEFECTS: tuple[tuple[str, float], ...] = (
    ("no_variants", 0.015),
    ("no_price", 0.015),
    ("bad_weight", 0.01),
    ("off_shelf", 0.01),
)
INITIAL_SHARE = 0.85  # the rest of the catalog appears over the first simulated weeks


def _sku_letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(n))


def generate_product(world: World, index: int) -> dict[str, Any]:
    """Product `index` of the catalog, in the supplier's own field names, plus hidden `_sim` traits."""
    rng = world.rng("catalog", index)
    category = CATEGORIES[rng.randrange(len(CATEGORIES))]
    noun = rng.choice(category.nouns)
    adjective = rng.choice(category.adjectives)
    pid = str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()
    sku = f"CJ{_sku_letters(rng, 4)}{rng.randrange(10000, 99999)}"
    base_cost = round(rng.uniform(*category.cost_range), 2)
    weight = rng.randint(*category.weight_range)
    values = list(category.variant_values)
    rng.shuffle(values)
    variant_values = values[: rng.randint(1, len(values))]
    variants = []
    for position, value in enumerate(variant_values):
        vrng = world.rng("variant", index, position)
        variants.append(
            {
                "vid": str(uuid.UUID(int=vrng.getrandbits(128), version=4)).upper(),
                "pid": pid,
                "variantName": None,
                "variantNameEn": f"{adjective} {noun} {value}",
                "variantSku": f"{sku}-{value.replace(' ', '')}",
                "variantImage": "",
                "variantKey": value,
                "variantStandard": "long=20,width=15,height=10",
                "variantWeight": float(weight + vrng.randint(0, 40)),
                "variantSellPrice": round(base_cost * vrng.uniform(0.95, 1.15), 2),
                "variantSugSellPrice": round(base_cost * 2.6, 2),
                "inventoryNum": vrng.randint(0, 5000),
            }
        )
    if index < INITIAL_SHARE * world.settings.catalog_size:
        created = DEFAULT_SIM_START - timedelta(days=rng.randint(1, 700))
    else:
        created = DEFAULT_SIM_START + timedelta(hours=rng.randint(1, 24 * 21))
    slow_warehouse = rng.random() < 0.25
    product: dict[str, Any] = {
        "pid": pid,
        "productName": f'["{noun}"]',
        "productNameEn": f"{adjective} {noun}",
        "productSku": sku,
        "productImage": f"/assets/products/{pid}/0.png",
        "productImageSet": [f"/assets/products/{pid}/{n}.png" for n in range(3)],
        "productWeight": float(weight),
        "productUnit": "unit(s)",
        "productType": "ORDINARY_PRODUCT",
        "categoryId": str(uuid.UUID(int=world.rng("category", category.name).getrandbits(128))).upper(),
        "categoryName": category.name,
        "productKeyEn": category.variant_axis,
        "sellPrice": min(v["variantSellPrice"] for v in variants) if variants else base_cost,
        "productSugSellPrice": round(base_cost * 2.6, 2),
        "listedNum": int(rng.paretovariate(1.2) * 40),
        "description": (
            f"<p>{adjective} {noun.lower()} for everyday use. Material: ABS and silicone. "
            f"Package: 1 x {noun}.</p>"
        ),
        "status": 1,
        "saleStatus": 3,
        "isFreeShipping": 0,
        "createTime": created.strftime("%Y-%m-%d %H:%M:%S"),
        "variants": variants,
        "_sim": {
            "index": index,
            "appeal": round(rng.betavariate(2, 5), 4),
            "ship_days": (9, 16) if slow_warehouse else (4, 9),
            "created": created.isoformat(),
        },
    }
    _apply_defect(product, world.rng("defect", index).random())
    return product


def _apply_defect(product: dict[str, Any], roll: float) -> None:
    for defect, share in DEFECTS:
        if roll < share:
            product["_sim"]["defect"] = defect
            if defect == "no_variants":
                product["variants"] = []
            elif defect == "no_price":
                product["sellPrice"] = None
                for variant in product["variants"]:
                    variant["variantSellPrice"] = None
            elif defect == "bad_weight":
                product["productWeight"] = "unknown"
            elif defect == "off_shelf":
                product["status"] = 0
                product["saleStatus"] = 0
            return
        roll -= share


def visible(product: dict[str, Any], now: datetime) -> bool:
    """A product is on the supplier's list once created and while on the shelves."""
    return datetime.fromisoformat(product["_sim"]["created"]) <= now and product.get("saleStatus") == 3


def ensure_catalog(world: World) -> None:
    """Write the catalog into the state file once; generating it is deterministic, so this is a cache."""
    with world.lock, world.state:
        if world.state.count("cj_product") >= world.settings.catalog_size:
            return
        for index in range(world.settings.catalog_size):
            product = generate_product(world, index)
            world.state.put("cj_product", product["pid"], product)
            for variant in product["variants"]:
                world.state.put("cj_variant", variant["vid"], {"pid": product["pid"], **variant})


# CJ's own image hosts (its CDN and the object store its examples link to). The sandbox serves the images
# under these names: the pipelines' HTTP client maps them to the sandbox (SANDBOX_HOST_MAP), so the
# image URLs and the allow-list the pipelines check them against are the live ones.
IMAGE_HOSTS = ("cf.cjdropshipping.com", "cc-west-usa.oss-us-west-1.aliyuncs.com")


def image_url(path: str, number: int = 0) -> str:
    return f"https://{IMAGE_HOSTS[number % len(IMAGE_HOSTS)]}{path}"


def public_view(product: dict[str, Any]) -> dict[str, Any]:
    """What the supplier's API shows: no hidden traits, absolute image URLs on CJ's image hosts."""
    shown = {k: v for k, v in product.items() if not k.startswith("_")}
    shown["productImage"] = image_url(product["productImage"])
    shown["productImageSet"] = [image_url(p, n) for n, p in enumerate(product["productImageSet"])]
    return shown
