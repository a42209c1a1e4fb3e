"""What an operation gets (Call) and gives back (Answer), plus small XML and date helpers they share."""

import email.utils
import time
from datetime import datetime, timezone
from urllib.parse import quote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from .body import check_content_md5
from .errors import OssError, error_xml

MAX_XML_BODY = 1024 * 1024


class Call:
    """One request, as the operations see it."""

    def __init__(self, oss, method, bucket, key, query_pairs, headers, body, authenticated, host, request_id):
        self.oss = oss
        self.request_id = request_id
        self.method = method
        self.bucket = bucket
        self.key = key
        self.query_pairs = query_pairs
        self.params = dict(query_pairs)
        self.headers = headers
        self.body = body
        self.authenticated = authenticated
        self.host = host

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def url_encoded(self):
        value = self.params.get("encoding-type")
        if value is None:
            return False
        if value != "url":
            raise OssError("InvalidEncodingType", "The encoding type must be url.")
        return True

    def xml_body(self, root_tag):
        """The request's XML document (root element checked); MalformedXML otherwise."""
        data = self.body.read_all(MAX_XML_BODY)
        check_content_md5(self.headers, data)
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError:
            raise OssError("MalformedXML", "The XML you provided was not well-formed or did not validate "
                                           "against our published schema.")
        if root.tag != root_tag:
            raise OssError("MalformedXML", "The root element must be %s." % root_tag)
        return root


class Answer:
    def __init__(self, status=200, body=b"", headers=None, content_type=None, stream=None, length=None):
        self.status = status
        self.body = body
        self.headers = list((headers or {}).items()) if isinstance(headers, dict) else list(headers or [])
        self.content_type = content_type
        self.stream = stream          # an open file to send `length` bytes from (its position is the start)
        self.length = length if length is not None else len(body)  # a HEAD answer names the object's size


def xml_answer(root_tag, children, status=200, headers=None):
    """`children`: (tag, text | list of children | None) pairs, in order."""
    body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + element(root_tag, children)
    return Answer(status, body.encode("utf-8"), headers, "application/xml")


def element(tag, content):
    if content is None:
        return "<%s></%s>" % (tag, tag)
    if isinstance(content, (list, tuple)):
        return "<%s>%s</%s>" % (tag, "".join(element(t, c) for t, c in content), tag)
    return "<%s>%s</%s>" % (tag, escape(str(content)), tag)


def encode_key(key, url_encoded):
    return quote(key, safe="") if url_encoded else key


def iso_time(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def http_time(epoch):
    return email.utils.formatdate(epoch, usegmt=True)


def parse_http_time(value):
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def now_epoch(oss):
    clock = oss.clock()
    return clock.timestamp() if clock else time.time()


def owner():
    return [("ID", "1000000000000000"), ("DisplayName", "1000000000000000")]


def error_answer_body(error, call):
    return error_xml(error, call.request_id, call.host)
