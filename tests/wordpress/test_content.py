"""The body conversion rules, one at a time (no database)."""

import pytest

from wordpress.autop import wpautop
from wordpress.content import BodyConverter, Placed, split_credit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello\n\nWorld", "<p>Hello</p>\n<p>World</p>\n"),
        ("line1\nline2", "<p>line1<br />\nline2</p>\n"),
        ("<pre>a\n\nb</pre>\n\nafter", "<pre>a\n\nb</pre>\n<p>after</p>\n"),
        ("<blockquote>Quote</blockquote>", "<blockquote><p>Quote</p></blockquote>\n"),
        ("a<br><br>b", "<p>a</p>\n<p>b</p>\n"),
        ("<ul>\n<li>x</li>\n</ul>\n\nAfter", "<ul>\n<li>x</li>\n</ul>\n<p>After</p>\n"),
        ('<a href="x\ny">link</a> text', '<p><a href="x\ny">link</a> text</p>\n'),
        ("", ""),
    ],
)
def test_wpautop_matches_wordpress(text, expected):
    assert wpautop(text) == expected


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("Crowds in Minsk. Photo: Jane Doe/Reuters", ("Crowds in Minsk.", "Jane Doe/Reuters", "")),
        ("A sunset (Credit: AP)", ("A sunset", "AP", "")),
        ("The square at noon / AFP", ("The square at noon", "AFP", "")),
        (
            "Protesters. Vasily Fedosenko / Reuters",
            ("Protesters.", "Vasily Fedosenko / Reuters", ""),
        ),
        ("The president. (AP Photo/Evan Vucci)", ("The president.", "AP Photo/Evan Vucci", "")),
        ("A cat via Getty Images", ("A cat", "via Getty Images", "")),
        ("Floods — Jane Doe/AFP via Getty Images", ("Floods", "Jane Doe/AFP", "via Getty Images")),
        ("A fox, photo by John Smith", ("A fox", "John Smith", "")),
        ("Jane Doe/Reuters", ("", "Jane Doe/Reuters", "")),
        ("The 24/7 shop on the corner", ("The 24/7 shop on the corner", "", "")),
        ("Either / or", ("Either / or", "", "")),
        ("No credit here.", ("No credit here.", "", "")),
    ],
)
def test_a_trailing_credit_is_taken_out_of_the_caption(caption, expected):
    assert split_credit(caption) == expected


def convert(content, images=None):
    images = images or {}

    def find_image(wp_id, url):
        return images.get(str(wp_id)) or images.get(url)

    converter = BodyConverter(
        find_image=find_image, gallery_ids=lambda post_id: ["7"], site_hosts={"old.example"}
    )
    return converter.convert(content, post_id="1")


PHOTO = Placed(42, "Library alt", "/media/images/p.jpg")


def test_escaped_shortcode_is_shown_literally_and_not_counted():
    result = convert("Type [[gallery]] to make a gallery.")
    assert "Type [gallery] to make a gallery." in result.html
    assert result.unknown_shortcodes == {}


def test_unknown_wrapping_shortcode_is_kept_but_its_content_converted():
    result = convert(
        '[vc_row][caption id="attachment_7"]<img class="wp-image-7" src="x.jpg"> Hi. Photo: AP'
        "[/caption][/vc_row]",
        {"7": PHOTO},
    )
    assert result.unknown_shortcodes == {"vc_row": 1}
    assert '<figure data-image-id="42">' in result.html and "[vc_row]" in result.html
    assert result.credits == {42: ("AP", "")}


def test_gallery_without_ids_shows_the_posts_attachments():
    assert '<figure data-image-id="42">' in convert("[gallery]", {"7": PHOTO}).html


def test_youtube_iframe_becomes_a_watch_link():
    html = convert('<iframe src="https://www.youtube.com/embed/abc123" width="560"></iframe>').html
    assert '<a href="https://www.youtube.com/watch?v=abc123">Watch on YouTube:' in html
    assert "iframe" not in html


@pytest.mark.parametrize(
    ("shortcode", "href"),
    [
        ("[embed]https://vimeo.com/1[/embed]", "https://vimeo.com/1"),
        ("[youtube https://youtu.be/xyz]", "https://youtu.be/xyz"),
        ('[video src="https://cdn.example/v.mp4"]', "https://cdn.example/v.mp4"),
        ("[tweet https://x.com/a/status/1]", "https://x.com/a/status/1"),
        ('[instagram url="https://www.instagram.com/p/abc/"]', "https://www.instagram.com/p/abc/"),
    ],
)
def test_embed_shortcodes_become_links(shortcode, href):
    assert f'href="{href}"' in convert(shortcode).html


def test_an_image_inside_a_paragraph_is_lifted_out_as_a_figure():
    html = convert(
        'Before <img class="wp-image-7" src="a.jpg" alt="Mine"> after', {"7": PHOTO}
    ).html
    assert html == (
        '<p>Before</p><figure data-image-id="42"><img src="/media/images/p.jpg" alt="Mine" '
        'data-image-id="42"></figure><p>after</p>'
    )


def test_an_image_that_cannot_be_found_is_removed_and_reported():
    result = convert('Text\n\n<img src="https://elsewhere.example/x.jpg" alt="gone">')
    assert "<img" not in result.html
    assert result.problems == [("image dropped", "attachment ? https://elsewhere.example/x.jpg")]


def test_links_to_uploaded_files_of_the_old_site_are_reported():
    result = convert('<a href="https://old.example/wp-content/uploads/report.pdf">PDF</a>')
    assert ("link to an old file", "https://old.example/wp-content/uploads/report.pdf") in (
        result.problems
    )
