"""Faster pickling for the models the build cache stores.

The dataclasses module pickles a slotted dataclass by calling fields() for
every object, in Python; loading ten thousand cached practices spent most of
its time there. These methods do the same with the field names looked up
once per class, and evolve() copies one with some fields changed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import fields
from itertools import repeat
from operator import attrgetter, call
from typing import TypeVar

T = TypeVar("T")


def quick_pickle(cls: type[T]) -> type[T]:
    """Class decorator, applied after @dataclass(slots=True)."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    get_all = attrgetter(*names)
    # Each slot's own setter: frozen classes refuse setattr(), and going
    # through object.__setattr__ would look each name up again.
    setters = tuple(getattr(cls, name).__set__ for name in names)

    if len(names) == 1:
        def __getstate__(self: T) -> tuple:
            return (get_all(self),)
    else:
        def __getstate__(self: T) -> tuple:
            return get_all(self)

    def __setstate__(self: T, state: tuple) -> None:
        deque(map(call, setters, repeat(self), state), maxlen=0)

    cls.__getstate__ = __getstate__  # type: ignore[attr-defined]
    cls.__setstate__ = __setstate__  # type: ignore[attr-defined]
    cls.__field_index__ = {name: index for index, name in enumerate(names)}  # type: ignore[attr-defined]
    return cls


def evolve(obj: T, **changes: object) -> T:
    """dataclasses.replace() for a quick_pickle class, without calling __init__.

    replace() passes every field through the frozen __init__, one
    object.__setattr__ each; resolving ten thousand practices spent a third
    of its time there.
    """
    index = type(obj).__field_index__  # type: ignore[attr-defined]
    state = list(obj.__getstate__())  # type: ignore[attr-defined]
    for name, value in changes.items():
        state[index[name]] = value
    new = object.__new__(type(obj))
    new.__setstate__(state)  # type: ignore[attr-defined]
    return new


def differences(old: T, new: T) -> dict[str, object]:
    """The fields of `old` that `new` does not share (other objects, equal or not), so that
    evolve(new, **differences(old, new)) equals `old`."""
    names = type(old).__field_index__  # type: ignore[attr-defined]
    return {
        name: mine
        for name, mine, theirs in zip(names, old.__getstate__(), new.__getstate__(), strict=True)  # type: ignore[attr-defined]
        if mine is not theirs
    }
