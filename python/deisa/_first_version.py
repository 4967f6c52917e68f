"""deisa-ray's first version's analytics API, on Deisa's: a callback registered with a list of
array definitions (``register_callback(cb, [WindowArrayDefinition, ...], max_iterations=,
prepare_iteration=, preparation_advance=)``) is called as that version called it:
``cb(**arrays, timestep=t)`` (and ``preparation_result=`` with a preparation), each array bare
when its definition has no ``window_size``, a list of the last ``window_size`` otherwise; at
most ``max_iterations`` times."""

import numbers

from .window import Window


class ArrayDefinition(Window):
    """deisa-ray's first version's ``WindowArrayDefinition``: a :class:`Window` that remembers
    its ``window_size`` (None: the callback gets the newest array itself, not a list)."""

    __slots__ = ("window_size",)

    def __init__(self, name, window_size=None, preprocess=None):
        super().__init__(name, size=1 if window_size is None else window_size, preprocess=preprocess)
        self.window_size = window_size


class FirstVersionCallback:
    """Calls ``fn`` as deisa-ray's first version did (see the module)."""

    def __init__(self, fn, definitions, max_iterations):
        if max_iterations is not None and (isinstance(max_iterations, bool) or not isinstance(max_iterations, numbers.Integral)
                                           or max_iterations < 0):
            raise TypeError(f"max_iterations must be a non-negative int, got {max_iterations!r}")
        self.fn = fn
        self.bare = {d.name for d in definitions if isinstance(d, str) or getattr(d, "window_size", 0) is None}
        self.max_iterations = max_iterations
        self.iterations = 0
        self.__qualname__ = getattr(fn, "__qualname__", None) or repr(fn)  # the name the run reports

    def __call__(self, **arrays):
        if self.max_iterations is not None and self.iterations >= self.max_iterations:
            return
        self.iterations += 1
        extra = {"preparation_result": arrays.pop("preparation_result")} if "preparation_result" in arrays else {}
        timestep = max(window[-1].t for window in arrays.values())
        self.fn(**{name: window[-1] if name in self.bare else window for name, window in arrays.items()},
                timestep=timestep, **extra)


def inputs_of(definitions):
    """The Windows of a first-version list of definitions (an array name is a definition
    without a window)."""
    if not definitions:
        raise ValueError("arrays_description must name at least one array")
    return [ArrayDefinition(d) if isinstance(d, str) else d for d in definitions]
