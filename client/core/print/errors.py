"""Errors of printing, in the one hierarchy of :mod:`shared.errors`."""

from __future__ import annotations

from shared.errors import DeviceError, InvalidInput


class UnprintableText(InvalidInput):
    """A character (or variation sequence) that IPAmj明朝 cannot draw: never a silent substitute."""

    code = "print.unsupported_character"
    default_message = "IPAmj明朝で印字できない文字があります。"


class FontMissing(DeviceError):
    """The IPAmj明朝 font file is not installed on this terminal."""

    code = "print.font_missing"
    default_message = (
        "IPAmj明朝のフォント（ipamjm.ttf）が見つかりません。fonts-ipamj-mincho を導入するか、"
        "MADOGUCHI_IPAMJ_FONT にフォントファイルの場所を設定してください。"
    )


class LayoutNotFound(InvalidInput):
    code = "print.layout_not_found"
    default_message = "指定された帳票の様式がありません。"
