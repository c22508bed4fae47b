"""A page as a tree of elements (the standard library's HTMLParser; no HTML library is installed),
enough for the web tests to find a form's controls, a table's cells and what is said about them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset({"input", "br", "hr", "img", "meta", "link", "area", "base", "col", "source", "wbr"})


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.walk()
            if (tag is None or n.tag == tag) and all(n.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def one(self, tag: str | None = None, **attrs: str) -> Node:
        [found] = self.find_all(tag, **attrs)
        return found

    def all_text(self) -> str:
        return " ".join(part for n in self.walk() if (part := n.text.strip()))


class Tree(HTMLParser):
    """The page as a tree of elements, enough to find a form's controls and what is said about them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = Node("document", {})
        self._open = [self.root]
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v if v is not None else "" for k, v in attrs})
        self._open[-1].children.append(node)
        if tag not in VOID:
            self._open.append(node)

    def handle_endtag(self, tag: str) -> None:
        while len(self._open) > 1 and self._open.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        self._open[-1].text += data


def parsed(html: str) -> Node:
    return Tree(html).root
