"""Where skrnn's compiled kernels are cached: a folder per user, never the package.

Numba caches a function compiled with ``cache=True`` beside its source file
(``__pycache__``) unless ``NUMBA_CACHE_DIR`` is set. For an installed package
that means writing into site-packages, and the files left there outlive the
package: after ``pip install -e`` replaces a regular install, a leftover
``skrnn`` folder of cache files (without ``__init__.py``) is found as a
namespace package before the editable install, and ``import skrnn`` breaks.

So skrnn's own kernels (and only them) are cached elsewhere, in the first of

1. ``SKRNN_CACHE_DIR``, if set;
2. ``NUMBA_CACHE_DIR`` (Numba's ``config.CACHE_DIR``), folder ``skrnn``, if set;
3. the per-user cache folder: ``$XDG_CACHE_HOME/skrnn`` or ``~/.cache/skrnn``
   (``~/Library/Caches/skrnn`` on macOS, ``%LOCALAPPDATA%\\skrnn\\Cache`` on
   Windows),

in a subfolder per skrnn and Numba version and per installed copy of skrnn
(see :func:`cache_dir`). Functions of other packages keep Numba's own
locators, and ``numba.config`` is left as it is.

A cache folder that cannot be written (a read-only image, a read-only home)
is still read: kernels found there load as usual. A kernel missing from it
compiles in memory for this process, with one :class:`KernelCacheWarning`
per process, however many kernels it concerns.

Numba has no public interface for this: :func:`install` adds a locator class
to ``numba.core.caching``'s list of locators and guards the cache's save and
load for skrnn's locator only. If those internals are missing (another Numba
version), nothing is installed and Numba's defaults apply; :data:`INSTALLED`
says which happened.
"""

import hashlib
import os
import sys
import tempfile
import threading
import warnings

# The skrnn package folder: the functions whose source lies under it are ours.
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ENV_VAR = "SKRNN_CACHE_DIR"

INSTALLED = False

# Called with a kernel's ``module.qualname`` before it is looked up in the
# cache (:mod:`._parallel` waits there for a helper compiling it), or None.
before_load = None


class KernelCacheWarning(UserWarning):
    """Warning that skrnn's kernel cache cannot be written.

    Kernels that are not in the cache then compile in memory, for the
    running process only. Emitted at most once per process. Set
    ``SKRNN_CACHE_DIR`` to a writable folder, or fill the cache ahead of time
    with ``python -m skrnn.compile``.
    """


def user_cache_root(environ=None, platform=None):
    """The per-user cache folder of skrnn, as the platform names it.

    Parameters
    ----------
    environ : mapping or None, default=None
        Environment variables (``os.environ`` when None).
    platform : str or None, default=None
        ``sys.platform`` when None.

    Returns
    -------
    path : str
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if environ.get("XDG_CACHE_HOME"):
        return os.path.join(environ["XDG_CACHE_HOME"], "skrnn")
    if platform.startswith("win"):
        base = environ.get("LOCALAPPDATA") or os.path.expanduser("~")
        return os.path.join(base, "skrnn", "Cache")
    if platform == "darwin":
        return os.path.expanduser(os.path.join("~", "Library", "Caches", "skrnn"))
    return os.path.expanduser(os.path.join("~", ".cache", "skrnn"))


def cache_root(environ=None, numba_cache_dir=None, platform=None):
    """The folder that holds skrnn's kernel caches, before versioning.

    Parameters
    ----------
    environ : mapping or None, default=None
        Environment variables (``os.environ`` when None).
    numba_cache_dir : str or None, default=None
        Numba's ``config.CACHE_DIR`` (the ``NUMBA_CACHE_DIR`` it read).
    platform : str or None, default=None
        ``sys.platform`` when None.

    Returns
    -------
    path : str
        ``SKRNN_CACHE_DIR`` if set, else ``numba_cache_dir/skrnn`` if set,
        else :func:`user_cache_root`.
    """
    environ = os.environ if environ is None else environ
    explicit = environ.get(ENV_VAR, "").strip()
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    if numba_cache_dir:
        return os.path.join(os.path.abspath(numba_cache_dir), "skrnn")
    return user_cache_root(environ, platform)


def _skrnn_version():
    # skrnn/__init__.py sets __version__ before it imports this package.
    return getattr(sys.modules.get("skrnn"), "__version__", "unknown")


def cache_dir(environ=None):
    """The folder this process caches skrnn's kernels in.

    ``<root>/<skrnn version>-numba-<numba version>/<copy>``: ``root`` from
    :func:`cache_root`, ``copy`` a short hash of the folder skrnn is
    imported from, so that two copies of skrnn (a clone and an installed
    wheel, two virtual environments) never overwrite each other's kernels.

    Parameters
    ----------
    environ : mapping or None, default=None
        Environment variables (``os.environ`` when None).

    Returns
    -------
    path : str
    """
    import numba
    from numba.core import config

    root = cache_root(environ, getattr(config, "CACHE_DIR", None))
    version = f"{_skrnn_version()}-numba-{numba.__version__}"
    copy = hashlib.sha1(PACKAGE_DIR.encode()).hexdigest()[:12]
    return os.path.join(root, version, copy)


def is_skrnn_source(py_file):
    """Whether ``py_file`` is a source file of this copy of skrnn."""
    try:
        path = os.path.abspath(py_file)
        return os.path.commonpath([path, PACKAGE_DIR]) == PACKAGE_DIR
    except ValueError:  # different drives, or a placeholder name
        return False


_writable = {}
_lock = threading.Lock()
_warned = False


def _probe_writable(path):
    """Whether ``path`` exists (or can be made) and takes a new file; memoised."""
    with _lock:
        if path not in _writable:
            try:
                os.makedirs(path, exist_ok=True)
                tempfile.TemporaryFile(dir=path).close()
                _writable[path] = True
            except OSError:
                _writable[path] = False
        return _writable[path]


def _warn_in_memory(path, error):
    global _warned
    with _lock:
        if _warned:
            return
        _warned = True
    reason = f" ({error.strerror or error})" if error is not None else ""
    warnings.warn(
        f"skrnn cannot write its kernel cache in {path}{reason}: kernels "
        "that are not cached there compile in memory, for this process only. "
        f"Set {ENV_VAR} to a writable folder, or fill the cache ahead of time "
        "with `python -m skrnn.compile`.",
        KernelCacheWarning,
        stacklevel=2,
    )


def _make_locator_class(base):
    class SkrnnCacheLocator(base):
        """Locates the cache of skrnn's kernels in :func:`cache_dir`."""

        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            relative = os.path.relpath(os.path.dirname(py_file), PACKAGE_DIR)
            self._cache_path = os.path.normpath(os.path.join(cache_dir(), relative))
            self.writable = _probe_writable(self._cache_path)

        def ensure_cache_path(self):
            if not self.writable:
                raise PermissionError(f"{self._cache_path} is not writable")
            os.makedirs(self._cache_path, exist_ok=True)

        def get_cache_path(self):
            return self._cache_path

        def get_source_stamp(self):
            # Modification time and size, as Numba's own locators use.
            st = os.stat(self._py_file)
            return st.st_mtime, st.st_size

        def get_disambiguator(self):
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func, py_file):
            if not os.path.exists(py_file) or not is_skrnn_source(py_file):
                return None
            return cls(py_func, py_file)

    return SkrnnCacheLocator


def _guarded(original, on_error, before=None):
    def method(self, *args, **kwargs):
        locator = getattr(getattr(self, "_impl", None), "locator", None)
        if not getattr(locator, "is_skrnn_locator", False):
            return original(self, *args, **kwargs)
        if before is not None:
            before(self)
        try:
            return original(self, *args, **kwargs)
        except OSError as error:
            return on_error(locator, error)

    method.__name__ = original.__name__
    method.__doc__ = original.__doc__
    method.__wrapped__ = original
    return method


def _save_failed(locator, error):
    locator.writable = False
    _warn_in_memory(locator.get_cache_path(), error)


def _load_failed(locator, error):
    return None


def _before_load(cache):
    hook = before_load
    py_func = getattr(cache, "_py_func", None)
    if hook is not None and py_func is not None:
        hook(f"{py_func.__module__}.{py_func.__qualname__}")


def install():
    """Put skrnn's locator first in Numba's list of cache locators.

    Must run before any kernel of skrnn is decorated. Idempotent.

    Returns
    -------
    installed : bool
        False if this Numba lacks the internals the locator relies on; its
        default locators then apply to skrnn's kernels too.
    """
    global INSTALLED
    if INSTALLED:
        return True
    try:
        from numba.core import caching

        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
        locators = impl._locator_classes
        cache_class = caching.Cache
        locator_base = caching._CacheLocator
        original_save = cache_class.save_overload
        original_load = cache_class.load_overload
    except (ImportError, AttributeError):
        return False
    locator_class = _make_locator_class(locator_base)
    locator_class.is_skrnn_locator = True
    # In place: Numba's cache classes share the base class's list.
    locators.insert(0, locator_class)
    cache_class.save_overload = _guarded(original_save, _save_failed)
    cache_class.load_overload = _guarded(original_load, _load_failed, _before_load)
    INSTALLED = True
    return True
