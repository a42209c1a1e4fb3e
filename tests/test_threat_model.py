"""docs/threat-model.md names, for each claim, the tests that attack it: every one of them must exist."""

import re

from conftest import ROOT


def referenced_tests(text):
    """(file, test name or None) for each `tests/x.py::name`, `tests/x.py` and `::name` (same file as before)."""
    current = None
    for match in re.finditer(r"`(?:(tests/[\w/]+\.py)(?:::(\w+))?|::(\w+))`", text):
        if match.group(1):
            current = match.group(1)
            yield current, match.group(2)
        else:
            yield current, match.group(3)


def test_every_test_the_threat_model_names_exists():
    text = (ROOT / "docs" / "threat-model.md").read_text()
    references = list(referenced_tests(text))
    assert len(references) > 40
    missing = []
    for path, name in references:
        source = ROOT / path
        if not source.exists():
            missing.append(path)
        elif name and not re.search(r"^def %s\(" % name, source.read_text(), re.M):
            missing.append("%s::%s" % (path, name))
    assert missing == []
