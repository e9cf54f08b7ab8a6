"""Finding the IMAP server of an address, as a mail client does.

First a table of well-known providers, then the domain's DNS SRV records (RFC 6186:
`_imaps._tcp`, then `_imap._tcp`), then `imap.<domain>` on 993. DNS is asked with a short
deadline: no answer, no network or no dnspython is not an error, only a guess less.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import ConfigError

SRV_DEADLINE_SECONDS = 3.0  # both SRV lookups together: set-up must not wait on a dead resolver


@dataclass(frozen=True)
class Provider:
    """Where an address's mail is read, and how it was found."""

    host: str
    port: int = 993
    security: str = "tls"  # tls (IMAPS), starttls, or plain
    auth: str = "password"
    note: str = ""  # what the person must know about this provider (app passwords, OAuth2)
    found_by: str = "found in the table of well-known providers"


_GOOGLE = Provider("imap.gmail.com", auth="oauth2",
                   note="Gmail needs OAuth2 (--oauth-token-command) or an app password")
_MICROSOFT = Provider("outlook.office365.com", auth="oauth2",
                      note="Microsoft 365 and Outlook.com need OAuth2 (--oauth-token-command)")
_APPLE = Provider("imap.mail.me.com", note="iCloud needs an app-specific password "
                                           "(appleid.apple.com, Sign-In and Security)")
_YAHOO = Provider("imap.mail.yahoo.com", note="Yahoo needs an app password "
                                              "(Account security, Generate app password)")
_FASTMAIL = Provider("imap.fastmail.com", note="Fastmail needs an app password "
                                                "(Settings, Privacy & Security)")
_GMX = Provider("imap.gmx.net", note="GMX lets IMAP in only once it is switched on in its "
                                     "settings (POP3 & IMAP)")
_PROTON = Provider("127.0.0.1", 1143, "starttls",
                   note="Proton Mail is read through Proton Mail Bridge on this machine: use "
                        "the password the Bridge shows, and its certificate (Bridge settings, "
                        "Export TLS certificates) as the CA file")
PROVIDERS: dict[str, Provider] = {
    "gmail.com": _GOOGLE, "googlemail.com": _GOOGLE,
    "outlook.com": _MICROSOFT, "hotmail.com": _MICROSOFT, "live.com": _MICROSOFT,
    "msn.com": _MICROSOFT, "office365.com": _MICROSOFT, "hotmail.co.uk": _MICROSOFT,
    "outlook.de": _MICROSOFT, "hotmail.de": _MICROSOFT, "hotmail.fr": _MICROSOFT,
    "icloud.com": _APPLE, "me.com": _APPLE, "mac.com": _APPLE,
    "yahoo.com": _YAHOO, "ymail.com": _YAHOO, "rocketmail.com": _YAHOO,
    "yahoo.co.uk": _YAHOO, "yahoo.de": _YAHOO, "yahoo.fr": _YAHOO,
    "aol.com": Provider("imap.aol.com", note="AOL needs an app password"),
    "fastmail.com": _FASTMAIL, "fastmail.fm": _FASTMAIL,
    "gmx.net": _GMX, "gmx.de": _GMX, "gmx.at": _GMX, "gmx.ch": _GMX,
    "gmx.com": replace(_GMX, host="imap.gmx.com"),
    "web.de": Provider("imap.web.de", note="web.de lets IMAP in only once it is switched on "
                                           "in its settings (POP3/IMAP)"),
    "proton.me": _PROTON, "protonmail.com": _PROTON, "protonmail.ch": _PROTON,
    "pm.me": _PROTON,
    "zoho.com": Provider("imap.zoho.com"),
    "yandex.com": Provider("imap.yandex.com"), "yandex.ru": Provider("imap.yandex.ru"),
    "posteo.de": Provider("posteo.de"), "posteo.net": Provider("posteo.de"),
    "mailbox.org": Provider("imap.mailbox.org"),
}

# (service, security) in the order RFC 6186 prefers: implicit TLS first.
SRV_SERVICES = (("_imaps._tcp", "tls"), ("_imap._tcp", "starttls"))


@dataclass(frozen=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str  # "." (RFC 2782): the service is decidedly not offered


SrvLookup = Callable[[str, float], list[SrvRecord]]


def domain_of(address: str) -> str:
    """The domain of an email address, lower case; ConfigError when it is not one."""
    local, at, domain = address.strip().rpartition("@")
    domain = domain.strip().lower().rstrip(".")
    if not (at and local and domain and "." in domain and " " not in domain):
        raise ConfigError(f"{address!r} is not an email address (expected name@domain)")
    return domain


def known_provider(address: str) -> Provider | None:
    """The well-known provider of an address, None for any other domain."""
    return PROVIDERS.get(domain_of(address))


def find_server(address: str, lookup: SrvLookup | None = None) -> Provider:
    """The IMAP server for an address: a well-known provider, else the domain's SRV
    records, else imap.<domain> on 993 (IMAPS)."""
    domain = domain_of(address)
    if domain in PROVIDERS:
        return PROVIDERS[domain]
    lookup = lookup or dns_srv_records
    deadline = time.monotonic() + SRV_DEADLINE_SECONDS
    for service, security in SRV_SERVICES:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        records = [r for r in lookup(f"{service}.{domain}", left) if r.target not in ("", ".")]
        if records:
            # Lowest priority first; among equals, the heaviest (RFC 2782 draws by weight:
            # a person setting up one client gets the most likely one).
            best = min(records, key=lambda r: (r.priority, -r.weight))
            return Provider(best.target.rstrip("."), best.port, security,
                            found_by=f"found in the DNS SRV record {service}.{domain}")
    return Provider(f"imap.{domain}", found_by="guessed from the domain")


def dns_srv_records(name: str, timeout: float) -> list[SrvRecord]:
    """The SRV records of `name`; empty when there are none, DNS does not answer within
    `timeout` seconds, or dnspython is not installed."""
    try:
        import dns.resolver

        resolver = dns.resolver.Resolver()
        answer = resolver.resolve(name, "SRV", lifetime=timeout)
        return [SrvRecord(r.priority, r.weight, r.port, r.target.to_text()) for r in answer]
    except Exception:  # noqa: BLE001 -- any DNS failure is only a guess less
        return []
