"""The visible text of an HTML mail body (no HTML-to-text library is a dependency; the stdlib parser is)."""

import re

from dropship_pipelines.rules.visible_text import VisibleText

# Block elements become line breaks; the content of these is not shown to a reader.
BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
HIDDEN = frozenset({"script", "style", "head", "title"})


def html_to_text(html: str) -> str:
    parser = VisibleText(HIDDEN, breaks=BLOCKS)
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in parser.text().splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
