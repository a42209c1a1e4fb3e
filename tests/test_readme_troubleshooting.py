"""README's troubleshooting table names every client error code and the OSS error codes an upload can meet, each
with a cause and a fix; the make targets and settings the README documents are the ones that exist."""

import re

from conftest import ROOT

OSS_CODES = ("AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidSecurityToken",
             "RequestTimeTooSkewed", "EntityTooLarge", "EntityTooSmall", "FileAlreadyExists", "NoSuchUpload",
             "InvalidPart", "CallbackFailed")


def section(text, title):
    start = text.index("\n## " + title)
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)]


def table_rows(text):
    """{first cell's codes: [cells]} of every markdown table row."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            for code in re.findall(r"`([A-Za-z_]+)`", cells[0]):
                rows.setdefault(code, cells)
    return rows


def client_error_codes():
    types = (ROOT / "miniprogram" / "ossgate" / "index.d.ts").read_text()
    union = types[types.index("export type UploadErrorCode ="):]
    union = re.sub(r"/\*.*?\*/", "", union.split("\n\n", 1)[0], flags=re.S)  # up to the blank line, no comments
    return re.findall(r"'([a-z_]+)'", union)


def test_every_oss_and_client_code_has_a_row_with_cause_and_fix():
    rows = table_rows(section((ROOT / "README.md").read_text(), "Troubleshooting"))
    codes = client_error_codes()
    assert "oss_rejected" in codes and "network" in codes
    for code in OSS_CODES + tuple(codes):
        assert code in rows, "%s has no troubleshooting row" % code
        cells = rows[code]
        assert len(cells) == 3 and all(len(cell) > 10 for cell in cells[1:]), cells


def test_the_troubleshooting_section_covers_wechat_failures():
    text = section((ROOT / "README.md").read_text(), "Troubleshooting")
    for needle in ("url not in domain list", "112", "104", "privacy"):
        assert needle in text
