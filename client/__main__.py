"""``madoguchi`` / ``python -m client``: start a counter, supervisor or kiosk terminal.

python -m client --mode counter --server http://127.0.0.1:8000 --lg-code 082104
"""

from __future__ import annotations

import argparse
import sys

from client.app.settings import ClientSettings, load_settings
from shared.api import StationMode


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="madoguchi", description="Madoguchi 窓口端末")
    p.add_argument("--mode", choices=[m.value for m in StationMode], help="起動時のモード")
    p.add_argument("--server", dest="server_url", help="サーバーのURL")
    p.add_argument("--lg-code", dest="lg_code", help="自治体コード（6桁）")
    p.add_argument("--data-dir", dest="data_dir", help="データフォルダー")
    p.add_argument("--station", help="端末プロファイル（counter / supervisor / kiosk）")
    return p.parse_args(argv)


def settings_from_args(args: argparse.Namespace) -> ClientSettings:
    """Settings with the command-line options on top of environment, settings.json and defaults."""
    settings = load_settings(
        server_url=args.server_url,
        lg_code=args.lg_code,
        data_dir=args.data_dir,
        station=args.station,
        mode=args.mode,
    )
    if args.mode and "station" not in settings.model_fields_set:
        # No station configured anywhere: the station profile of the same name as the mode.
        settings = settings.model_copy(update={"station": args.mode})
    return settings


def main(argv: list[str] | None = None) -> int:
    """Console script entry point."""
    from client.app.main import run

    settings = settings_from_args(parse_args(argv))
    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
