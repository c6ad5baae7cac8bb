"""Synthetic archive for the records benchmark, generated inside PostgreSQL.

Python computes only what must match the application exactly — the search keys of each name
spelling (``shared.text.normalize.search_key`` through ``keys_of_notice``) for a small vocabulary
— and the number of receptions of each day. Everything else is ``INSERT … SELECT`` over
``generate_series`` in the database, with the secondary indexes and foreign keys of the big tables
dropped during the load and rebuilt afterwards (the schema ends exactly as the migrations left
it: definitions are read from the catalogue and replayed).

Shape of the data (all synthetic, nothing from a real register):

- residents: surnames drawn with a Zipf-like skew (佐藤, 鈴木 … far more often than the tail,
  including 異体字 spellings such as 髙橋, 渡邊, 齋藤), given names less skewed, 3 % foreign
  residents with romaji names and katakana readings, households of 1–4 with shared 世帯番号,
  birth dates 1930–2025, a few percent 消除.
- receptions: every weekday of the last five years plus enough days before the retention cutoff
  to hold ``expired`` receptions; each day's count follows the season (March/April peak, a smaller
  one in September/October, quiet in August and December) around the mean; 受付番号 numbered per
  day; 1–4 persons from one household of the register; 30 % with a 確認番号 (pre-filled online);
  clerks, terminals and opening-to-storing times spread; counters backfilled.
"""

# SQL below is built from this module's constants and integers only (no outside input); long SQL lines kept whole.
# ruff: noqa: S608, E501

from __future__ import annotations

import json
import random
import time
from datetime import date, timedelta

import psycopg

from server.domain.documents.services import add_years, keys_of_notice
from shared.text.normalize import search_key

LG = "082104"

# (kanji, kana, weight) — the common surnames with rough relative frequencies, plus 異体字 spellings.
FAMILY: list[tuple[str, str, float]] = [
    ("佐藤", "サトウ", 1.87),
    ("鈴木", "スズキ", 1.80),
    ("高橋", "タカハシ", 1.42),
    ("田中", "タナカ", 1.34),
    ("伊藤", "イトウ", 1.08),
    ("渡辺", "ワタナベ", 1.07),
    ("山本", "ヤマモト", 1.07),
    ("中村", "ナカムラ", 1.05),
    ("小林", "コバヤシ", 1.02),
    ("加藤", "カトウ", 0.89),
    ("吉田", "ヨシダ", 0.84),
    ("山田", "ヤマダ", 0.82),
    ("佐々木", "ササキ", 0.68),
    ("山口", "ヤマグチ", 0.64),
    ("松本", "マツモト", 0.62),
    ("井上", "イノウエ", 0.61),
    ("木村", "キムラ", 0.58),
    ("林", "ハヤシ", 0.53),
    ("斎藤", "サイトウ", 0.52),
    ("清水", "シミズ", 0.52),
    ("山崎", "ヤマザキ", 0.48),
    ("森", "モリ", 0.47),
    ("池田", "イケダ", 0.44),
    ("橋本", "ハシモト", 0.44),
    ("阿部", "アベ", 0.44),
    ("石川", "イシカワ", 0.43),
    ("山下", "ヤマシタ", 0.42),
    ("中島", "ナカシマ", 0.41),
    ("石井", "イシイ", 0.40),
    ("小川", "オガワ", 0.40),
    ("前田", "マエダ", 0.39),
    ("岡田", "オカダ", 0.39),
    ("長谷川", "ハセガワ", 0.38),
    ("藤田", "フジタ", 0.38),
    ("後藤", "ゴトウ", 0.37),
    ("近藤", "コンドウ", 0.37),
    ("村上", "ムラカミ", 0.35),
    ("遠藤", "エンドウ", 0.34),
    ("青木", "アオキ", 0.34),
    ("坂本", "サカモト", 0.33),
    ("斉藤", "サイトウ", 0.33),
    ("福田", "フクダ", 0.32),
    ("太田", "オオタ", 0.32),
    ("西村", "ニシムラ", 0.31),
    ("藤井", "フジイ", 0.31),
    ("金子", "カネコ", 0.30),
    ("岡本", "オカモト", 0.30),
    ("藤原", "フジワラ", 0.30),
    ("中野", "ナカノ", 0.29),
    ("三浦", "ミウラ", 0.29),
    ("原田", "ハラダ", 0.29),
    ("中川", "ナカガワ", 0.28),
    ("松田", "マツダ", 0.28),
    ("竹内", "タケウチ", 0.28),
    ("小野", "オノ", 0.28),
    ("田村", "タムラ", 0.27),
    ("中山", "ナカヤマ", 0.27),
    ("和田", "ワダ", 0.26),
    ("石田", "イシダ", 0.26),
    ("森田", "モリタ", 0.25),
    ("上田", "ウエダ", 0.25),
    ("原", "ハラ", 0.25),
    ("内田", "ウチダ", 0.25),
    ("柴田", "シバタ", 0.24),
    ("酒井", "サカイ", 0.24),
    ("宮崎", "ミヤザキ", 0.24),
    ("横山", "ヨコヤマ", 0.23),
    ("高木", "タカギ", 0.23),
    ("安藤", "アンドウ", 0.23),
    ("宮本", "ミヤモト", 0.22),
    ("大野", "オオノ", 0.22),
    ("小島", "コジマ", 0.22),
    ("谷口", "タニグチ", 0.21),
    ("工藤", "クドウ", 0.21),
    ("高田", "タカダ", 0.21),
    ("増田", "マスダ", 0.20),
    ("丸山", "マルヤマ", 0.20),
    ("今井", "イマイ", 0.20),
    ("河野", "コウノ", 0.19),
    ("藤本", "フジモト", 0.19),
    ("小山", "コヤマ", 0.19),
    ("上野", "ウエノ", 0.19),
    ("杉山", "スギヤマ", 0.18),
    ("武田", "タケダ", 0.18),
    ("村田", "ムラタ", 0.18),
    ("野口", "ノグチ", 0.17),
    ("飯塚", "イイヅカ", 0.08),
    ("下妻", "シモツマ", 0.02),
    ("髙橋", "タカハシ", 0.10),
    ("渡邊", "ワタナベ", 0.08),
    ("渡邉", "ワタナベ", 0.08),
    ("齋藤", "サイトウ", 0.08),
    ("齊藤", "サイトウ", 0.05),
    ("髙﨑", "タカサキ", 0.03),
    ("高崎", "タカサキ", 0.06),
    ("濱田", "ハマダ", 0.05),
    ("浜田", "ハマダ", 0.15),
    ("檜山", "ヒヤマ", 0.03),
    ("桧山", "ヒヤマ", 0.02),
    ("吉川", "ヨシカワ", 0.15),
]
GIVEN: list[tuple[str, str]] = [
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("美咲", "ミサキ"),
    ("大輔", "ダイスケ"),
    ("陽菜", "ヒナ"),
    ("翔太", "ショウタ"),
    ("結衣", "ユイ"),
    ("健", "ケン"),
    ("さくら", "サクラ"),
    ("蓮", "レン"),
    ("葵", "アオイ"),
    ("悠真", "ユウマ"),
    ("凛", "リン"),
    ("湊", "ミナト"),
    ("陽翔", "ハルト"),
    ("誠", "マコト"),
    ("直樹", "ナオキ"),
    ("恵子", "ケイコ"),
    ("洋子", "ヨウコ"),
    ("和子", "カズコ"),
    ("幸子", "サチコ"),
    ("節子", "セツコ"),
    ("博", "ヒロシ"),
    ("茂", "シゲル"),
    ("清", "キヨシ"),
    ("勇", "イサム"),
    ("裕子", "ユウコ"),
    ("由美", "ユミ"),
    ("明美", "アケミ"),
    ("隆", "タカシ"),
    ("浩二", "コウジ"),
    ("拓也", "タクヤ"),
    ("健太", "ケンタ"),
    ("愛", "アイ"),
    ("優子", "ユウコ"),
    ("彩", "アヤ"),
    ("大翔", "ヒロト"),
    ("結菜", "ユイナ"),
    ("芽依", "メイ"),
    ("颯太", "ソウタ"),
    ("樹", "イツキ"),
    ("莉子", "リコ"),
    ("美穂", "ミホ"),
    ("智子", "トモコ"),
    ("正", "タダシ"),
    ("修", "オサム"),
    ("久美子", "クミコ"),
    ("真由美", "マユミ"),
    ("翼", "ツバサ"),
    ("晴", "ハル"),
    ("琴音", "コトネ"),
    ("航", "ワタル"),
    ("千尋", "チヒロ"),
    ("剛", "ツヨシ"),
    ("亮", "リョウ"),
    ("舞", "マイ"),
    ("綾乃", "アヤノ"),
    ("雄一", "ユウイチ"),
    ("秀樹", "ヒデキ"),
]
#: Foreign residents' family names with their kana and a nationality (ISO 3166 alpha-2).
FOREIGN_FAMILY = [
    ("NGUYEN", "グエン", "VN"),
    ("TRAN", "チャン", "VN"),
    ("LE", "レ", "VN"),
    ("WANG", "ワン", "CN"),
    ("LI", "リー", "CN"),
    ("ZHANG", "チャン", "CN"),
    ("KIM", "キム", "KR"),
    ("PARK", "パク", "KR"),
    ("SANTOS", "サントス", "BR"),
    ("SILVA", "シルバ", "BR"),
    ("GARCIA", "ガルシア", "PE"),
    ("SMITH", "スミス", "US"),
    ("SHRESTHA", "シュレスタ", "NP"),
    ("REYES", "レイエス", "PH"),
]
FOREIGN_GIVEN = [
    ("VAN AN", "ヴァン アン"),
    ("THI LAN", "ティ ラン"),
    ("MING", "ミン"),
    ("WEI", "ウェイ"),
    ("MINJUN", "ミンジュン"),
    ("SEOYEON", "ソヨン"),
    ("MARIA", "マリア"),
    ("JOSE", "ホセ"),
    ("JOHN", "ジョン"),
    ("ANITA", "アニタ"),
    ("RAM", "ラム"),
    ("ANA", "アナ"),
]
TOWNS = ["西条町", "八本松町", "志和町", "高屋町", "黒瀬町", "福富町", "豊栄町", "河内町", "安芸津町"]
KINDS = [
    ("move_in", 30),
    ("move_within", 25),
    ("move_out", 28),
    ("householder_change", 4),
    ("move_in_special", 5),
    ("move_in_from_abroad", 3),
    ("household_split", 3),
    ("household_merge", 2),
]
#: Share of a month in the year's receptions (index 0 = January): the 3–4 月 moving season.
SEASON = [0.9, 1.0, 1.9, 1.8, 1.0, 0.9, 0.9, 0.7, 1.0, 1.0, 0.9, 0.8]
CLERKS = 24
TERMINALS = 12


def vocabulary() -> list[dict[str, object]]:
    """Every name of the vocabulary with its search keys (as the application computes them)."""
    out: list[dict[str, object]] = []
    for fi, (fam, fam_k, weight) in enumerate(FAMILY):
        for gi, (giv, giv_k) in enumerate(GIVEN):
            person = {
                "family_name": fam,
                "given_name": giv,
                "family_name_kana": fam_k,
                "given_name_kana": giv_k,
            }
            out.append(
                {
                    "foreign": False,
                    "fi": fi,
                    "gi": gi,
                    "weight": weight,
                    "person": person,
                    "name_key": search_key(fam + giv)[:200],
                    "kana_key": search_key(fam_k + giv_k)[:200],
                    "kana": f"{fam_k} {giv_k}",
                    "keys": [k for kind, k, _ in keys_of_notice({"persons": [person]}) if kind == "name"],
                }
            )
    for fi, (fam, fam_k, country) in enumerate(FOREIGN_FAMILY):
        for gi, (giv, giv_k) in enumerate(FOREIGN_GIVEN):
            person = {
                "is_foreign": True,
                "roman_name": f"{fam} {giv}",
                "name_kana": f"{fam_k} {giv_k}",
                "nationality": country,
                "residence_category": "mid_long_term",
            }
            out.append(
                {
                    "foreign": True,
                    "fi": fi,
                    "gi": gi,
                    "weight": 1.0,
                    "person": person,
                    "name_key": search_key(f"{fam} {giv}")[:200],
                    "kana_key": search_key(f"{fam_k} {giv_k}")[:200],
                    "kana": f"{fam_k} {giv_k}",
                    "keys": [k for kind, k, _ in keys_of_notice({"persons": [person]}) if kind == "name"],
                }
            )
    return out


def day_counts(today: date, receptions: int, expired: int, retention_years: int) -> list[tuple[date, int]]:
    """Receptions per weekday: ``expired`` before the retention cutoff, the rest after it."""
    cutoff = add_years(today, -retention_years)
    rng = random.Random(11)

    def weekdays(start: date, end: date) -> list[date]:
        days, d = [], start
        while d < end:
            if d.weekday() < 5:
                days.append(d)
            d += timedelta(days=1)
        return days

    def spread(days: list[date], total: int) -> list[tuple[date, int]]:
        weights = [SEASON[d.month - 1] * rng.uniform(0.8, 1.2) for d in days]
        scale = total / sum(weights)
        counts = [int(w * scale) for w in weights]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        return list(zip(days, counts, strict=True))

    recent = weekdays(cutoff, today + timedelta(days=1))
    old = weekdays(
        cutoff - timedelta(days=max(1, round(expired / (receptions / len(recent))) * 7 // 5 + 7)), cutoff
    )
    return (spread(old, expired) if expired else []) + spread(recent, receptions - expired)


def _constraints_and_indexes(
    conn: psycopg.Connection, tables: list[str]
) -> tuple[list[str], list[str], list[str]]:
    """(drop statements, recreate statements for keys/indexes, recreate statements for FKs)."""
    drops_fk, drops_other, create_keys, create_idx, create_fk = [], [], [], [], []
    for table, name, kind, definition in conn.execute(
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE (conrelid::regclass::text = ANY(%s) AND contype IN ('p', 'u', 'f'))"
        " OR (contype = 'f' AND confrelid::regclass::text = ANY(%s))",
        (tables, tables),
    ).fetchall():
        stmt = f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        if kind == "f":
            drops_fk.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            create_fk.append(stmt)
        else:
            drops_other.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            create_keys.append(stmt)
    for name, definition in conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN"
        " (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
        (tables,),
    ).fetchall():
        drops_other.append(f'DROP INDEX "{name}"')
        create_idx.append(definition)
    return drops_fk + drops_other, create_keys + create_idx, create_fk


def generate(
    owner_libpq: str,
    *,
    receptions: int,
    residents: int,
    expired: int,
    retention_years: int = 5,
    today: date | None = None,
    seed: float = 0.5,
) -> dict[str, int]:
    """Fill the (migrated, seeded) database; returns row counts. Connects as a superuser."""
    today = today or date.today()
    vocab = vocabulary()
    days = day_counts(today, receptions, expired, retention_years)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def step(label: str, started: float) -> float:
        now = time.perf_counter()
        timings[label] = now - started
        print(f"  {label}: {now - started:.1f} s", flush=True)
        return now

    with psycopg.connect(owner_libpq, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET timezone = 'UTC'")
        conn.execute("SELECT setseed(%s)", (seed,))
        t = time.perf_counter()
        # Clerks beside the demo users (same password hash: the benchmark logs in as demo-admin only).
        conn.execute(
            "INSERT INTO users (id, lg_code, username, display_name, password_hash, failed_logins,"
            " is_active, created_at)"
            " SELECT gen_random_uuid(), lg_code, 'clerk' || lpad(g::text, 2, '0'), '職員 ' || g,"
            " password_hash, 0, true, now() FROM users, generate_series(1, %s) g WHERE username = 'demo'",
            (CLERKS,),
        )
        conn.execute(
            "INSERT INTO user_groups (lg_code, user_id, group_id) SELECT u.lg_code, u.id, ug.group_id FROM users u,"
            " user_groups ug JOIN users d ON d.id = ug.user_id AND d.username = 'demo'"
            " WHERE u.username LIKE 'clerk%%'"
        )
        conn.execute(
            "CREATE TEMP TABLE vocab (vid int PRIMARY KEY, foreign_name bool, fi int, gi int,"
            " person jsonb, name_key text, kana_key text, kana text, keys text[])"
        )
        with conn.cursor().copy(
            "COPY vocab (vid, foreign_name, fi, gi, person, name_key, kana_key, kana, keys) FROM STDIN"
        ) as cp:
            for vid, v in enumerate(vocab):
                cp.write_row(
                    (
                        vid,
                        v["foreign"],
                        v["fi"],
                        v["gi"],
                        json.dumps(v["person"], ensure_ascii=False),
                        v["name_key"],
                        v["kana_key"],
                        v["kana"],
                        v["keys"],
                    )
                )
        # Surname by cumulative weight (the skew); given name slightly skewed; foreign 3 %.
        weights = [w for _, _, w in FAMILY]
        total = sum(weights)
        cumulative = []
        acc = 0.0
        for w in weights:
            acc += w / total
            cumulative.append(acc)
        conn.execute("CREATE TEMP TABLE fam_cdf (fi int, upto float8)")
        with conn.cursor().copy("COPY fam_cdf FROM STDIN") as cp:
            for fi, upto in enumerate(cumulative):
                cp.write_row((fi, upto))
        conn.execute("CREATE TEMP TABLE days (business_date date PRIMARY KEY, n int)")
        with conn.cursor().copy("COPY days FROM STDIN") as cp:
            for d, n in days:
                cp.write_row((d, n))
        big = ["receptions", "reception_persons", "reception_search_keys", "residents"]
        drops, recreate, recreate_fk = _constraints_and_indexes(conn, big)
        for stmt in drops:
            conn.execute(stmt)
        t = step("vocabulary, days, clerks, indexes dropped", t)

        n_given, n_fam = len(GIVEN), len(FAMILY)
        n_ff, n_fg = len(FOREIGN_FAMILY), len(FOREIGN_GIVEN)
        # Residents: households of 1–4 in consecutive numbers; members share the surname.
        conn.execute(
            f"""
            CREATE TEMP TABLE res_gen AS
            WITH base AS (
                SELECT g AS idx, random() AS r_f, random() AS r_g, random() AS r_k, random() AS r_b,
                       random() AS r_s, (g - 1) / 2 AS hh FROM generate_series(1, {residents}) g
            ), hh AS (
                SELECT DISTINCT ON (hh) hh, random() < 0.03 AS foreign_name,
                       (SELECT min(fi) FROM fam_cdf WHERE upto >= b.r_f) AS fi_j,
                       floor(b.r_k * {n_ff})::int AS fi_f
                FROM base b ORDER BY hh, idx
            )
            SELECT b.idx, b.hh, h.foreign_name,
                   CASE WHEN h.foreign_name THEN {n_fam * n_given} + h.fi_f * {n_fg} + floor(b.r_g * {n_fg})::int
                        ELSE h.fi_j * {n_given} + floor(power(b.r_g, 1.4) * {n_given})::int END AS vid,
                   date '1930-01-01' + floor(b.r_b * 34000)::int AS birth_date,
                   CASE WHEN b.r_s < 0.5 THEN '1' ELSE '2' END AS sex
            FROM base b JOIN hh h USING (hh)
            """
        )
        conn.execute("ALTER TABLE res_gen ADD PRIMARY KEY (idx)")
        conn.execute("ANALYZE res_gen")
        conn.execute(
            f"""
            INSERT INTO residents (id, lg_code, atena_number, household_number, resident_kind, resident_state,
                resident_code, family_name, given_name, roman_name, name_kana, sex, birth_date, relationship,
                householder_name, postal_code, address, building, moved_on, name_key, kana_key, imported_at,
                import_batch)
            SELECT gen_random_uuid(), '{LG}', lpad((100000000 + r.idx)::text, 15, '0'),
                   lpad((500000000 + r.hh)::text, 15, '0'),
                   CASE WHEN r.foreign_name THEN '2' ELSE '1' END,
                   CASE WHEN random() < 0.04 THEN '2' ELSE '1' END, NULL,
                   v.person->>'family_name', v.person->>'given_name', v.person->>'roman_name', v.kana, r.sex,
                   r.birth_date, CASE WHEN r.idx % 2 = 1 THEN '世帯主' ELSE '妻' END, NULL, '739-0000',
                   '広島県東広島市' || (ARRAY{TOWNS!r})[1 + (r.hh % {len(TOWNS)})] || (1 + r.hh % 3000) || '番地',
                   NULL, date '2000-01-01' + (r.idx % 9000), v.name_key, v.kana_key, now(),
                   '00000000-0000-0000-0000-000000000001'
            FROM res_gen r JOIN vocab v USING (vid)
            """
        )
        t = step(f"{residents} residents", t)

        kinds = [k for k, w in KINDS for _ in range(w)]
        # One row per reception: day, number, household (first person), size, clerk, terminal …
        conn.execute(
            f"""
            CREATE TEMP TABLE rec_gen AS
            SELECT gen_random_uuid() AS id, d.business_date, s AS seq,
                   row_number() OVER (ORDER BY d.business_date, s) AS ord,
                   1 + floor(random() * ({residents} - 4))::int AS first_idx,
                   CASE WHEN x < 0.62 THEN 1 WHEN x < 0.85 THEN 2 WHEN x < 0.95 THEN 3 ELSE 4 END AS n_persons,
                   (ARRAY{kinds!r})[1 + floor(random() * {len(kinds)})::int] AS kind,
                   1 + floor(random() * {TERMINALS})::int AS terminal,
                   1 + floor(random() * {CLERKS})::int AS clerk,
                   (d.business_date + time '08:30' - interval '9 hours'
                       + (s::float8 / d.n) * interval '8 hours 45 minutes') AS created_at,
                   interval '1 minute' * (3 + floor(random() * random() * 60)) AS took,
                   CASE WHEN random() < 0.3 THEN 'K' || lpad(floor(random() * 1e8)::bigint::text, 8, '0') END AS conf,
                   random() AS r_status
            FROM days d, generate_series(1, d.n) s, LATERAL (SELECT random() + s * 0 AS x) xr
            """
        )
        conn.execute(
            "CREATE TEMP TABLE per_gen AS SELECT r.id AS reception_id, r.ord, i AS person_index,"
            " r.first_idx + i AS res_idx FROM rec_gen r, generate_series(0, r.n_persons - 1) i"
        )
        conn.execute("ANALYZE rec_gen")
        conn.execute("ANALYZE per_gen")
        t = step("reception plan", t)

        # Addresses of the notices (synthetic): in the city, in the city before a move within it,
        # and another municipality (where a 転入 came from or a 転出 goes).
        def in_the_city(house: str) -> str:
            """An address of this city, its town and 番地 chosen by the SQL expression ``house``."""
            return (
                "jsonb_build_object('postal_code', '739-0000', 'prefecture', '広島県', 'municipality',"
                f" '東広島市', 'town', (ARRAY{TOWNS!r})[1 + ({house}) % {len(TOWNS)}],"
                f" 'block_number', (1 + ({house}) % 3000) || '番地')"
            )

        here, here_before = in_the_city("r.first_idx"), in_the_city("r.first_idx + 7")
        elsewhere = (
            "jsonb_build_object('postal_code', '730-0011', 'prefecture', '広島県', 'municipality',"
            " '広島市中区', 'town', '基町', 'block_number', (1 + r.first_idx % 30) || '番')"
        )
        conn.execute(
            f"""
            INSERT INTO receptions (id, lg_code, reception_number, business_date, daily_seq, client_key, kind,
                status, terminal_id, opened_at, created_at, created_by, notice)
            SELECT r.id, '{LG}', to_char(r.business_date, 'YYYYMMDD') || '-' || lpad(r.seq::text, 4, '0'),
                   r.business_date, r.seq, gen_random_uuid(), r.kind,
                   CASE WHEN r.business_date >= current_date - 3 AND r.r_status < 0.5 THEN 'received'
                        WHEN r.r_status < 0.02 THEN 'cancelled' ELSE 'confirmed' END,
                   'T-' || lpad(r.terminal::text, 2, '0'), r.created_at - r.took, r.created_at, u.id,
                   jsonb_build_object(
                       'kind', r.kind, 'notified_on', r.business_date,
                       'moved_on', r.business_date - (r.first_idx % 14),
                       'notifier', jsonb_build_object('name', coalesce(p.persons->0->>'family_name',
                                                      p.persons->0->>'roman_name'), 'standing', 'self'),
                       'persons', p.persons, 'confirmation_number', r.conf)
                   -- the addresses the kind needs (MovementNotice refuses a 転入 without both)
                   || CASE WHEN r.kind IN ('move_in', 'move_in_special', 'move_in_from_abroad', 'move_within')
                           THEN jsonb_build_object('new_address', {here}) ELSE '{{}}' END
                   || CASE WHEN r.kind IN ('move_in', 'move_in_special')
                           THEN jsonb_build_object('old_address', {elsewhere})
                           WHEN r.kind = 'move_within'
                           THEN jsonb_build_object('old_address', {here_before}) ELSE '{{}}' END
                   || CASE WHEN r.kind = 'move_out'
                           THEN jsonb_build_object('destination', {elsewhere}) ELSE '{{}}' END
            FROM rec_gen r
            JOIN users u ON u.username = 'clerk' || lpad(r.clerk::text, 2, '0')
            JOIN (
                SELECT pg.reception_id, jsonb_agg(v.person || jsonb_build_object(
                           'birth_date', g.birth_date, 'sex', g.sex,
                           'relationship', CASE WHEN pg.person_index = 0 THEN '世帯主' ELSE '子' END,
                           'my_number', NULL) ORDER BY pg.person_index) AS persons
                FROM per_gen pg JOIN res_gen g ON g.idx = pg.res_idx JOIN vocab v ON v.vid = g.vid
                GROUP BY pg.reception_id
            ) p ON p.reception_id = r.id
            ORDER BY r.business_date, r.seq
            """
        )
        t = step(f"{receptions} receptions", t)
        conn.execute(
            f"""
            INSERT INTO reception_persons (id, lg_code, reception_id, person_index, name_search_key, birth_date)
            SELECT gen_random_uuid(), '{LG}', pg.reception_id, pg.person_index, v.name_key, g.birth_date
            FROM per_gen pg JOIN res_gen g ON g.idx = pg.res_idx JOIN vocab v ON v.vid = g.vid
            ORDER BY pg.ord, pg.person_index
            """
        )
        t = step("reception persons", t)
        conn.execute(
            f"""
            INSERT INTO reception_search_keys (id, lg_code, reception_id, reception_number, kind, key, birth_date)
            SELECT gen_random_uuid(), '{LG}', keyed.reception_id,
                   to_char(r.business_date, 'YYYYMMDD') || '-' || lpad(r.seq::text, 4, '0'),
                   keyed.kind, keyed.key, keyed.birth_date FROM (
                SELECT DISTINCT pg.ord, pg.reception_id, 'name', k.key, g.birth_date
                FROM per_gen pg JOIN res_gen g ON g.idx = pg.res_idx JOIN vocab v ON v.vid = g.vid,
                     unnest(v.keys) AS k(key)
                UNION ALL
                SELECT ord, id, 'confirmation', lower(conf), NULL FROM rec_gen WHERE conf IS NOT NULL
            ) keyed (ord, reception_id, kind, key, birth_date)
            JOIN rec_gen r ON r.id = keyed.reception_id
            ORDER BY keyed.ord
            """
        )
        t = step("search keys", t)
        conn.execute(
            "INSERT INTO reception_counters (lg_code, business_date, last_seq)"
            " SELECT lg_code, business_date, max(daily_seq) FROM receptions GROUP BY 1, 2"
            " ON CONFLICT (lg_code, series, business_date) DO UPDATE SET last_seq = excluded.last_seq"
        )
        for stmt in recreate:
            conn.execute(stmt)
        t = step("keys and indexes rebuilt", t)
        for stmt in recreate_fk:
            conn.execute(stmt)
        t = step("foreign keys validated", t)
        conn.execute("VACUUM ANALYZE")
        step("vacuum analyze", t)
        counts = {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
            for table in big
        }
    print(f"generated {counts} in {time.perf_counter() - t0:.1f} s", flush=True)
    return counts
