"""Read the forms of a rendered page: their actions and fields, and what a field shows back."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Input:
    """One named control of a form, as the page renders it."""

    tag: str  # input, textarea, select
    kind: str  # the input's type; "textarea"; "select" or "select-multiple"
    name: str
    value: str = ""  # the value shown (for a textarea: its text; for a select: the selected)
    options: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    checked: bool = False


@dataclass
class PageForm:
    """A ``<form>`` and its controls."""

    action: str
    method: str
    inputs: list[Input] = field(default_factory=list)

    def target(self, page_path: str) -> str:
        """The path the form posts to (its own page when the action is empty)."""
        return urlsplit(self.action).path or page_path

    def named(self, name: str) -> list[Input]:
        """Every control of this name."""
        return [i for i in self.inputs if i.name == name]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._text: Input | None = None  # the textarea being read
        self._select: Input | None = None
        self._option: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = PageForm(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is None or (not a.get("name") and tag in ("input", "textarea", "select")):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            self._form.inputs.append(
                Input("input", kind, a["name"], a.get("value", ""), checked="checked" in a)
            )
        elif tag == "textarea":
            self._text = Input("textarea", "textarea", a["name"])
            self._form.inputs.append(self._text)
        elif tag == "select":
            kind = "select-multiple" if "multiple" in a else "select"
            self._select = Input("select", kind, a["name"])
            self._form.inputs.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.value += data
        if self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._text is not None:
            # HTML drops one line break right after <textarea>; WTForms writes one there.
            text = self._text.value
            self._text.value = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
            self._text = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value = self._option["value"]
            value = self._option["text"] if value is None else value
            self._select.options.append(value)
            if self._option["selected"]:
                self._select.selected.append(value)
            self._option = None
        elif tag == "select" and self._select is not None:
            if self._select.selected:
                self._select.value = self._select.selected[0]
            self._select = None
        elif tag == "form":
            self._form = None


def forms(page: str) -> list[PageForm]:
    """The forms of an HTML page."""
    parser = _Parser()
    parser.feed(page)
    parser.close()
    return parser.forms


def form_posting_to(page: str, page_path: str, target: str) -> PageForm | None:
    """The page's POST form whose action is ``target``."""
    for form in forms(page):
        if form.method == "post" and form.target(page_path) == target:
            return form
    return None
