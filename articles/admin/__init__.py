"""The editors' admin for articles, in modules along its seams.

article.py    the article list (filters, workflow actions from workflow.py) and form
editor.py     the form's live parts: checklist, lead image preview, autosave
revisions.py  an article's history, the diff of a save, restore
front_page.py the front-page screen
images.py     the image library and the body editor's picker
taxonomy.py   sections, authors, tags

Importing the package registers every admin (Django's autodiscover imports it).
"""

from articles.admin import article, front_page, images, revisions, taxonomy  # noqa: F401
