"""The README says what the code does: its table of bounds is the one the code checks, and
the bounds it names are those of --help and the web page."""

from __future__ import annotations

from tests.conftest import ROOT


def test_the_readme_table_of_bounds_is_the_code_s():
    from grandstaff.bounds import bounds_table

    assert bounds_table() in (ROOT / "README.md").read_text()


def test_help_and_the_page_name_the_same_bounds(capsys):
    from grandstaff.bounds import MAX_TEMPERATURE, MAX_TEMPO, MIN_TEMPERATURE, MIN_TEMPO
    from grandstaff.cli import main

    assert main(["compose", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert f"{MIN_TEMPO:g} to {MAX_TEMPO:g}" in shown
    assert f"from {MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g}" in shown
    assert "--list-rules" in shown


def test_the_page_s_inputs_carry_the_page_s_bounds():
    import re

    from grandstaff import bounds

    page = (ROOT / "src" / "grandstaff" / "serving" / "page.html").read_text()

    def limits(name: str) -> tuple[str, str]:
        tag = re.search(rf'<input id="{name}"[^>]*>', page).group(0)
        return re.search(r'min="([^"]+)"', tag).group(1), re.search(r'max="([^"]+)"',
                                                                    tag).group(1)

    assert limits("bars") == ("1", str(bounds.PAGE_MAX_BARS))
    assert limits("candidates") == ("1", str(bounds.PAGE_MAX_CANDIDATES))
    assert limits("tempo") == (f"{bounds.MIN_TEMPO:g}", f"{bounds.MAX_TEMPO:g}")
    assert limits("variant-tempo") == (f"{bounds.MIN_TEMPO:g}", f"{bounds.MAX_TEMPO:g}")
    assert limits("temperature") == (f"{bounds.MIN_TEMPERATURE:g}",
                                     f"{bounds.MAX_TEMPERATURE:g}")


def test_no_command_shows_the_help_and_says_so(capsys):
    from grandstaff.cli import main

    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err
