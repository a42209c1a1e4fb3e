from ossgate import cors


def test_exact_origins_echo_with_vary():
    allowed = ("https://a.example", "http://localhost:8080")
    assert cors.response_headers(allowed, "https://a.example") == {"Access-Control-Allow-Origin": "https://a.example",
                                                                   "Vary": "Origin"}
    assert cors.response_headers(allowed, "https://a.example/") == {"Access-Control-Allow-Origin": "https://a.example/",
                                                                    "Vary": "Origin"}
    assert cors.response_headers(allowed, "https://evil.example") == {"Vary": "Origin"}
    assert cors.response_headers(allowed, "https://a.example.evil") == {"Vary": "Origin"}


def test_star_and_none():
    assert cors.response_headers(("*",), "https://x.y") == {"Access-Control-Allow-Origin": "*"}
    assert cors.response_headers((), "https://x.y") == {}
    assert cors.response_headers(("*",), None) == {}


def test_preflight_lists_methods_and_headers_only_for_allowed_origins():
    headers = cors.preflight_headers(("https://a.example",), "https://a.example")
    assert headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert "authorization" in headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Methods" not in cors.preflight_headers(("https://a.example",), "https://b.example")
