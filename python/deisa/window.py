"""Window: one input of an analytics callback."""

from . import _native


class Window:
    """An input array of a callback and how many timesteps of it the callback sees.

    ``Window("temperature", size=3)`` gives the callback a list of at most 3
    ``DeisaArray`` (oldest first). ``preprocess`` is applied to every block of
    the array before the callback sees it.
    """

    __slots__ = ("name", "size", "preprocess")

    def __init__(self, name, size=1, preprocess=None):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Window name must be a non-empty str, got {name!r}")
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"Window('{name}'): size must be an int, got {type(size).__name__}")
        if not -(1 << 31) <= size < (1 << 31):
            raise ValueError(f"Window('{name}'): size {size} does not fit in an int")
        _native.check(_native.lib().deisa_window_check(name.encode("utf-8"), size))  # the core's rules
        if preprocess is not None and not callable(preprocess):
            raise TypeError(f"Window('{name}'): preprocess must be callable")
        self.name = name
        self.size = size
        self.preprocess = preprocess

    def __repr__(self):
        extra = f", preprocess={self.preprocess!r}" if self.preprocess else ""
        return f"Window(name={self.name!r}, size={self.size}{extra})"

    # Values, as deisa-ray's dataclass Window: equal when name, size and preprocess are; and
    # hashable (deisa-ray's is not), so windows can be dict keys and set members.
    def _key(self):
        return self.name, self.size, self.preprocess

    def __eq__(self, other):
        return self._key() == other._key() if isinstance(other, Window) else NotImplemented

    def __hash__(self):
        return hash(self._key())

    @staticmethod
    def of(item):
        """A Window for a callback input given as a Window or a plain name."""
        if isinstance(item, Window):
            return item
        if isinstance(item, str):
            return Window(item)
        raise TypeError(f"callback inputs must be Window objects or array names, got {type(item).__name__}"
                        f" {item!r}" + (" (pass each input as its own argument)" if isinstance(item, (list, tuple)) else
                                        " (deisa-ray would drop it silently and never give it to the callback:"
                                        " leave it out to do the same)"))
