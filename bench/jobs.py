"""The small job of ``bench workers``, in a module of its own: the workers import it by its path, and it is
imported once Django is set up (a task is checked against the configured backends when it is made)."""

from __future__ import annotations

from django_tasks import task


@task()
def small_job_task(number: int) -> str:
    """One contact's keys: the kind of small job the worker runs by the thousand after an import."""
    from pheu.lib.emails import email_key
    from pheu.lib.phones import phone_e164_or_empty
    from pheu.lib.text import text_key

    phone = phone_e164_or_empty(f"09{number % 100_000_000:08d}", "VN")
    return f"{phone} {email_key(f'Khach.{number}@Example.VN')} {text_key(f'Nguyễn Văn {number}')}"
