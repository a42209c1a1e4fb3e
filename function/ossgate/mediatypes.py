"""What a browser would run, and how stored objects are served: the active media types no upload may carry
unless a profile lists that exact type, and the Content-Disposition objects are stored and downloaded with.

A type is active when a browser navigating to it renders a document that can run script or pull in active
content in the serving origin (the bucket's domain), or when another page can run it as script or plugin code
from there: HTML; every XML type (XHTML, SVG, MathML, feeds and plain XML can carry script, XHTML elements or an
xml-stylesheet/XSLT); JavaScript and ECMAScript in all their spellings; Flash; HTML components; and
multipart/x-mixed-replace, whose parts a browser renders as pages. Media, fonts, archives, PDF and plain
text are not active (the download route serves everything as an attachment by default anyway).
See https://mimesniff.spec.whatwg.org/#javascript-mime-type and https://mimesniff.spec.whatwg.org/#xml-mime-type.
"""

import re

ACTIVE_TYPES = frozenset({
    "text/html", "text/xsl", "text/x-component", "text/xml-external-parsed-entity", "application/xml-dtd",
    "application/xml-external-parsed-entity", "application/x-shockwave-flash", "application/futuresplash",
    "multipart/x-mixed-replace",
})
_SCRIPT_WORDS = ("javascript", "ecmascript", "jscript", "livescript")
# RFC 5987 attr-char: what a filename* value may hold unencoded.
_ATTR_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~")
_PLAIN_NAME_RE = re.compile(r"[A-Za-z0-9._-]+")  # needs no encoding in either form (every ticket's key name)


def is_active(content_type):
    """True for a media type (lowercase, no parameters) a browser may run as a page or script."""
    subtype = content_type.partition("/")[2]
    return (content_type in ACTIVE_TYPES or subtype == "xml" or subtype.endswith("+xml")
            or any(word in subtype for word in _SCRIPT_WORDS))


def content_disposition(filename, inline=False):
    """RFC 6266: `inline`, or `attachment` with the filename both as an ASCII fallback (`filename="..."`, with
    anything unsafe replaced by `_`) and RFC 5987-encoded UTF-8 (`filename*=UTF-8''...`)."""
    if inline:
        return "inline"
    if _PLAIN_NAME_RE.fullmatch(filename):
        return "attachment; filename=\"%s\"; filename*=UTF-8''%s" % (filename, filename)
    raw = filename.encode("utf-8", "replace")
    encoded = "".join(chr(b) if b in _ATTR_CHARS else "%%%02X" % b for b in raw)
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\%' else "_" for c in filename)
    return "attachment; filename=\"%s\"; filename*=UTF-8''%s" % (fallback, encoded)
