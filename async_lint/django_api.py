"""What Django's async API is, version by version.

Each table says where its facts come from: the Django release notes that added an API and
the Django source file that defines it (checked against Django 5.2's source, and 6.0's for
what 6.0 added).  A fix may only use a twin whose `since` is not newer than the target version;
`delegates_until` records the last version in which the twin is a plain
`sync_to_async(self.<sync>)` wrapper, so an override of the sync method still runs.  Past it the
twin is a native re-implementation and the rewrite is unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass

Version = tuple[int, int, int]

ANY = (99, 99, 99)  # "still delegating in every version we know"


def parse_version(text: str) -> Version:
    """`"4.2"` → (4, 2, 0); `"4.1.4"` → (4, 1, 4).  Raises ValueError on anything else."""
    parts = text.strip().split(".")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a Django version: {text!r} (expected X.Y or X.Y.Z)")
    major, minor, *patch = (int(p) for p in parts)
    return (major, minor, patch[0] if patch else 0)


# The feature releases the version tables here cover (3.1 brought async views).
KNOWN_RELEASES: tuple[tuple[int, int], ...] = ((3, 0), (3, 1), (3, 2), (4, 0), (4, 1), (4, 2), (5, 0), (5, 1), (5, 2), (6, 0), (6, 1))


def parse_target(text: str) -> Version:
    """A target version given by the user: one of KNOWN_RELEASES (a patch level is kept)."""
    version = parse_version(text)
    if version[:2] not in KNOWN_RELEASES:
        first, last = KNOWN_RELEASES[0], KNOWN_RELEASES[-1]
        raise ValueError(f"unknown Django version {text.strip()!r} (known: {first[0]}.{first[1]} to {last[0]}.{last[1]})")
    return version


def format_version(version: Version) -> str:
    return ".".join(str(p) for p in (version if version[2] else version[:2]))


@dataclass(frozen=True)
class Twin:
    sync: str
    twin: str
    since: Version
    delegates_until: Version = ANY
    note: str = ""

    # Versions in which the twin exists but is broken, so a fix must not use it.
    broken: tuple[Version, Version] | None = None

    def available(self, target: Version) -> bool:
        if self.broken is not None and self.broken[0] <= target <= self.broken[1]:
            return False
        return target >= self.since

    def keeps_behaviour(self, target: Version) -> bool:
        return target <= self.delegates_until


def _twins(names: str, since: Version, **kwargs) -> dict[str, Twin]:
    return {n: Twin(n, "a" + n, since, **kwargs) for n in names.split()}


# QuerySet methods that run SQL; each twin (Django 4.1 release notes, "Asynchronous queries")
# is `sync_to_async(self.<sync>)` in django/db/models/query.py.
QUERYSET_METHODS: dict[str, Twin] = _twins(
    "get create get_or_create update_or_create bulk_create bulk_update count in_bulk"
    " latest earliest first last aggregate exists contains update delete explain",
    (4, 1, 0),
)
# Manager proxies every public QuerySet method except those marked `queryset_only`
# (BaseManager._get_queryset_methods, django/db/models/manager.py).
QUERYSET_ONLY = frozenset({"delete", "adelete"})
# `async for` over a QuerySet (QuerySet.__aiter__), and `iterator()` → `aiterator()` (an async
# generator), both since 4.1.
ASYNC_ITERATION_SINCE: Version = (4, 1, 0)
# 4.1–4.2 raise NotSupportedError for aiterator() after prefetch_related().
AITERATOR_WITH_PREFETCH_SINCE: Version = (5, 0, 0)

# Return a new QuerySet and run no SQL (django/db/models/query.py).
LAZY_QUERYSET_METHODS = frozenset(
    "all filter exclude complex_filter union intersection difference select_for_update"
    " select_related prefetch_related annotate alias order_by distinct extra reverse defer"
    " only using none values values_list dates datetimes fetch_mode".split()
)
VALUES_METHODS = frozenset({"values", "values_list", "dates", "datetimes"})
# Methods whose (awaited) result is one model instance, or (instance, created).
INSTANCE_METHODS = frozenset({"get", "create", "latest", "earliest", "first", "last"})
INSTANCE_AND_FLAG_METHODS = frozenset({"get_or_create", "update_or_create"})

# Related-manager writers, async since 4.2 (release notes: aadd(), aclear(), aremove(), aset();
# django/db/models/fields/related_descriptors.py).  `remove`/`clear` exist on a reverse FK only
# when it is nullable.
RELATED_MANAGER_METHODS: dict[str, Twin] = {
    **_twins("add remove clear set", (4, 2, 0)),
    # 4.1.0–4.1.3 resolved these through the default manager and lost the relation (#34139).
    **_twins("create get_or_create update_or_create", (4, 1, 4)),
}
NULLABLE_REVERSE_FK_ONLY = frozenset({"remove", "clear", "aremove", "aclear"})

# Model instance methods: asave(), adelete(), arefresh_from_db() since 4.2 (release notes;
# django/db/models/base.py).
MODEL_METHODS: dict[str, Twin] = _twins("save delete refresh_from_db", (4, 2, 0))
# Run queries and have no twin in any version (django/db/models/base.py: validation reads the
# database for unique and constraint checks; the ordering helpers query).
MODEL_METHODS_WITHOUT_TWIN = frozenset(
    "full_clean clean_fields validate_unique validate_constraints"
    " get_next_in_order get_previous_in_order".split()
)
MODEL_METHOD_PREFIXES_WITHOUT_TWIN = ("get_next_by_", "get_previous_by_")

# django.contrib.auth functions (django/contrib/auth/__init__.py).  The 5.0 twins (release
# notes: aauthenticate(), alogin(), ...) wrap the sync function; 5.2 made them native
# (5.1 already for update_session_auth_hash, which moved to the native session API).
AUTH_FUNCTIONS: dict[str, Twin] = {
    **_twins("authenticate login logout get_user", (5, 0, 0), delegates_until=(5, 1, 99)),
    # 5.1–5.2's native twin reads `request.user` synchronously and raises (ticket #36561,
    # fixed in 6.0).
    **_twins(
        "update_session_auth_hash", (5, 0, 0), delegates_until=(5, 0, 99), broken=((5, 1, 0), (5, 2, 99))
    ),
}
# Methods of the user model and its manager (django/contrib/auth/base_user.py, models.py).
# All native (no delegation) from the start.
USER_METHODS: dict[str, Twin] = {
    **_twins("check_password", (5, 0, 0), delegates_until=(0, 0, 0)),
    **_twins(
        "has_perm has_perms has_module_perms get_all_permissions get_user_permissions"
        " get_group_permissions",
        (5, 2, 0),
        delegates_until=(0, 0, 0),
    ),
}
USER_MANAGER_METHODS: dict[str, Twin] = _twins(
    "create_user create_superuser get_by_natural_key", (5, 2, 0), delegates_until=(0, 0, 0)
)

# SessionBase (django/contrib/sessions/backends/base.py): native async methods since 5.1
# (release notes: "asynchronous API for sessions"), the store's persistence methods included.
SESSION_METHODS: dict[str, Twin] = _twins(
    "get pop setdefault update has_key keys values items set_test_cookie test_cookie_worked"
    " delete_test_cookie get_expiry_age get_expiry_date set_expiry get_expire_at_browser_close"
    " flush cycle_key save delete exists create load",
    (5, 1, 0),
)
SESSION_SINCE: Version = (5, 1, 0)
# Every session coroutine: the method twins, and `aset` for `session[key] = value`.
SESSION_COROUTINES = frozenset({twin.twin for twin in SESSION_METHODS.values()} | {"aset"})

# BaseCache (django/core/cache/backends/base.py): async methods since 4.0; the simple ones are
# `sync_to_async` of the sync method, the composite ones loops over other async methods (see
# NATIVE_INHERITED_TWINS).
CACHE_METHODS: dict[str, Twin] = _twins(
    "add get set touch delete get_many get_or_set has_key incr decr set_many delete_many"
    " clear incr_version decr_version close",
    (4, 0, 0),
)


# Django classes users subclass, and the sync methods whose async twin, as the class inherits it,
# never reaches `self.<sync>` (it is native, or built on other async methods): an override of
# one of these is skipped by async callers (ASL307).  Read from each class's source in Django
# 4.2, 5.0, 5.1 and 5.2 (`django/core/cache/backends/`, `django/contrib/sessions/backends/`,
# `django/db/models/query.py`),
# following `self.<method>` calls through the class: the cache sets are the same in every one
# of them (`aget_many()` loops over `aget()`, `aincr()` is `aget()` + `aset()`, `aclose()` is
# empty; DatabaseCache's `get()` itself calls `get_many()`, which its `aget_many()` reaches that
# way); sessions have async methods since 5.1, native in the base and in every backend
# (`db.SessionStore.asave()` calls `acreate_model_instance()`, not `create_model_instance()`).
# Newer Django is taken to be as 5.2.
_CACHE_SKIPPED = frozenset("close decr decr_version delete_many get_many get_or_set has_key incr incr_version set_many".split())
_SESSION_SKIPPED = frozenset(
    "clear_expired cycle_key delete_test_cookie flush get get_expire_at_browser_close get_expiry_age get_expiry_date has_key"
    " items keys pop set_expiry set_test_cookie setdefault test_cookie_worked update values".split()
)
_STORE_SKIPPED = _SESSION_SKIPPED | {"create", "delete", "exists", "load", "save"}
NATIVE_INHERITED_TWINS: dict[str, tuple[Version, frozenset[str]]] = {
    **{
        f"django.core.cache.backends.{name}": ((4, 0, 0), _CACHE_SKIPPED)
        for name in (
            "base.BaseCache", "db.BaseDatabaseCache", "dummy.DummyCache", "filebased.FileBasedCache",
            "locmem.LocMemCache", "memcached.BaseMemcachedCache", "memcached.PyLibMCCache",
            "memcached.PyMemcacheCache", "redis.RedisCache",
        )
    },
    "django.core.cache.backends.db.DatabaseCache": ((4, 0, 0), _CACHE_SKIPPED - {"get_many"}),
    # QuerySet.aiterator() streams on its own; every other async method runs the sync one.
    "django.db.models.QuerySet": ((4, 1, 0), frozenset({"iterator"})),
    "django.db.models.query.QuerySet": ((4, 1, 0), frozenset({"iterator"})),
    "django.contrib.sessions.backends.base.SessionBase": ((5, 1, 0), _SESSION_SKIPPED),
    "django.contrib.sessions.backends.db.SessionStore": ((5, 1, 0), _STORE_SKIPPED | {"create_model_instance"}),
    "django.contrib.sessions.backends.cached_db.SessionStore": ((5, 1, 0), _STORE_SKIPPED | {"create_model_instance"}),
    "django.contrib.sessions.backends.cache.SessionStore": ((5, 1, 0), _STORE_SKIPPED),
    "django.contrib.sessions.backends.file.SessionStore": ((5, 1, 0), _SESSION_SKIPPED - {"get", "get_expiry_age"}),
    "django.contrib.sessions.backends.signed_cookies.SessionStore": ((5, 1, 0), _SESSION_SKIPPED - {"cycle_key"}),
}

# Signal.asend()/asend_robust() since 5.0 (django/dispatch/dispatcher.py).
SIGNAL_METHODS: dict[str, Twin] = _twins("send send_robust", (5, 0, 0))

# Module functions with twins: the shortcuts since 5.0 (django/shortcuts.py).
SHORTCUT_FUNCTIONS: dict[str, Twin] = {
    "django.shortcuts.get_object_or_404": Twin("get_object_or_404", "aget_object_or_404", (5, 0, 0)),
    "django.shortcuts.get_list_or_404": Twin("get_list_or_404", "aget_list_or_404", (5, 0, 0)),
    "django.db.models.prefetch_related_objects": Twin(
        "prefetch_related_objects", "aprefetch_related_objects", (5, 0, 0)
    ),
    "django.db.models.query.prefetch_related_objects": Twin(
        "prefetch_related_objects", "aprefetch_related_objects", (5, 0, 0)
    ),
}
AUTH_MODULES = ("django.contrib.auth",)

# django.core.mail: blocking SMTP with no async twin and no async guard (no exception: they
# just stall the loop).
MAIL_FUNCTIONS = frozenset(
    f"django.core.mail.{n}" for n in ("send_mail", "send_mass_mail", "mail_admins", "mail_managers")
)
EMAIL_MESSAGE_CLASSES = frozenset(
    f"django.core.mail{m}.{n}"
    for m in ("", ".message")
    for n in ("EmailMessage", "EmailMultiAlternatives")
)

# django/db/transaction.py: every entry point into a transaction touches the connection,
# whose methods are `async_unsafe` (SynchronousOnlyOperation on the loop).
# (`non_atomic_requests` only marks a view, and `mark_for_rollback_on_error` touches the
# connection only on an exception: neither is listed.)
TRANSACTION_FUNCTIONS = frozenset(
    f"django.db.transaction.{n}"
    for n in (
        "atomic", "savepoint", "savepoint_commit", "savepoint_rollback", "commit", "rollback",
        "set_autocommit", "get_autocommit", "on_commit", "get_rollback", "set_rollback",
    )
)

# django/core/paginator.py: the sync Paginator, and AsyncPaginator since 6.0 (release notes).
PAGINATOR_CLASSES = frozenset({"django.core.paginator.Paginator"})
ASYNC_PAGINATOR_SINCE: Version = (6, 0, 0)

# Twins used only to read sync/async twin pairs alike (ASL5): calls no ASL1 rule rewrites.
# Async generators (`async for`, never `await`).
ASYNC_GENERATOR_METHODS: dict[str, Twin] = {
    "iterator": Twin("iterator", "aiterator", (4, 1, 0)),
    "get_elided_page_range": Twin("get_elided_page_range", "aget_elided_page_range", (6, 0, 0)),
}
# AsyncPaginator / AsyncPage methods (6.0).
PAGINATOR_METHODS: dict[str, Twin] = _twins(
    "validate_number page get_page has_next has_previous has_other_pages next_page_number"
    " previous_page_number start_index end_index",
    (6, 0, 0),
)
# django.tasks (new in 6.0): Task.aenqueue() and friends.
TASK_METHODS: dict[str, Twin] = _twins("enqueue get_result call refresh", (6, 0, 0))
# django.test.Client: alogin(), aforce_login(), alogout() since 5.0 (release notes).
CLIENT_METHODS: dict[str, Twin] = _twins("login force_login logout", (5, 0, 0))

# Names that bind a cache: `from django.core.cache import cache`, `caches["x"]`.
CACHE_OBJECTS = frozenset({"django.core.cache.cache"})
# django/core/files/storage: blocking file I/O with no async API in any version.
STORAGE_OBJECTS = frozenset({"django.core.files.storage.default_storage"})
STORAGE_HANDLERS = frozenset({"django.core.files.storage.storages"})
# InMemoryStorage (4.2) keeps files in memory: no I/O, nothing to flag.
STORAGE_CLASSES = frozenset(
    {"django.core.files.storage.FileSystemStorage", "django.core.files.storage.filesystem.FileSystemStorage"}
)
STORAGE_METHODS = frozenset(
    "save open delete exists size listdir get_accessed_time get_created_time get_modified_time".split()
)
# django/db/models/fields/files.py: FieldFile methods and properties that reach the storage.
FIELD_FILE_METHODS = frozenset({"open", "read", "save", "delete", "chunks", "readline", "readlines"})
FIELD_FILE_PROPERTIES = frozenset({"size"})
CACHE_HANDLERS = frozenset({"django.core.cache.caches"})

# Django's own Signal instances (every `Signal` has the 5.0 twins; project signals come from the index).
BUILTIN_SIGNALS = frozenset(
    f"{module}.{name}"
    for module, names in {
        "django.db.models.signals": "class_prepared pre_init post_init pre_save post_save"
        " pre_delete post_delete m2m_changed pre_migrate post_migrate",
        "django.core.signals": "request_started request_finished got_request_exception setting_changed",
        "django.test.signals": "setting_changed template_rendered",
        "django.contrib.auth.signals": "user_logged_in user_login_failed user_logged_out",
        "django.db.backends.signals": "connection_created",
    }.items()
    for name in names.split()
)
SIGNAL_CLASSES = frozenset({"django.dispatch.Signal", "django.dispatch.dispatcher.Signal"})

# asgiref/channels helpers that move a sync callable off the loop.
SYNC_TO_ASYNC = frozenset(
    {
        "asgiref.sync.sync_to_async",
        "asgiref.sync.SyncToAsync",
        "channels.db.database_sync_to_async",
    }
)

# Under other names (an import without asgiref, a shadowed import) the helpers are still read
# as what they are called.
SYNC_TO_ASYNC_NAMES = frozenset({"sync_to_async", "database_sync_to_async"})
ASYNC_TO_SYNC = frozenset({"asgiref.sync.async_to_sync", "asgiref.sync.AsyncToSync"})
# Standard-library ways to run a sync callable in a thread: `asyncio.to_thread(f, *args)`.
TO_THREAD = frozenset({"asyncio.to_thread"})

# -- one operation, two spellings: the names that translate async code to sync code -------------
# Used wherever async code is read as, or written into, its sync form: the ASL5 comparison,
# ASL501's regenerated twin and ASL303's generated sync method.

# Every Django method with an async twin, by the twin's name: `await x.aget()` is `x.get()`.
ASYNC_METHOD_NAMES: dict[str, str] = {
    t.twin: t.sync
    for table in (
        QUERYSET_METHODS, RELATED_MANAGER_METHODS, MODEL_METHODS, USER_METHODS, USER_MANAGER_METHODS,
        SESSION_METHODS, CACHE_METHODS, SIGNAL_METHODS, ASYNC_GENERATOR_METHODS, PAGINATOR_METHODS,
        TASK_METHODS, CLIENT_METHODS,
    )
    for t in table.values()
}
# Django's module functions with an async twin, by qualified name: async → sync.
ASYNC_FUNCTION_NAMES: dict[str, str] = {
    **{f"{module}.{t.twin}": f"{module}.{t.sync}" for module in AUTH_MODULES for t in AUTH_FUNCTIONS.values()},
    **{qualname.rsplit(".", 1)[0] + "." + t.twin: qualname for qualname, t in SHORTCUT_FUNCTIONS.items()},
}
# Python's own protocol names (builtins, dunder methods, typing and collections.abc classes).
PYTHON_ASYNC_NAMES: dict[str, str] = {
    "StopAsyncIteration": "StopIteration",
    "aiter": "iter",
    "anext": "next",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "AsyncIterator": "Iterator",
    "AsyncIterable": "Iterable",
    "AsyncGenerator": "Generator",
    "AsyncExitStack": "ExitStack",
    "enter_async_context": "enter_context",
    "asynccontextmanager": "contextmanager",
}
# Library functions and classes whose async form has another qualified name.
ASYNC_LIBRARY_NAMES: dict[str, str] = {
    "asyncio.sleep": "time.sleep",
    "aiofiles.open": "open",
    "httpx.AsyncClient": "httpx.Client",
    "httpx.AsyncHTTPTransport": "httpx.HTTPTransport",
    "asyncio.Lock": "threading.Lock",
    "asyncio.Event": "threading.Event",
    "asyncio.Semaphore": "threading.Semaphore",
    "asyncio.Queue": "queue.Queue",
    "asyncio.TimeoutError": "TimeoutError",
    "contextlib.AsyncExitStack": "contextlib.ExitStack",
    "contextlib.asynccontextmanager": "contextlib.contextmanager",
}

MODEL_BASE = "django.db.models.Model"
MANAGER_BASES = frozenset(
    {
        "django.db.models.Manager",
        "django.db.models.manager.Manager",
        "django.db.models.manager.BaseManager",
        "django.contrib.auth.models.UserManager",
        "django.contrib.auth.base_user.BaseUserManager",
        "django.contrib.auth.models.BaseUserManager",
    }
)
USER_MANAGER_BASES = frozenset(
    {
        "django.contrib.auth.models.UserManager",
        "django.contrib.auth.base_user.BaseUserManager",
        "django.contrib.auth.models.BaseUserManager",
    }
)
QUERYSET_BASES = frozenset({"django.db.models.QuerySet", "django.db.models.query.QuerySet"})
HTTP_REQUEST_CLASSES = frozenset(
    {
        "django.http.HttpRequest",
        "django.http.request.HttpRequest",
        "django.core.handlers.asgi.ASGIRequest",
        "django.core.handlers.wsgi.WSGIRequest",
    }
)
GET_USER_MODEL = frozenset({"django.contrib.auth.get_user_model"})
# The app registry's lookup of a model by name (django/apps/registry.py, `Apps.get_model`).
GET_MODEL = frozenset({"django.apps.apps.get_model", "django.apps.registry.apps.get_model"})

# -- ASL3: sync/async method pairs Django calls for you -----------------------------------------

# Model's a-twins since 4.2 are `sync_to_async(self.<sync>)` (django/db/models/base.py), so an override of the sync
# method runs (in a thread); an override of only the a-twin is skipped by sync callers.  The
# keyword parameters each twin passes on.
MODEL_TWIN_SINCE: Version = (4, 2, 0)
MODEL_METHOD_PARAMETERS: dict[str, frozenset[str]] = {
    "save": frozenset({"force_insert", "force_update", "using", "update_fields"}),
    "delete": frozenset({"using", "keep_parents"}),
    "refresh_from_db": frozenset({"using", "fields", "from_queryset"}),
}
# django/contrib/auth/backends.py (5.2): the backend a-methods that are native re-implementations, so a subclass's
# override of the sync method is skipped on the async path.  BaseBackend's aauthenticate,
# aget_user, aget_user_permissions and aget_group_permissions delegate (`sync_to_async(self.x)`).
AUTH_BACKEND_TWIN_SINCE: Version = (5, 2, 0)
BASE_BACKEND = "django.contrib.auth.backends.BaseBackend"
MODEL_BACKENDS = frozenset(
    f"django.contrib.auth.backends.{n}"
    for n in ("ModelBackend", "AllowAllUsersModelBackend", "RemoteUserBackend", "AllowAllUsersRemoteUserBackend")
)
BACKEND_METHODS = frozenset(
    "authenticate get_user get_user_permissions get_group_permissions get_all_permissions"
    " has_perm has_module_perms".split()
)
BASE_BACKEND_NATIVE = frozenset({"get_all_permissions", "has_perm"})
# BaseBackend has no has_module_perms/ahas_module_perms: the async module-permission check
# (models.py `_auser_has_module_perms`) skips backends without `ahas_module_perms`.
BASE_BACKEND_WITHOUT_TWIN = frozenset({"has_module_perms"})
# django/contrib/auth/models.py (5.2): UserManager's acreate_user/acreate_superuser go to `_acreate_user` (native);
# BaseUserManager/GroupManager.aget_by_natural_key is `self.aget(...)` (5.2).
USER_MANAGER_CLASSES = frozenset({"django.contrib.auth.models.UserManager"})
NATURAL_KEY_MANAGER_CLASSES = frozenset(
    {
        "django.contrib.auth.models.UserManager",
        "django.contrib.auth.base_user.BaseUserManager",
        "django.contrib.auth.models.BaseUserManager",
        "django.contrib.auth.models.GroupManager",
    }
)
USER_MANAGER_OVERRIDES: dict[str, str] = {
    "create_user": "acreate_user",
    "create_superuser": "acreate_superuser",
    "_create_user": "_acreate_user",
}
# django/contrib/auth/models.py: PermissionsMixin's a-methods (5.2) ask the backends, never the sync override;
# AbstractBaseUser.acheck_password (5.0) hashes natively.
USER_PERMISSION_METHODS = frozenset(
    "has_perm has_perms has_module_perms get_all_permissions get_user_permissions"
    " get_group_permissions".split()
)
PERMISSIONS_MIXINS = frozenset(
    {"django.contrib.auth.models.PermissionsMixin", "django.contrib.auth.models.AbstractUser"}
)
CHECK_PASSWORD_SINCE: Version = (5, 0, 0)

# -- ASL4: middleware and class-based views ------------------------------------------------------

# Flags read from the middleware factory (BaseHandler.load_middleware, django/core/handlers/
# base.py); defaults sync_capable=True, async_capable=False (django/utils/decorators.py).
MIDDLEWARE_MIXIN = "django.utils.deprecation.MiddlewareMixin"
MIDDLEWARE_FLAG_DECORATORS: dict[str, tuple[bool, bool]] = {  # (sync_capable, async_capable)
    "django.utils.decorators.sync_only_middleware": (True, False),
    "django.utils.decorators.async_only_middleware": (False, True),
    "django.utils.decorators.sync_and_async_middleware": (True, True),
}
# markcoroutinefunction/iscoroutinefunction are in asgiref from 3.6, which Django requires
# from 4.2; before that Django marked with `_is_coroutine = asyncio.coroutines._is_coroutine`.
MARK_COROUTINE_SINCE: Version = (4, 2, 0)
MARK_COROUTINE_FUNCTIONS = frozenset({"asgiref.sync.markcoroutinefunction", "inspect.markcoroutinefunction"})
IS_COROUTINE_FUNCTIONS = frozenset(
    {"asgiref.sync.iscoroutinefunction", "inspect.iscoroutinefunction", "asyncio.iscoroutinefunction"}
)
LEGACY_COROUTINE_MARKER = "asyncio.coroutines._is_coroutine"
# Async class-based view handlers (View.view_is_async, 4.1 release notes); method_decorator keeps an
# async method async since 5.2.
ASYNC_VIEW_HANDLERS_SINCE: Version = (4, 1, 0)
ASYNC_METHOD_DECORATOR_SINCE: Version = (5, 2, 0)
METHOD_DECORATOR = "django.utils.decorators.method_decorator"
