from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The most parameters of a statement whose parsed form psycopg keeps (its default: 50). A lead's INSERT has
# 62, so psycopg split its text anew on every creation (≈ 0.2 ms); statements with more parameters than this
# (bulk inserts of many rows) are still parsed each time, as psycopg intends.
STATEMENT_CACHE_PARAMS = 128


def cache_wide_statements() -> None:
    """Let psycopg keep the parsed form of statements of up to ``STATEMENT_CACHE_PARAMS`` parameters (its
    cache stays bounded: 128 statements, least recently used first out)."""
    try:
        from psycopg import _queries
    except ImportError:  # SQLite only: no psycopg installed
        return
    if getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", STATEMENT_CACHE_PARAMS) < STATEMENT_CACHE_PARAMS:
        _queries.MAX_CACHED_STATEMENT_PARAMS = STATEMENT_CACHE_PARAMS


class CoreConfig(AppConfig):
    name = "pheu.core"
    verbose_name = _("Core")

    def ready(self) -> None:
        cache_wide_statements()
