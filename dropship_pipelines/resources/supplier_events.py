"""What the catalog sync needs from a supplier beyond `resources/supplier.py`: its stock per variant and its
change messages (webhooks), in supplier-neutral terms. CJ's implementation: `resources/cj/` (`client.py`
for the stock, `webhooks.py` for the messages)."""

from dataclasses import dataclass, field
from typing import Protocol


class MessageError(ValueError):
    """A supplier message that cannot be read; the reason says what is wrong with it."""


@dataclass(frozen=True)
class SupplierMessage:
    """One change message of the supplier: a product changed (`product`), or variants' stock (`stock`)."""

    message_id: str
    kind: str  # product | stock | variant
    action: str | None = None  # INSERT | UPDATE | DELETE, when the supplier says
    pid: str | None = None  # the product a product message is about
    vid: str | None = None  # the variant a variant message is about
    stock: dict[str, int] = field(default_factory=dict)  # vid -> units (stock messages)
    fields: tuple[str, ...] = ()  # what changed, as the supplier names it


class SupplierStock(Protocol):
    def product_stock(self, pid: str) -> dict[str, int]:
        """Units of each variant of the product (vid -> units) across the supplier's warehouses."""
        ...
