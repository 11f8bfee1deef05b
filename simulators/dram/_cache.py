"""Numba's on-disk cache keys a compiled function on its own source file only, so a kernel whose
helpers live in another module keeps running stale machine code after that module changes
(numba.core.caching: `_SourceFileBackedLocatorMixin.get_source_stamp`). For the functions of this
package the stamp here covers every module of the package, in each of numba's places for a cache,
in numba's order: NUMBA_CACHE_DIR if set, else the in-tree __pycache__, else (a read-only install)
the user-wide cache directory. No library offers this; numba's locator list is the documented
extension point (`NUMBA_CACHE_LOCATOR_CLASSES` names the same hook).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from numba.core import caching

PACKAGE_DIR = Path(__file__).resolve().parent


class PackageStamp:
    """A source-file-backed locator's mixin: stamped with every .py file of simulators/dram, and
    only for functions of this package (None for the others: numba's own locators take them)."""

    def get_source_stamp(self):
        return package_digest()

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).resolve().parent != PACKAGE_DIR:
            return None
        return super().from_function(py_func, py_file)


class PackageStampUserProvidedLocator(PackageStamp, caching.UserProvidedCacheLocator):
    """NUMBA_CACHE_DIR, package-stamped."""


class PackageStampLocator(PackageStamp, caching.InTreeCacheLocator):
    """The in-tree __pycache__, package-stamped."""


class PackageStampUserWideLocator(PackageStamp, caching.UserWideCacheLocator):
    """The user-wide cache directory, package-stamped."""


LOCATORS = (PackageStampUserProvidedLocator, PackageStampLocator, PackageStampUserWideLocator)


@lru_cache(maxsize=1)
def package_digest() -> bytes:
    """sha256 over the sources of the package (numba stamps a single file's content the same way)."""
    h = hashlib.sha256()
    for p in sorted(PACKAGE_DIR.glob("*.py")):
        h.update(p.name.encode() + p.read_bytes())
    return h.digest()


_locators = caching.CacheImpl._locator_classes
for _cls in reversed(LOCATORS):
    if _cls not in _locators:
        _locators.insert(0, _cls)
