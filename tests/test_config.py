"""The settings file: parsing, the errors it gives, `set_mode`, and where state lives."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from gatekeeper.core.policy import PolicySettings
from gatekeeper.errors import ConfigError
from gatekeeper.mail.config import (
    FLAT_KEYS,
    AccountConfig,
    Settings,
    default_config_text,
    load_settings,
    parse_settings,
    paths,
    set_mode,
    set_statements,
)
from gatekeeper.mail.mailbox import BACKENDS, ImapSettings, MaildirSettings

ACCOUNT = """
[[accounts]]
name = "personal"
held_folder = "Review"
poll_seconds = 30
[accounts.imap]
host = "imap.example.org"
port = 143
username = "me@example.org"
security = "starttls"
password_command = "pass show mail/personal"
idle = false
"""

# The same account as files written before backends had their own sections hold it.
FLAT_ACCOUNT = """
[[accounts]]
name = "personal"
kind = "imap"
host = "imap.example.org"
port = 143
username = "me@example.org"
security = "starttls"
password_command = "pass show mail/personal"
maildir = ""
held_folder = "Review"
idle = false
poll_seconds = 30
"""

PARSED = AccountConfig(
    "personal", ImapSettings(host="imap.example.org", port=143, username="me@example.org",
                             security="starttls", password_command="pass show mail/personal",
                             idle=False),
    held_folder="Review", poll_seconds=30)

IMAP_KEYS = set(FLAT_KEYS["imap"])


def _toml(values: dict) -> list[str]:
    return [f"{key} = {value!r}".replace("'", '"') if isinstance(value, str)
            else f"{key} = {str(value).lower()}" for key, value in values.items()
            if value is not None]


def account_block(**fields) -> str:
    """An [[accounts]] block with these fields (strings quoted, the rest as TOML), the
    IMAP ones in its [accounts.imap] section."""
    values = {"name": "personal", "host": "imap.example.org", "username": "me", **fields}
    shared = {k: v for k, v in values.items() if k not in IMAP_KEYS}
    imap = {k: v for k, v in values.items() if k in IMAP_KEYS}
    return ("[[accounts]]\n" + "\n".join(_toml(shared)) + "\n[accounts.imap]\n"
            + "\n".join(_toml(imap)) + "\n")


def flat_account_block(**fields) -> str:
    """An [[accounts]] block in the flat shape of older files: every field beside name."""
    values = {"name": "personal", "host": "imap.example.org", "username": "me", **fields}
    return "[[accounts]]\n" + "\n".join(_toml(values)) + "\n"


# -- the shipped default ------------------------------------------------------------------
def test_the_shipped_default_is_shadow_mode_with_no_accounts():
    settings = parse_settings(default_config_text())
    assert settings.mode == "shadow"
    assert settings.accounts == ()


def test_the_shipped_default_documents_the_code_defaults():
    """Every value the default file shows is the value used when it is left out."""
    assert parse_settings(default_config_text()) == Settings()
    assert parse_settings(default_config_text()).policy.screener_band == (0.25, 0.75)


def commented_example(first_line: str) -> str:
    """The default file's commented example that starts with this line (up to a bare "#"
    line or the end), uncommented."""
    lines = default_config_text().splitlines()
    start = lines.index(first_line)
    end = lines.index("#", start) if "#" in lines[start:] else len(lines)
    return "\n".join(line.removeprefix("# ") for line in lines[start:end]
                     if line.startswith("# "))


def test_the_commented_account_block_in_the_default_parses_to_the_account_defaults():
    (account,) = parse_settings(commented_example("# [[accounts]]")).accounts
    assert account == AccountConfig("personal", ImapSettings(host="imap.example.org",
                                                             username="me@example.org"))


def test_the_commented_maildir_section_in_the_default_parses_to_its_defaults():
    example = commented_example("# [accounts.maildir]")
    (account,) = parse_settings('[[accounts]]\nname = "local"\n' + example).accounts
    assert account == AccountConfig("local", MaildirSettings(path="~/Mail"))


def test_load_settings_without_a_file_gives_the_defaults():
    assert not paths().config_file.exists()
    assert load_settings() == Settings()


def test_load_settings_reads_the_file_and_names_it_in_errors():
    where = paths()
    where.config.mkdir(parents=True)
    where.config_file.write_text('mode = "tag"\n' + ACCOUNT)
    assert load_settings().mode == "tag"
    where.config_file.write_text('mode = "loud"\n')
    with pytest.raises(ConfigError, match=re.escape(str(where.config_file))):
        load_settings()


# -- a full account -----------------------------------------------------------------------
def test_an_account_block_parses_into_account_config():
    settings = parse_settings('mode = "active"\ninterests = ["rockets", "school"]\n' + ACCOUNT)
    assert settings.mode == "active"
    assert settings.interests == ("rockets", "school")
    assert settings.accounts == (PARSED,)
    assert settings.account("personal").kind == "imap"
    assert settings.account("personal").section(ImapSettings).port == 143


def test_a_maildir_account_needs_no_host():
    (account,) = parse_settings('[[accounts]]\nname = "local"\n'
                                '[accounts.maildir]\npath = "~/Mail"\n').accounts
    assert account == AccountConfig("local", MaildirSettings(path="~/Mail"))
    assert account.kind == "maildir"
    with pytest.raises(ConfigError, match="a maildir account has no ImapSettings"):
        account.section(ImapSettings)


# -- files in the flat shape of older versions --------------------------------------------
def test_a_flat_imap_account_of_an_older_file_reads_as_its_section():
    assert parse_settings(FLAT_ACCOUNT).accounts == (PARSED,)
    assert parse_settings(FLAT_ACCOUNT.replace('kind = "imap"\n', "")).accounts == (PARSED,)


def test_a_flat_maildir_account_of_an_older_file_reads_as_its_section():
    old = ('[[accounts]]\nname = "local"\nkind = "maildir"\nmaildir = "~/Mail"\n'
           'host = ""\nport = 993\nidle = true\npoll_seconds = 5\n')  # IMAP's, unused
    assert parse_settings(old).accounts == (
        AccountConfig("local", MaildirSettings(path="~/Mail"), poll_seconds=5),)


def test_a_flat_file_written_by_init_before_loads_and_takes_a_new_account(tmp_path):
    """A settings file as `gatekeeper init` wrote it before: it loads, and adding an
    account (written in sections) keeps the old one as it was."""
    from gatekeeper.mail.onboarding import add_account

    text = default_config_text() + "\n" + FLAT_ACCOUNT
    added = add_account(text, AccountConfig("local", MaildirSettings(path="/m")))
    assert added.startswith(text)
    assert parse_settings(added).accounts == (
        PARSED, AccountConfig("local", MaildirSettings(path="/m")))


def test_a_setting_given_both_flat_and_in_its_section_is_an_error():
    with pytest.raises(ConfigError, match="host is given twice"):
        parse_settings(ACCOUNT.replace("[accounts.imap]", 'host = "other.example.org"\n'
                                                          "[accounts.imap]"))


def test_every_registered_backend_writes_and_reads_back_its_account():
    """`gatekeeper init`'s block, for each kind in the registry, parses to the account."""
    from gatekeeper.mail.onboarding import account_block as written

    examples = {"imap": ImapSettings(host="h.example", username="u", idle=False),
                "maildir": MaildirSettings(path="~/Mail")}
    assert set(examples) == set(BACKENDS)
    for kind, section in examples.items():
        account = AccountConfig("a", section, held_folder="Review")
        assert account.kind == kind
        assert parse_settings(written(account)).accounts == (account,)
        assert f"[accounts.{kind}]" in written(account)


def test_policy_settings_are_read_with_the_screener_band_as_a_tuple():
    settings = parse_settings("[policy]\nprobe_share = 0.0\nscreener_band = [0.1, 0.9]\n")
    assert settings.policy == PolicySettings(probe_share=0.0, screener_band=(0.1, 0.9))


def test_asking_for_an_unknown_account_lists_the_known_ones():
    settings = parse_settings(ACCOUNT)
    with pytest.raises(ConfigError, match="no account named 'work'; known: personal"):
        settings.account("work")


# -- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "message"), [
    ('mode = "shadow"\ncolour = "blue"\n', "unknown setting(s) colour"),
    ("[policy]\nprobe_chance = 0.1\n", "[policy]: unknown setting(s) probe_chance"),
    (account_block(hots="imap.example.org"), "#1: unknown setting(s) hots"),
    (account_block(backend="imap"), "#1: unknown setting(s) backend; known: archive_folder"),
    ('mode = "loud"\n', "mode must be one of shadow, tag, active, not 'loud'"),
    ('embedder = "word2vec"\n',
     "embedder must be one of onnx, sentence-transformers, not 'word2vec'"),
    ('model = 5\n', "model must be the path of a folder"),
    (account_block(security="ssl"), "(personal): security must be one of tls, starttls, plain"),
    (account_block(auth="kerberos"), "(personal): auth must be one of password, oauth2"),
    (account_block(kind="pop3"), "#1: kind must be one of imap, maildir, not 'pop3'"),
    (account_block(kind="maildir"),
     "of kind maildir: its section is [accounts.maildir], not [accounts.imap]"),
    (account_block() + "[accounts.maildir]\npath = \"/m\"\n",
     "of kind imap: its section is [accounts.imap], not [accounts.maildir]"),
    (account_block(hots="x"), "#1: unknown setting(s) hots; known: archive_folder, "
     "fetch_bytes, held_folder, inbox, junk_folder, name, poll_seconds, sent_folder, "
     "trash_folder; and its section, [accounts.imap] or [accounts.maildir]"),
    (account_block() + "colour = 1\n", "#1 [accounts.imap]: unknown setting(s) colour"),
    ('[[accounts]]\nname = "l"\n[accounts.maildir]\n', "(l): a maildir account needs path"),
    (flat_account_block(kind="maildir"), "(personal): a maildir account needs path"),
    (flat_account_block(security="ssl"), "(personal): security must be one of"),
    (account_block(host=None), "(personal): an imap account needs host and username"),
    (account_block(username=None), "(personal): an imap account needs host and username"),
    (account_block(host=""), "(personal): an imap account needs host and username"),
    (account_block(auth="oauth2"), "(personal): oauth2 needs oauth_token_command"),
    (account_block(name=""), "#1: give the account a name"),
    (account_block(name=None), "missing 1 required positional argument: 'name'"),
    (account_block() + account_block(), "account names must be unique"),
    ('mode = "shadow\n', "is not valid TOML"),
    ('mode = "shadow"\nmode = "tag"\n', "is not valid TOML"),
])
def test_a_wrong_setting_is_a_config_error_naming_the_problem(text, message):
    with pytest.raises(ConfigError) as raised:
        parse_settings(text)
    assert message in str(raised.value)


def test_the_second_account_is_named_by_its_position():
    text = account_block() + account_block(name="work", security="ssl")
    with pytest.raises(ConfigError, match=re.escape("[[accounts]] #2 (work): security")):
        parse_settings(text)


def test_errors_name_the_source():
    with pytest.raises(ConfigError, match=r"^/etc/gk\.toml: mode must be"):
        parse_settings('mode = "x"\n', "/etc/gk.toml")


def test_interests_given_as_one_string_are_rejected():
    with pytest.raises(ConfigError, match="interests"):
        parse_settings('interests = "space exploration"\n')


def test_a_policy_that_is_not_a_table_is_a_config_error():
    with pytest.raises(ConfigError, match="policy"):
        parse_settings("policy = 5\n")


# -- set_mode -----------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["shadow", "tag", "active"])
def test_set_mode_changes_only_the_mode_line_of_the_default(mode):
    before = default_config_text()
    after = set_mode(before, mode)
    assert parse_settings(after).mode == mode
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(before.splitlines()) == len(after.splitlines())
    assert changed == ([] if mode == "shadow" else [('mode = "shadow"', f'mode = "{mode}"')])


def test_set_mode_keeps_comments_and_other_settings():
    text = ('# my settings\nmode = "shadow"  # start careful\ninterests = ["rockets"]\n'
            + ACCOUNT)
    after = set_mode(text, "active")
    assert after == text.replace('mode = "shadow"', 'mode = "active"')
    assert "# start careful" in after and "# my settings" in after
    assert parse_settings(after).accounts == parse_settings(text).accounts


def test_set_mode_adds_a_mode_line_when_there_is_none():
    text = "# nothing yet\n" + ACCOUNT
    after = set_mode(text, "tag")
    assert parse_settings(after).mode == "tag"
    assert after.endswith(text)


def test_set_mode_leaves_commented_out_mode_lines_alone():
    text = '# mode = "active"\nmode = "shadow"\n'
    assert set_mode(text, "tag") == '# mode = "active"\nmode = "tag"\n'


def test_set_mode_refuses_an_unknown_mode():
    with pytest.raises(ConfigError, match="mode must be one of shadow, tag, active"):
        set_mode(default_config_text(), "loud")


@pytest.mark.parametrize("line", ["mode = 'shadow'", '  mode = "shadow"'])
def test_set_mode_changes_any_valid_spelling_of_the_mode(line):
    text = f"{line}\nthreads = 1\n"
    assert tomllib.loads(text)["mode"] == "shadow"
    assert parse_settings(set_mode(text, "active")).mode == "active"


# -- paths ----------------------------------------------------------------------------------
def test_paths_live_under_gatekeeper_home(private_home):
    where = paths()
    assert (where.config, where.data, where.logs) == (
        private_home / "config", private_home / "data", private_home / "logs")
    assert where.config_file == private_home / "config" / "config.toml"
    assert where.database == private_home / "data" / "gatekeeper.db"
    assert where.status_file == private_home / "data" / "status.json"
    assert where.profile_dir("personal") == private_home / "data" / "profiles" / "personal"


def test_gatekeeper_home_may_start_with_a_tilde(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GATEKEEPER_HOME", "~/gk")
    assert paths().data == tmp_path / "gk" / "data"


def test_without_gatekeeper_home_the_platform_folders_are_used(monkeypatch, tmp_path):
    monkeypatch.delenv("GATEKEEPER_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    where = paths()
    assert all(Path(folder).is_relative_to(tmp_path)
               for folder in (where.config, where.data, where.logs))
    assert all("gatekeeper" in folder.parts for folder in (where.config, where.data, where.logs))


def test_set_statements_replaces_multi_line_arrays_and_keeps_the_rest():
    text = ('mode = "shadow"\ninterests = [\n  "old one",  # a comment\n  "old ] two",\n]\n'
            'threads = 2\n' + ACCOUNT)
    after = set_statements(text, ["rockets"], ["spam"])
    settings = parse_settings(after)
    assert (settings.interests, settings.disinterests, settings.threads) == (
        ("rockets",), ("spam",), 2)
    assert "old one" not in after and "old ] two" not in after and after.endswith(ACCOUNT)


def test_set_statements_leaves_account_tables_alone():
    text = 'mode = "shadow"\n' + ACCOUNT
    after = set_statements(text, ["a"], [])
    assert parse_settings(after).accounts == parse_settings(text).accounts
