import pytest

from ossgate.record import REQUIRED, Record


class Point(Record):
    __slots__ = ("x", "y", "secret")
    _fields = (("x", REQUIRED), ("y", 0), ("secret", None))
    _hidden = ("secret",)


def test_positional_keyword_and_defaults():
    assert (Point(1).x, Point(1).y) == (1, 0)
    assert Point(1, 2) == Point(x=1, y=2) == Point(1, y=2)
    assert Point(1) != Point(2) and hash(Point(1, 2)) == hash(Point(x=1, y=2))


@pytest.mark.parametrize("args, kwargs", [((), {}), ((1, 2, 3, 4), {}), ((1,), {"x": 2}), ((1,), {"z": 3})])
def test_bad_construction(args, kwargs):
    with pytest.raises(TypeError):
        Point(*args, **kwargs)


def test_immutable_and_hidden_in_repr():
    point = Point(1, secret="hunter2-long")
    with pytest.raises(AttributeError):
        point.x = 5
    assert repr(point) == "Point(x=1, y=0)"
