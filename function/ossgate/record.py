"""A small immutable record type: what dataclasses would give, without importing dataclasses/inspect/typing
(about 15 ms of FC cold start). Fields listed in `_hidden` never show in repr (secrets)."""

REQUIRED = object()  # marks a field without a default


class Record:
    __slots__ = ()
    _fields = ()      # (name, default) pairs, in order; REQUIRED marks a field without default
    _hidden = ()

    def __init_subclass__(cls, **kwargs):
        """Give each record a plain generated __init__ (as dataclasses do): it runs on every request."""
        super().__init_subclass__(**kwargs)
        params, body, namespace = [], [], {"_set": object.__setattr__}
        for index, (name, default) in enumerate(cls._fields):
            if default is REQUIRED:
                params.append(name)
            else:
                namespace["_default_%d" % index] = default
                params.append("%s=_default_%d" % (name, index))
            body.append("    _set(self, %r, %s)" % (name, name))
        source = "def __init__(self, %s):\n%s\n" % (", ".join(params), "\n".join(body) or "    pass")
        exec(source, namespace)
        cls.__init__ = namespace["__init__"]

    def __setattr__(self, name, value):
        raise AttributeError("%s is immutable" % type(self).__name__)

    def __eq__(self, other):
        return type(other) is type(self) and all(
            getattr(self, n) == getattr(other, n) for n, _ in self._fields)

    def __hash__(self):
        return hash(tuple(getattr(self, n) for n, _ in self._fields))

    def __repr__(self):
        shown = ", ".join("%s=%r" % (n, getattr(self, n)) for n, _ in self._fields if n not in self._hidden)
        return "%s(%s)" % (type(self).__name__, shown)
