"""The maintained list of public e-mail providers.

Two addresses at the same *company* domain hint at the same company; at a public provider they say nothing,
so duplicate detection ignores these domains. Keep the list sorted; add a provider when a customer base shows
one (regional providers matter: Vietnam's and its neighbours' are listed too).
"""

from __future__ import annotations

PUBLIC_EMAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "163.com",
        "aim.com",
        "aol.com",
        "fastmail.com",
        "fpt.vn",
        "gmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hanmail.net",
        "hey.com",
        "hotmail.co.uk",
        "hotmail.com",
        "hotmail.fr",
        "icloud.com",
        "live.com",
        "mac.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "naver.com",
        "outlook.com",
        "pm.me",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "rocketmail.com",
        "tutanota.com",
        "vnn.vn",
        "web.de",
        "yahoo.co.jp",
        "yahoo.co.uk",
        "yahoo.com",
        "yahoo.com.vn",
        "yahoo.fr",
        "yandex.com",
        "yandex.ru",
        "ymail.com",
        "zing.vn",
        "zoho.com",
    }
)


def is_public_domain(domain: str) -> bool:
    """Is ``domain`` (lower-case, as ``pheu.lib.emails.email_domain`` gives it) a public provider's?"""
    return domain in PUBLIC_EMAIL_DOMAINS
