"""The favicon: an SVG mark with a 32 px PNG beside it, linked from every page, and the PNG
at /favicon.ico for whatever asks there (feed readers, bookmarks, old browsers)."""

from tests.factories import login


def test_every_page_links_the_favicon_and_favicon_ico_is_the_png(client, make):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert 'href="/static/favicon-32.png" type="image/png" sizes="32x32"' in page
    assert 'href="data:,"' not in page

    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/png"
    assert icon.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert icon.data[16:24] == (32).to_bytes(4, "big") * 2  # 32 x 32, from the IHDR chunk
    assert "max-age=86400" in icon.headers["Cache-Control"]

    svg = client.get("/static/favicon.svg")
    assert svg.mimetype == "image/svg+xml" and b"#2b3a67" in svg.data  # the navigation's blue

    # logged in too, the same icon (the layout is the same for everyone)
    login(client, make.advocate("ico@example.com").email)
    assert "/static/favicon.svg" in client.get("/hub/").get_data(as_text=True)
