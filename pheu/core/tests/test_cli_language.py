"""The ``pheu`` command speaks the language of ``--lang`` or of the environment's locale, Vietnamese else."""

from __future__ import annotations

import pytest
from django.utils import translation

from pheu.cli import cli_language, main

BAD_RULE = "[['cuntry', '=', 'VN']]"


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["leads"], {}, (None, ["leads"])),
        (["leads"], {"LANG": "en_US.UTF-8"}, ("en", ["leads"])),
        (["leads"], {"LANG": "vi_VN.UTF-8"}, ("vi", ["leads"])),
        (["leads"], {"LANG": "en_US.UTF-8", "LC_ALL": "vi_VN"}, ("vi", ["leads"])),
        (["leads"], {"LANG": "en_US.UTF-8", "LC_ALL": "C"}, (None, ["leads"])),
        (["leads"], {"LANG": "fr_FR.UTF-8"}, (None, ["leads"])),
        (["--lang", "en", "leads"], {"LANG": "vi_VN.UTF-8"}, ("en", ["leads"])),
        (["--lang=vi", "leads"], {"LANG": "en_US.UTF-8"}, ("vi", ["leads"])),
        # A command's own --lang (the schema's) is left to it.
        (["spectacular", "--lang", "en"], {}, (None, ["spectacular", "--lang", "en"])),
    ],
)
def test_the_language_comes_from_lang_then_the_locale(argv, environ, expected):
    assert cli_language(argv, environ) == expected


def test_an_unknown_lang_is_refused_by_name():
    with pytest.raises(SystemExit, match="--lang 'fr'"):
        cli_language(["--lang", "fr", "leads"], {})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("argv", "environ", "words"),
    [
        (["leads", "--domain", BAD_RULE], {"LANG": "en_US.UTF-8"}, "Term 1: unknown field “cuntry”"),
        (["--lang", "en", "leads", "--domain", BAD_RULE], {"LANG": "vi_VN.UTF-8"}, "Term 1: unknown field"),
        (["leads", "--domain", BAD_RULE], {"LANG": "C.UTF-8"}, "Mục 1: không có trường “cuntry”"),
    ],
)
def test_a_command_s_messages_follow_the_language(argv, environ, words, monkeypatch, capsys):
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environ.items():
        monkeypatch.setenv(variable, value)
    with translation.override("vi"), pytest.raises(SystemExit):
        main(argv)
    assert words in capsys.readouterr().err
