"""The last step before any channel sends a reply: markup stripped, then the allow-list gate.

Every send path (the workflow, the dashboard's approved or edited reply, the email channel, the helpdesk)
sends only `checked_text(text, context)`: the text as plain words (tags removed, the content of scripts
and styles dropped, entities decoded, so nothing a customer or a model typed as markup is echoed), and
only if `verify_outgoing` finds no reason to refuse it; otherwise `ReplyBlocked` carries the reasons.
"""

from dropship_pipelines.rules.reply_context import ReplyContext
from dropship_pipelines.rules.reply_validation import verify_outgoing
from dropship_pipelines.rules.visible_text import VisibleText


class ReplyBlocked(Exception):
    """The gate refused the text: `reasons` say why (shown to the operator, kept in the ledger)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


# Elements whose content a reader never sees: dropped, so nothing hidden in markup is sent.
HIDDEN = frozenset({"script", "style", "head", "title", "template", "iframe", "object"})


def plain_text(text: str) -> str:
    """The visible words of `text`: tags and comments removed, hidden elements dropped, entities decoded;
    a decoded entity that spells a tag is removed too (the parse repeats until nothing changes)."""
    current = text
    for _ in range(3):
        parser = VisibleText(HIDDEN)
        parser.feed(current)
        parser.close()
        visible = parser.text()
        if visible == current:
            break
        current = visible
    return current.strip()


def checked_text(text: str, context: ReplyContext) -> str:
    """The text a channel may send (plain, gated), or ReplyBlocked with the gate's reasons."""
    clean = plain_text(text)
    reasons = verify_outgoing(clean, context)
    if reasons:
        raise ReplyBlocked(reasons)
    return clean
