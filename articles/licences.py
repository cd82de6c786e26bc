"""Licences an image may carry, as schema.org and Google's licensable-image feature want them.

`Image.license` holds a URL: one of these known licences (the admin offers them by name)
or the URL of any other licence's terms. Free-text rights statements belong in
`Image.copyright_notice`.
"""

KNOWN_LICENCES = [
    ("https://creativecommons.org/licenses/by/4.0/", "Creative Commons Attribution 4.0 (CC BY)"),
    (
        "https://creativecommons.org/licenses/by-sa/4.0/",
        "Creative Commons Attribution-ShareAlike 4.0 (CC BY-SA)",
    ),
    (
        "https://creativecommons.org/licenses/by-nd/4.0/",
        "Creative Commons Attribution-NoDerivatives 4.0 (CC BY-ND)",
    ),
    (
        "https://creativecommons.org/licenses/by-nc/4.0/",
        "Creative Commons Attribution-NonCommercial 4.0 (CC BY-NC)",
    ),
    (
        "https://creativecommons.org/licenses/by-nc-sa/4.0/",
        "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 (CC BY-NC-SA)",
    ),
    (
        "https://creativecommons.org/licenses/by-nc-nd/4.0/",
        "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 (CC BY-NC-ND)",
    ),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0 (public domain dedication)"),
    ("https://creativecommons.org/publicdomain/mark/1.0/", "Public Domain Mark 1.0"),
    ("https://www.shutterstock.com/license", "Shutterstock standard licence"),
    ("https://www.gettyimages.com/eula", "Getty Images licence agreement"),
    ("https://unsplash.com/license", "Unsplash licence"),
]

LICENCE_NAMES = dict(KNOWN_LICENCES)


def licence_name(url):
    """The licence's name for a known URL, else the URL itself."""
    return LICENCE_NAMES.get(url, url)
