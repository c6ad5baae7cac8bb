"""Command line of ``madoguchi`` / ``python -m client``."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.__main__ import parse_args, settings_from_args


def test_mode_selects_station_of_same_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--mode kiosk without a configured station uses the kiosk station profile."""
    monkeypatch.delenv("MADOGUCHI_CLIENT_STATION", raising=False)
    args = parse_args(
        ["--mode", "kiosk", "--server", "http://s:1", "--lg-code", "082104", "--data-dir", str(tmp_path)]
    )
    s = settings_from_args(args)
    assert (s.station, s.mode, s.server_url, s.lg_code, s.data_dir) == (
        "kiosk",
        "kiosk",
        "http://s:1",
        "082104",
        tmp_path,
    )


def test_configured_station_wins_over_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit --station, or one from the environment, is kept whatever --mode says."""
    args = parse_args(["--mode", "counter", "--station", "supervisor", "--data-dir", str(tmp_path)])
    assert settings_from_args(args).station == "supervisor"
    monkeypatch.setenv("MADOGUCHI_CLIENT_STATION", "supervisor")
    assert (
        settings_from_args(parse_args(["--mode", "counter", "--data-dir", str(tmp_path)])).station
        == "supervisor"
    )


def test_unknown_mode_is_refused() -> None:
    """Only counter, supervisor and kiosk are accepted as --mode."""
    with pytest.raises(SystemExit):
        parse_args(["--mode", "admin"])
