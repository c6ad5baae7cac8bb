"""``madoguchi-demo``: the README's one command. A demo server on this machine, and the client.

Steps: data folder ``./var/demo`` in demo mode → migrate → seed (082104 下妻市, users demo and
demo-admin) → start the server on http://127.0.0.1:8765 → start the counter client if there is a
display and the client is installed; otherwise print the address and the demo credentials and
keep the server running until Ctrl-C.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
PORT = 8765
URL = f"http://{HOST}:{PORT}"
LG_CODE = "082104"


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "MADOGUCHI_DATA_DIR": str(data_dir),
            "MADOGUCHI_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'madoguchi.db'}",
            "MADOGUCHI_DEMO": "1",
        }
    )
    return env


def has_display() -> bool:
    """True on Windows and macOS, and on Linux when an X11 or Wayland display is set."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def client_available() -> bool:
    try:
        importlib.import_module("client")
    except Exception:
        return False
    return True


def _wait_healthy(proc: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{URL}/api/v1/health", timeout=1) as answer:  # noqa: S310 - fixed local URL
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


def _server(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "server", *args], env=env, check=True)  # noqa: S603


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Start the demo (see module docstring)."""
    signal.signal(signal.SIGTERM, _interrupt)  # stop the server child on TERM as on Ctrl-C
    data_dir = Path("var/demo").resolve()
    env = _env(data_dir)
    print(f"デモ環境を準備しています ({data_dir}) …")
    try:
        _server("db", "upgrade", env=env)
        _server("demo", "seed", env=env)
    except subprocess.CalledProcessError:
        print("デモ環境の準備に失敗しました。上のメッセージを確認してください。", file=sys.stderr)
        sys.exit(1)
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "server", "run", "--host", HOST, "--port", str(PORT)], env=env
    )
    try:
        if not _wait_healthy(server):
            print(f"サーバーを起動できませんでした (ポート {PORT} が使用中かもしれません)。", file=sys.stderr)
            sys.exit(1)
        print(f"サーバーを起動しました: {URL}")
        print(f"団体コード {LG_CODE} (下妻市) / 職員 demo / 管理者 demo-admin / パスワード madoguchi-demo")
        if has_display() and client_available():
            print("窓口クライアントを起動します …")
            subprocess.run(  # noqa: S603
                [sys.executable, "-m", "client", "--server", URL, "--lg-code", LG_CODE], check=False
            )
        else:
            print("画面がないため、クライアントは起動しません。Ctrl-C でサーバーを停止します。")
            server.wait()
    except KeyboardInterrupt:
        print("\n停止します。")
    finally:
        _stop(server)


if __name__ == "__main__":
    main()
