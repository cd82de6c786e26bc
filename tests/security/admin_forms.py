"""Fill in and submit an admin form the way a browser does.

The add page is fetched and parsed; every control keeps the value the page gives it
(hidden fields, inline management forms, selected options, checked boxes), then the
test's values replace some, and the whole form is posted. So the tests go through
the real admin form, inlines included, without knowing its every field.
"""

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"attrs": attrs, "fields": []}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self._form["fields"].append((name, attrs.get("value", default)))
        elif tag == "select" and name:
            self._select = {
                "name": name,
                "options": [],
                "selected": [],
                "multiple": "multiple" in attrs,
            }
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            self._select["options"].append(value)
            if "selected" in attrs:
                self._select["selected"].append(value)
        elif tag == "textarea" and name:
            self._textarea = {"name": name, "text": []}

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"].append(data)

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            select, self._select = self._select, None
            chosen = select["selected"] or ([] if select["multiple"] else select["options"][:1])
            self._form["fields"].extend((select["name"], value) for value in chosen)
        elif tag == "textarea" and self._textarea is not None:
            textarea, self._textarea = self._textarea, None
            text = "".join(textarea["text"])
            self._form["fields"].append((textarea["name"], text.removeprefix("\n")))
        elif tag == "form":
            self._form = None


def form_fields(html, *, form_id=None):
    """The (name, value) pairs the page's main POST form would submit as it stands."""
    parser = _FormParser()
    parser.feed(html)
    candidates = [
        form
        for form in parser.forms
        if (form["attrs"].get("method") or "").lower() == "post"
        and (form_id is None or form["attrs"].get("id") == form_id)
    ]
    # The admin's change form is the one with the most controls on the page.
    form = max(candidates, key=lambda form: len(form["fields"]))
    return form["fields"]


def submit(client, url, values, *, files=None, form_id=None):
    """GET `url`, keep the form's values except those in `values`, and POST it."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    data = {}
    for name, value in form_fields(page.content.decode(), form_id=form_id):
        if "__prefix__" in name or name == "csrfmiddlewaretoken":
            continue
        data.setdefault(name, []).append(value)
    for name, value in values.items():
        data[name] = value if isinstance(value, list) else [value]
    data.update(files or {})
    return client.post(url, data)
