"""Find and fill the sign-in form of the authorize page the way a browser would (stdlib only)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin


class _Form:
    def __init__(self, attrs: dict[str, str | None]):
        self.method = (attrs.get("method") or "get").lower()
        self.action = attrs.get("action")
        self.fields: list[tuple[str, str]] = []
        self.names: set[str] = set()
        self._submit_taken = False

    def add_input(self, attrs: dict[str, str | None]) -> None:
        name = attrs.get("name")
        if not name:
            return
        self.names.add(name)
        kind = (attrs.get("type") or "text").lower()
        value = attrs.get("value") or ""
        if kind in ("checkbox", "radio") and "checked" not in attrs:
            return
        if kind in ("submit", "image", "button", "reset"):
            # A browser sends only the submitter that was clicked: take the first one.
            if kind != "submit" or self._submit_taken:
                return
            self._submit_taken = True
        self.fields.append((name, value))


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self._current: _Form | None = None

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): v for k, v in attrs}
        if tag == "form":
            self._current = _Form(a)
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None:
            self._current.add_input(a)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def sign_in_form(page_html: str, page_url: str, username: str, password: str) -> tuple[str, list[tuple[str, str]]]:
    """Returns (absolute action URL, form fields with username/password filled in).

    Raises AssertionError describing what is missing when the page has no usable POST form.
    """
    p = _FormParser()
    p.feed(page_html)
    p.close()
    candidates = [f for f in p.forms if f.method == "post" and {"username", "password"} <= f.names]
    if not candidates:
        found = [(f.method, f.action, sorted(f.names)) for f in p.forms]
        raise AssertionError(
            f"authorize page has no <form method=post> with inputs 'username' and 'password' (forms found: {found}); "
            f"page starts: {page_html[:300]!r}"
        )
    form = candidates[0]
    action = urljoin(page_url, form.action) if form.action else page_url
    fields = []
    for name, value in form.fields:
        if name == "username":
            value = username
        elif name == "password":
            value = password
        fields.append((name, value))
    return action, fields
