"""The accessibility statement read over HTTP (scanner/probes/statement_pages.py): what a page says once script,
styles and hidden blocks are set aside, which pages go to the browser, and that candidates cost no more than
the limits (redirects, body size, the address policy) when a server is hostile."""
import asyncio

import pytest
from scanner import config
from scanner.probes.base import ProbeContext
from scanner.probes.statement_pages import MAX_STATEMENT_FETCHES, STATEMENT_REDIRECTS, read_html, read_statement_pages
from scanner.resolver import Resolver
from tests.unit.fakedns import LOOPBACK
from tests.unit.test_http_probe import NOT_FOUND, Server, response

STATEMENT = """<!doctype html><html lang="nl"><head><title>Toegankelijkheidsverklaring
  | Gemeente Test</title><style>body { color: red }</style><script>var tracking = "niet zichtbaar";</script></head>
<body><nav><a href="/">Home</a> <a href="javascript:alert(1)">Klik</a> <a href="mailto:a@b.nl">Mail</a></nav>
<main><h1>Toegankelijkheidsverklaring</h1><p>Gemeente Test streeft ernaar haar website toegankelijk te maken,
zodat iedereen de informatie kan vinden en de diensten kan gebruiken. De eisen staan in de Europese norm EN 301 549
en de WCAG 2.1 op niveau A en AA.</p>
<noscript>Zet JavaScript aan</noscript><template><p>sjabloon</p></template>
<p>Status: voldoet gedeeltelijk. <a href="https://www.toegankelijkheidsverklaring.nl/register/1234">Register</a></p>
</main></body></html>"""
SCRIPT_SHELL = """<!doctype html><html><head><title>Laden</title></head><body><div id="app"></div>
<script src="/app.js"></script></body></html>"""
LIMIT = 20_000


def html(body: str, status: int = 200, headers=()) -> bytes:
    return response(status, [("Content-Type", "text/html; charset=utf-8"), *headers], body.encode())


def redirect(to: str) -> bytes:
    return response(302, [("Location", to)])


def context(allowed=LOOPBACK, visit_timeout=5.0):
    settings = config.load(overrides={
        "scan": {"connect_timeout": 0.5, "max_body_bytes": LIMIT, "user_agent": "govscan-test",
                 "allowed_networks": allowed},
        "browser": {"visit_timeout": visit_timeout}, "dns": {"resolvers": ["127.0.0.1"]}})
    return ProbeContext(settings=settings, resolver=Resolver(settings.dns))


class Renderer:
    """The browser's stand-in: what it was asked to draw, and what it draws."""

    def __init__(self):
        self.urls = []

    async def __call__(self, url: str) -> dict:
        self.urls.append(url)
        return {"status": 200, "final_url": url, "title": "Verklaring", "text": "Door script getekend."}


def read(routes, paths, allowed=LOOPBACK, visit_timeout=5.0):
    """Serve `routes` on 127.0.0.1 and read the candidates at `paths` there: (artifact, renderer, server)."""

    async def go():
        async with Server(routes) as server:
            base = f"http://127.0.0.1:{server.port}"
            candidates = [{"url": base + path, "via": "path"} for path in paths]
            renderer = Renderer()
            found = await read_statement_pages(context(allowed, visit_timeout), candidates, renderer)
            return found, renderer, server

    return asyncio.run(go())


def test_a_page_is_read_as_a_visitor_sees_it():
    page = read_html(STATEMENT, "https://www.test.nl/toegankelijkheid")
    assert page["title"] == "Toegankelijkheidsverklaring | Gemeente Test"
    assert "streeft ernaar haar website toegankelijk" in page["text"]
    assert "Status: voldoet gedeeltelijk." in page["text"]
    for hidden in ("niet zichtbaar", "color: red", "Zet JavaScript aan", "sjabloon", "Gemeente Test</title>"):
        assert hidden not in page["text"]
    assert page["links"] == [{"href": "https://www.test.nl/", "text": "Home"},
                             {"href": "https://www.toegankelijkheidsverklaring.nl/register/1234", "text": "Register"}]
    assert not page["script_only"]


def test_a_page_that_script_draws_is_recognised():
    assert read_html(SCRIPT_SHELL, "https://www.test.nl/toegankelijkheid")["script_only"]
    assert not read_html("<p>kort</p>", "https://www.test.nl/")["script_only"]  # no script: short, but all there


def test_hostile_markup_is_read_without_failing():
    nested = "<div>" * 50_000 + "diep" + "</div>" * 10
    assert "diep" in read_html(nested, "https://www.test.nl/")["text"]
    many_links = "".join(f'<a href="/p{i}">p{i}</a>' for i in range(5000))
    assert len(read_html(many_links, "https://www.test.nl/")["links"]) == 300
    broken = '<html><body><a href="http://[::1">x</a><a href="/ok">ok</a><p>tekst <b>zonder einde'
    page = read_html(broken, "https://www.test.nl/")
    assert page["links"][-1]["href"] == "https://www.test.nl/ok" and "zonder einde" in page["text"]


def test_candidates_are_read_in_order_redirects_followed_and_the_register_entry_next():
    register = html("<title>Register</title><p>" + "Verklaring in het register. " * 10 + "</p>")
    on_this_server = "/toegankelijkheidsverklaring.nl/register/1234"  # what REGISTER_LINK looks for, served here
    found, renderer, server = read({
        "/toegankelijkheid": redirect("/toegankelijkheidsverklaring"),
        "/toegankelijkheidsverklaring": html(STATEMENT.replace(
            "https://www.toegankelijkheidsverklaring.nl/register/1234", on_this_server)),
        on_this_server: register,
    }, ["/toegankelijkheid", "/toegankelijkheidsverklaringen"])
    first, register_entry, missing = found["fetched"]
    assert first["status"] == 200 and first["final_url"].endswith("/toegankelijkheidsverklaring")
    assert first["title"] == "Toegankelijkheidsverklaring | Gemeente Test" and first["read_by"] == "http"
    assert register_entry["via"] == "register_link_on_page" and register_entry["title"] == "Register"
    assert missing["status"] == 404 and "error" not in missing
    assert renderer.urls == []
    assert [path for path, _ in server.requests] == [
        "/toegankelijkheid", "/toegankelijkheidsverklaring", on_this_server, "/toegankelijkheidsverklaringen"]


def test_only_an_existing_page_drawn_by_script_goes_to_the_browser():
    plain_statement = STATEMENT.replace("https://www.toegankelijkheidsverklaring.nl/register/1234", "/elders")
    found, renderer, _ = read({"/toegankelijkheid": html(SCRIPT_SHELL), "/plain": html(plain_statement),
                               "/gone": html(SCRIPT_SHELL, status=404)}, ["/toegankelijkheid", "/plain", "/gone"])
    drawn, plain, gone = found["fetched"]
    assert drawn["read_by"] == "browser" and drawn["text"] == "Door script getekend."
    assert plain["read_by"] == gone["read_by"] == "http" and gone["status"] == 404
    assert renderer.urls == [drawn["url"]]


def test_a_redirect_loop_ends_at_the_limit_with_a_reason():
    found, _, server = read({"/a": redirect("/b"), "/b": redirect("/a")}, ["/a"])
    assert f"more than {STATEMENT_REDIRECTS} redirects" in found["fetched"][0]["error"]
    assert len(server.requests) == STATEMENT_REDIRECTS + 1


def test_a_huge_page_is_read_no_further_than_the_body_limit():
    found, _, _ = read({"/big": html("<p>" + "verklaring " * 100_000 + "</p>")}, ["/big"])
    assert 0 < len(found["fetched"][0]["text"]) <= LIMIT


def test_no_more_than_the_maximum_number_of_candidates_is_fetched():
    found, _, server = read({}, [f"/p{i}" for i in range(MAX_STATEMENT_FETCHES + 4)])
    assert len(found["fetched"]) == len(server.requests) == MAX_STATEMENT_FETCHES


def test_a_refused_address_is_never_connected_to():
    found, _, server = read({"/toegankelijkheid": html(STATEMENT)}, ["/toegankelijkheid"], allowed=[])
    assert "127.0.0.1" in found["fetched"][0]["error"] and server.requests == []


def test_a_redirect_to_a_refused_address_is_not_followed():
    found, _, server = read({"/toegankelijkheid": redirect("http://10.1.2.3/verklaring")}, ["/toegankelijkheid"])
    assert "10.1.2.3" in found["fetched"][0]["error"] and len(server.requests) == 1


@pytest.mark.parametrize("location", ["ftp://127.0.0.1/verklaring", "file:///etc/passwd", "http://[::1/x"])
def test_a_redirect_off_the_web_is_an_error(location):
    found, _, _ = read({"/toegankelijkheid": redirect(location)}, ["/toegankelijkheid"])
    assert "not an" in found["fetched"][0]["error"]


def test_a_server_that_never_answers_costs_no_more_than_the_timeout():
    found, _, _ = read({"/toegankelijkheid": "hang"}, ["/toegankelijkheid"], visit_timeout=1.0)
    assert "timeout" in found["fetched"][0]["error"]
