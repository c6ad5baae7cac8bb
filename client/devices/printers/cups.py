"""CUPS printer through the ``lp`` command (Debian ``cups-client``).

``lp`` is used instead of pycups because pycups is GPL-2.0+. The PDF goes to ``lp`` on standard
input; CUPS converts it for the printer (PDF is its native job format). Settings: ``queue`` (the
CUPS destination; empty = the default destination), ``media`` (A4, A3, B5 …; default: the paper of
the PDF is kept), ``options`` (more ``-o`` options, e.g. ``{"sides": "one-sided"}``), ``lp`` (the
command, default ``lp`` on PATH).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

from shared.errors import DeviceError
from shared.plugins import CheckResult

from .base import Printer, PrintJob
from .registry import registry

_JOB = re.compile(r"request id is (\S+)")
TIMEOUT_S = 30


@registry.register
class CupsPrinter(Printer):
    plugin_id = "cups"
    label = "CUPSプリンター（lp コマンド）"

    def __init__(
        self,
        queue: str | None = None,
        media: str | None = None,
        options: dict[str, str] | None = None,
        lp: str = "lp",
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.queue = queue or None
        self.media = media
        self.options = dict(options or {})
        self.lp = lp

    def command(self, *, title: str, copies: int) -> list[str]:
        """The ``lp`` command line for one job (the PDF comes on standard input)."""
        cmd = [self.lp]
        if self.queue:
            cmd += ["-d", self.queue]
        cmd += ["-n", str(max(1, copies)), "-t", title]
        options = dict(self.options)
        if self.media:
            options.setdefault("media", self.media)
        for key, value in sorted(options.items()):
            cmd += ["-o", f"{key}={value}"]
        return [*cmd, "--", "-"]

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1) -> PrintJob:
        if not pdf.startswith(b"%PDF"):
            raise DeviceError("印刷データがPDFではありません。", code="printer.not_pdf")
        exe = shutil.which(self.lp)
        if exe is None:
            raise DeviceError(
                "lp コマンドがありません。cups-client を導入してください。", code="printer.lp_missing"
            )
        cmd = self.command(title=title, copies=copies)
        try:
            done = subprocess.run(  # noqa: S603 - fixed program, arguments are not shell-parsed
                [exe, *cmd[1:]], input=pdf, capture_output=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise DeviceError(
                "プリンターが応答しません。CUPSの状態を確認してください。", code="printer.timeout"
            ) from exc
        out = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
        if done.returncode != 0:
            where = f"「{self.queue}」" if self.queue else "（既定のプリンター）"
            raise DeviceError(
                f"プリンター{where}に送れませんでした: {out.strip()[:200]}", code="printer.rejected"
            )
        m = _JOB.search(out)
        return PrintJob(m.group(1) if m else "", self.queue)

    def check(self) -> CheckResult:
        lpstat = shutil.which("lpstat")
        if shutil.which(self.lp) is None or lpstat is None:
            return CheckResult(False, "lp / lpstat コマンドがありません（cups-client を導入してください）。")
        args = [lpstat, "-p", self.queue] if self.queue else [lpstat, "-d"]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            return CheckResult(False, "CUPSが応答しません。")
        text = (done.stdout + done.stderr).strip()
        if done.returncode != 0 or "no system default" in text or not text:
            return CheckResult(False, f"CUPSのプリンターが使えません: {text[:200] or '応答なし'}")
        return CheckResult(True, text[:200], {"queue": self.queue or "(default)"})
