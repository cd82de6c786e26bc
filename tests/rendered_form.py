"""What a browser submits from a rendered HTML form, for tests that act like people.

A test that posts data it wrote itself proves only that the view accepts that data;
posting what the page rendered proves the page and the form agree (the tags box that
showed a Python repr was caught this way). The rules follow the HTML standard's form
submission: successful controls only (no disabled ones, checked boxes and radios only,
a select's selected options, or its first option when none is selected), a textarea
without the newline that follows its start tag, nothing inside a <template>.
"""

from html.parser import HTMLParser

SKIPPED_INPUTS = {"submit", "button", "image", "reset", "file"}


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._form = None
        self._select = None
        self._option = None
        self._textarea = None
        self._template_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = {name: ("" if value is None else value) for name, value in attrs}
        if tag == "template":
            self._template_depth += 1
        if self._template_depth:
            return
        if tag == "form":
            self._form = {"attrs": attrs, "fields": []}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attrs.get("name")
        disabled = "disabled" in attrs
        if tag == "input" and name and not disabled:
            kind = attrs.get("type", "text").lower()
            if kind in SKIPPED_INPUTS:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._form["fields"].append((name, attrs.get("value", "on")))
                return
            self._form["fields"].append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select = {
                "name": name,
                "multiple": "multiple" in attrs,
                "disabled": disabled,
                "options": [],
            }
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": attrs.get("value"),
                "text": [],
                "selected": "selected" in attrs,
                "disabled": disabled,
            }
            self._select["options"].append(self._option)
        elif tag == "textarea" and name and not disabled:
            self._textarea = {"name": name, "text": []}

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"].append(data)
        elif self._option is not None:
            self._option["text"].append(data)

    def handle_endtag(self, tag):
        if tag == "template" and self._template_depth:
            self._template_depth -= 1
            return
        if self._template_depth:
            return
        if tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            select, self._select, self._option = self._select, None, None
            if not select["disabled"]:
                self._form["fields"].extend((select["name"], value) for value in _chosen(select))
        elif tag == "textarea" and self._textarea is not None:
            textarea, self._textarea = self._textarea, None
            text = "".join(textarea["text"])
            self._form["fields"].append((textarea["name"], text.removeprefix("\n")))
        elif tag == "form":
            self._form = None


def _chosen(select):
    def value(option):
        if option["value"] is not None:
            return option["value"]
        return " ".join("".join(option["text"]).split())

    options = [option for option in select["options"] if not option["disabled"]]
    selected = [option for option in options if option["selected"]]
    if select["multiple"]:
        return [value(option) for option in selected]
    if selected:
        return [value(selected[-1])]
    return [value(options[0])] if options else []


def rendered_form(html, *, form_id):
    """The (name, value) pairs the form with this id submits as the page stands."""
    parser = _Parser()
    parser.feed(html)
    for form in parser.forms:
        if form["attrs"].get("id") == form_id:
            return form["fields"]
    found = [form["attrs"].get("id") for form in parser.forms]
    raise AssertionError(f"no <form id={form_id!r}> on the page (forms: {found})")


def as_post_data(fields, *, button=None):
    """{name: [values]} for Django's test client, plus the submit button pressed."""
    data = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    if button:
        data[button] = [""]
    return data


def submit(client, url, values, *, form_id, files=None):
    """GET `url`, keep what its form `form_id` submits except `values`, and POST it.

    The test goes through the real form, inlines included, without knowing its every
    field: hidden fields, management forms, selected options and checked boxes keep the
    values the page gave them.
    """
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    data = as_post_data(rendered_form(page.content.decode(), form_id=form_id))
    data.update({name: v if isinstance(v, list) else [v] for name, v in values.items()})
    data.update(files or {})
    return client.post(url, data)
