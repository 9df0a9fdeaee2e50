"""The visible text of HTML: what a reader sees, with the content of hidden elements left out."""

from html.parser import HTMLParser


class VisibleText(HTMLParser):
    """Collects the text outside `hidden` elements (entities decoded); each tag in `breaks` starts and ends
    a line. Feed it, close it, then read `text()`."""

    def __init__(self, hidden: frozenset[str], breaks: frozenset[str] = frozenset()) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden_tags = hidden
        self.break_tags = breaks
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.hidden_tags:
            self.hidden += 1
        elif tag in self.break_tags:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.hidden_tags:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.break_tags:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def text(self) -> str:
        return "".join(self.parts)
