"""The errors of the OCR pipeline: stable codes, Japanese messages that say what to do next."""

from __future__ import annotations

from shared.errors import InvalidInput


class ScanProblem(InvalidInput):
    """The page cannot be read as it is; the message tells the clerk how to rescan it."""

    code = "ocr.scan_problem"
    default_message = "読み取れませんでした。原稿を置き直してもう一度スキャンしてください。"


def corrupt_image() -> ScanProblem:
    return ScanProblem(
        "画像ファイルを開けません（壊れているか、画像ではありません）。もう一度スキャンしてください。",
        code="ocr.corrupt_image",
    )


def image_too_large(megapixels: float, limit: float) -> ScanProblem:
    return ScanProblem(
        f"画像が大きすぎます（{megapixels:.0f} メガピクセル、上限 {limit:.0f}）。"
        "解像度を 300dpi にしてスキャンし直してください。",
        code="ocr.image_too_large",
    )


def image_too_small() -> ScanProblem:
    return ScanProblem(
        "画像が小さすぎて読み取れません。解像度を 200〜300dpi にしてスキャンし直してください。",
        code="ocr.image_too_small",
    )


def blank_page() -> ScanProblem:
    return ScanProblem(
        "白紙のページです。書類の表裏と向きを確かめて置き直してください。", code="ocr.blank_page"
    )


def unknown_document() -> ScanProblem:
    return ScanProblem(
        "読み取れる書類の様式が見つかりません。対応する書類か確かめてください"
        "（新しい様式はテンプレートの登録が必要です）。",
        code="ocr.unknown_document",
    )


def upside_down() -> ScanProblem:
    return ScanProblem("書類が上下逆さまです。向きを直して置き直してください。", code="ocr.upside_down")


def too_skewed(angle: float) -> ScanProblem:
    return ScanProblem(
        f"スキャンが傾きすぎています（約{abs(angle):.0f}度）。置き直してください。", code="ocr.too_skewed"
    )


def registration_failed() -> ScanProblem:
    return ScanProblem(
        "書類の位置合わせができませんでした。書類全体が写るように置き直してください。",
        code="ocr.registration_failed",
    )
