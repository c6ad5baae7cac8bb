"""The CSV layout of the 住民記録 linkage, modelled on the data items of the 住民記録システム
標準仕様書 (names as the standard spells them). One header row; columns may come in any order;
unknown columns are ignored. The same layout is used for import and for the export of confirmed
異動. Documented for operators in ``docs/records.md``.
"""

from __future__ import annotations

#: (CSV header, required on import, meaning)
COLUMNS: list[tuple[str, bool, str]] = [
    ("処理区分", False, "差分のみ: 1 追加, 2 更新, 3 削除 (全件では空欄)"),
    ("宛名番号", True, "基幹系の個人番号 (数字15桁以内)"),
    ("世帯番号", True, "数字15桁以内"),
    ("住民種別", True, "1 日本人, 2 外国人"),
    ("住民状態", True, "1 住民, 2 消除"),
    ("住民票コード", False, "11桁 (検査数字を確認)"),
    ("氏_日本人", False, "日本人は必須"),
    ("名_日本人", False, ""),
    ("氏名_外国人ローマ字", False, "外国人は必須"),
    ("氏名_フリガナ", False, "全角カタカナ (半角は全角にする)"),
    ("性別", True, "1 男, 2 女"),
    ("生年月日", True, "YYYY-MM-DD または YYYYMMDD"),
    ("続柄表記", False, ""),
    ("世帯主氏名", False, ""),
    ("住所_郵便番号", False, "123-4567"),
    ("住所_都道府県", False, ""),
    ("住所_市区郡町村名", False, ""),
    ("住所_町字", False, ""),
    ("住所_番地号表記", False, ""),
    ("住所_方書", False, ""),
    ("異動年月日", False, "YYYY-MM-DD または YYYYMMDD"),
    ("異動事由", False, "出力のみ: 国内転入, 転居, 国内転出 など"),
]
HEADERS = [c[0] for c in COLUMNS]
REQUIRED = [c[0] for c in COLUMNS if c[1]]

#: 届出の種類 → 異動事由 of the standard (export).
REASON_OF_KIND = {
    "move_in": "国内転入",
    "move_in_special": "国内転入",
    "move_in_from_abroad": "国外転入等",
    "move_within": "転居",
    "move_out": "国内転出",
    "householder_change": "世帯主変更",
    "household_split": "世帯分離",
    "household_merge": "世帯合併",
    "ex_officio": "職権記載",
}
