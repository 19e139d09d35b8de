#!/usr/bin/env python3
"""Link two generated lists with Splink 5 (DuckDB backend), as close as possible to loket's
example config (crates/linkage/examples/indonesia.toml), and evaluate against truth_id.

Same inputs, same normalisation (ported to DuckDB SQL), same comparisons and levels, same
blocking rules (as a union), u from 1M random pairs, m by EM, threshold 0.5, then a greedy
one-to-one assignment by descending match weight (what loket does), evaluated pairwise with
the truth ids exactly like `linkage::evaluate_link`.

Prints one JSON line with wall times per stage, matches and precision / recall / F1.
"""

import argparse
import json
import os
import sys
import time

import duckdb

T0 = time.perf_counter()

ap = argparse.ArgumentParser()
ap.add_argument("left")
ap.add_argument("right")
ap.add_argument("--out", default=None, help="write accepted pairs (left_id,right_id,...) here")
ap.add_argument("--threshold", type=float, default=0.5)
ap.add_argument("--u-pairs", type=float, default=1e6)
ap.add_argument("--seed", type=int, default=24301)
ap.add_argument("--threads", type=int, default=os.cpu_count())
ap.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 16GB")
args = ap.parse_args()

import splink  # noqa: E402  (timed: importing Splink is part of its cost, but reported apart)
import splink.comparison_level_library as cll  # noqa: E402
import splink.comparison_library as cl  # noqa: E402
from splink import DuckDBAPI, Linker, SettingsCreator, block_on  # noqa: E402
import logging  # noqa: E402

logging.getLogger("splink").setLevel(logging.WARNING)
t_import = time.perf_counter() - T0

con = duckdb.connect()
con.execute(f"SET threads = {args.threads}")
if args.memory_limit:
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
con.execute("SET preserve_insertion_order = false")

# ---------------------------------------------------------------- normalisation (SQL) --
# Port of the example config's normalisers: lowercase, strip_titles, strip_punctuation,
# collapse_whitespace, old_spelling, canonical_names (the main variant groups).
PREFIX_TITLES = (
    "h|hj|haji|hajjah|hajah|drs|dra|dr|ir|prof|kh|tgh|ust|ustadz|ustaz|ustadzah|bpk|bapak|ibu|"
    "sdr|sdri|ny|nn|tn|alm|almh|almarhum|almarhumah"
)
DEGREES = (
    "spd|spdi|skom|se|sh|shi|st|ssi|sag|ssos|sos|sip|sked|skep|sfarm|sp|spt|sth|ssy|sst|sak|ssn|"
    "sikom|sgz|mm|mpd|msi|mkom|mt|mh|mag|mkes|mba|msc|phd|amd|ama|amdkeb|amdkep|amk|ak|bsc|ba"
)
VARIANTS = {
    "muhammad": "muhammad|muhamad|muhammat|muhamat|mohammad|mohamad|mohammed|mohamed|mohamat|"
    "mochammad|mochamad|mokhammad|mokhamad|muchammad|muchamad|mukhammad|mukhamad|muhammed|"
    "mohd|moh|moch|mokh|mok|much|mukh|muh|mhd|md|m",
    "ahmad": "achmad|akhmad|ahmat|achmat|akhmat|ahmed|amad",
    "abdul": "abd|abdoel",
    "siti": "sitti|sity|st",
    "nur": "nurul|noor|nor|nuur",
    "sri": "sr",
    "yusuf": "yusup|jusuf|yoesoef|yusuf",
    "saiful": "syaiful|syaeful|saeful|syaifull",
    "rahmat": "rachmat|rakhmat|rahmad|rachmad|rakhmad",
    "zainal": "zaenal|zainul",
    "sulaiman": "sulaeman|suleman",
    "fatimah": "fatima|fatimmah",
    "khadijah": "khodijah|kadijah|hadijah",
    "aisyah": "aisah|aisya|aishah|aisyiah",
    "hidayat": "hidajat",
    "hidayah": "hidajah",
    "yanti": "janti",
    "abdurrahman": "abdurahman|abdulrahman|abdurrakhman",
    "rahman": "rachman|rakhman",
    "fauzi": "fauzy",
}


def sql_list(words) -> str:
    return "[" + ", ".join(f"'{w}'" for w in words) + "]"


def name_sql(col: str) -> str:
    """Token-based, like loket: titles dropped by token (degrees unless first), then old
    spelling, then each token mapped to its canonical variant."""
    canon = {}
    for c, variants in VARIANTS.items():
        for v in variants.split("|"):
            for form in {v, v.replace("ch", "kh").replace("oe", "u").replace("dj", "j")}:
                canon.setdefault(form, c)
    canon_map = "MAP {" + ", ".join(f"'{k}': '{v}'" for k, v in sorted(canon.items())) + "}"
    x = f"lower(coalesce({col}, ''))"
    # Dots and apostrophes vanish (S.Pd. -> spd), other punctuation becomes a space.
    x = f"regexp_replace({x}, '[.''`’]', '', 'g')"
    x = f"regexp_replace({x}, '[^a-z0-9 ]', ' ', 'g')"
    toks = f"string_split(trim(regexp_replace({x}, '\\s+', ' ', 'g')), ' ')"
    toks = (
        f"list_filter({toks}, lambda t, i: t <> '' AND NOT list_contains({sql_list(PREFIX_TITLES.split('|'))}, t)"
        f" AND (i = 1 OR NOT list_contains({sql_list(DEGREES.split('|'))}, t)))"
    )
    x = f"array_to_string({toks}, ' ')"
    for a, b in [("dj", "j"), ("tj", "c"), ("oe", "u"), ("sj", "sy"), ("nj", "ny"), ("ch", "kh")]:
        x = f"replace({x}, '{a}', '{b}')"
    x = f"array_to_string(list_transform(string_split({x}, ' '), lambda t: coalesce({canon_map}[t], t)), ' ')"
    return f"nullif({x}, '')"


# Soundex of the first word, as loket's `soundex(name)` key (h/w do not separate, vowels do).
def soundex_sql(first_word: str) -> str:
    # codes of the letters (h/w removed: they do not separate), collapse runs, drop the first
    # letter's own code, drop vowels (they separated runs), keep 3 digits.
    codes = (
        f"string_split(translate(translate(lower({first_word}), 'hw', ''), "
        f"'bfpvcgjkqsxzdtlmnraeiouy', '111122222222334556000000'), '')"
    )
    dedup = f"list_filter({codes}, lambda c, i: i = 1 OR c <> {codes}[i - 1])"
    rest = f"list_filter({dedup}, lambda c, i: i > 1 AND c <> '0')"
    return (
        f"CASE WHEN {first_word} IS NULL OR {first_word} = '' THEN NULL ELSE "
        f"upper({first_word}[1]) || rpad(substr(array_to_string({rest}, ''), 1, 3), 3, '0') END"
    )


def prepare(path: str, table: str) -> None:
    date = (
        "coalesce(try_strptime(tanggal_lahir, '%Y-%m-%d'), try_strptime(tanggal_lahir, '%d-%m-%Y'),"
        " try_strptime(tanggal_lahir, '%d/%m/%Y'))::DATE"
    )
    phone = "regexp_replace(coalesce(telepon, ''), '[^0-9]', '', 'g')"
    phone = f"CASE WHEN {phone} LIKE '62%' THEN '0' || {phone}[3:] WHEN {phone} LIKE '8%' THEN '0' || {phone} ELSE {phone} END"
    region = (
        "nullif(trim(regexp_replace(regexp_replace(' ' || regexp_replace(lower(coalesce(kabupaten, '')), "
        "'[.''`]', '', 'g') || ' ', ' (kab|kabupaten|kota|kot) ', ' ', 'g'), '\\s+', ' ', 'g')), '')"
    )
    con.execute(
        f"""
CREATE TABLE {table} AS
WITH raw AS (SELECT * FROM read_csv('{path}', all_varchar = true, header = true)),
norm AS MATERIALIZED (
  SELECT id AS unique_id, truth_id,
         nullif(regexp_replace(coalesce(nik, ''), '[^0-9]', '', 'g'), '') AS nik,
         {name_sql('nama')} AS name,
         {date} AS dob,
         nullif(regexp_replace(upper(coalesce(jenis_kelamin, '')), '[^A-Z]', '', 'g'), '') AS sex,
         {region} AS region,
         nullif({phone}, '') AS phone
  FROM raw
)
SELECT *,
  substr(nik, 1, 6) AS nik6,
  CASE WHEN length(nik) >= 7 THEN substr(nik, 7, 10) END AS nik_tail,
  array_to_string(list_sort(string_split(name, ' ')), ' ') AS name_sorted,
  array_to_string(list_transform(string_split(name, ' '), lambda t: t[1]), '') AS initials,
  CASE WHEN dob IS NOT NULL THEN
    year(dob) * 10000 + least(month(dob), day(dob)) * 100 + greatest(month(dob), day(dob)) END AS dob_unordered,
  year(dob) AS dob_year,
  {soundex_sql("split_part(name, ' ', 1)")} AS name_sdx
FROM norm
"""
    )


t = time.perf_counter()
prepare(args.left, "l_in")
prepare(args.right, "r_in")
t_prepare = time.perf_counter() - t
n_left = con.execute("SELECT count(*) FROM l_in").fetchall()[0][0]
n_right = con.execute("SELECT count(*) FROM r_in").fetchall()[0][0]

# ------------------------------------------------------------------- Splink settings --
nik_typo = (
    "length(nik_l) = length(nik_r) AND damerau_levenshtein(nik_l, nik_r) = 1 "
    "AND substr(nik_l, 1, 12) <> substr(nik_r, 1, 12)"
)
nik = cl.CustomComparison(
    output_column_name="nik",
    comparison_levels=[
        cll.NullLevel("nik"),
        cll.ExactMatchLevel("nik"),
        cll.CustomLevel(nik_typo, "nik_typo"),
        cll.ElseLevel(),
    ],
)
name = cl.CustomComparison(
    output_column_name="name",
    comparison_levels=[
        cll.NullLevel("name"),
        cll.ExactMatchLevel("name", term_frequency_adjustments=True),
        cll.JaroWinklerLevel("name", 0.94),
        cll.JaroWinklerLevel("name", 0.88),
        cll.JaroWinklerLevel("name", 0.75),
        cll.ElseLevel(),
    ],
)
dob = cl.CustomComparison(
    output_column_name="dob",
    comparison_levels=[
        cll.NullLevel("dob"),
        cll.ExactMatchLevel("dob"),
        cll.CustomLevel(
            "year(dob_l) = year(dob_r) AND month(dob_l) = day(dob_r) AND day(dob_l) = month(dob_r)",
            "date_swap",
        ),
        cll.CustomLevel("abs(date_diff('day', dob_l, dob_r)) <= 1", "within 1 day"),
        cll.CustomLevel("year(dob_l) = year(dob_r)", "same year"),
        cll.ElseLevel(),
    ],
)
settings = SettingsCreator(
    link_type="link_only",
    unique_id_column_name="unique_id",
    comparisons=[
        nik,
        name,
        dob,
        cl.ExactMatch("sex"),
        cl.ExactMatch("region"),
        cl.ExactMatch("phone"),
    ],
    blocking_rules_to_generate_predictions=[
        block_on("nik"),
        block_on("nik6", "dob"),
        block_on("initials", "dob"),
        block_on("name_sorted", "nik6"),
        block_on("name_sorted", "dob_unordered"),
        block_on("nik_tail", "name_sdx"),
        block_on("name_sorted", "region", "dob_year"),
    ],
    retain_intermediate_calculation_columns=False,
    retain_matching_columns=False,
)

db_api = DuckDBAPI(connection=con)
sdf_l = db_api.register("l_in", dataset_display_name="l_in")
sdf_r = db_api.register("r_in", dataset_display_name="r_in")
linker = Linker([sdf_l, sdf_r], settings)

# ------------------------------------------------------------------------- training --
t = time.perf_counter()
linker.training.estimate_probability_two_random_records_match(
    [block_on("nik", "dob"), block_on("nik", "name")], recall=0.8
)
t_prior = time.perf_counter() - t
t = time.perf_counter()
linker.training.estimate_u_using_random_sampling(max_pairs=args.u_pairs, seed=args.seed)
t_u = time.perf_counter() - t
t = time.perf_counter()
# EM sessions as loket's rules 1 and 3: NIK (trains all but nik), initials + birth date
# (trains nik and the rest).
linker.training.estimate_parameters_using_expectation_maximisation(block_on("nik"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("initials", "dob"))
t_em = time.perf_counter() - t

# -------------------------------------------------------------------------- predict --
t = time.perf_counter()
pred = linker.inference.predict(threshold_match_probability=args.threshold)
pred_table = pred.physical_name
n_above = con.execute(f"SELECT count(*) FROM {pred_table}").fetchall()[0][0]
t_predict = time.perf_counter() - t

# Greedy one-to-one by descending match weight (as loket's assignment).
t = time.perf_counter()
rows = con.execute(
    f"SELECT unique_id_l, unique_id_r, match_weight, match_probability FROM {pred_table} "
    "ORDER BY match_weight DESC, unique_id_l, unique_id_r"
).fetchall()
used_l, used_r, pairs = set(), set(), []
for a, b, w, p in rows:
    if a in used_l or b in used_r:
        continue
    used_l.add(a)
    used_r.add(b)
    pairs.append((a, b, w, p))
t_assign = time.perf_counter() - t
wall_link = time.perf_counter() - T0

# ------------------------------------------------------------------------ evaluation --
out_path = args.out or os.path.join(os.path.dirname(os.path.abspath(args.right)), "splink_pairs.csv")
with open(out_path, "w") as f:
    f.write("left_id,right_id,match_weight,match_probability\n")
    for a, b, w, p in pairs:
        f.write(f"{a},{b},{w:.4f},{p:.6f}\n")
con.execute(
    f"CREATE TABLE acc AS SELECT left_id AS l, right_id AS r FROM read_csv('{out_path}', all_varchar = true)"
)
tp = con.execute(
    """SELECT count(*) FROM acc JOIN l_in a ON a.unique_id = acc.l JOIN r_in b ON b.unique_id = acc.r
       WHERE a.truth_id <> '' AND a.truth_id = b.truth_id"""
).fetchall()[0][0]
truth = con.execute(
    """SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM r_in b JOIN l_in a
       ON a.truth_id = b.truth_id WHERE a.truth_id <> '' GROUP BY b.unique_id)"""
).fetchall()[0][0]
predicted = len(pairs)
precision = tp / predicted if predicted else 1.0
recall = tp / truth if truth else 1.0
f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
print(
    json.dumps(
        {
            "tool": f"splink {splink.__version__} / duckdb {duckdb.__version__}",
            "left_rows": n_left,
            "right_rows": n_right,
            "wall_seconds_to_pairs": round(wall_link, 3),
            "stages": {
                "import": round(t_import, 3),
                "read_normalise": round(t_prepare, 3),
                "prior": round(t_prior, 3),
                "u_sampling": round(t_u, 3),
                "em": round(t_em, 3),
                "predict": round(t_predict, 3),
                "one_to_one": round(t_assign, 3),
            },
            "pairs_above_threshold": n_above,
            "matches": predicted,
            "true_positives": tp,
            "true_pairs": truth,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    )
)
sys.stdout.flush()
