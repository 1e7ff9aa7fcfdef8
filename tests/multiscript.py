"""A seeded multi-script chat corpus (JSONL, the generic importer's format) for the tokenizer tests.

Eleven scripts: Latin with precomposed and decomposed accents and the letters
NFKD leaves whole (ł ø đ ı æ ß), Greek, Cyrillic, Arabic with harakat and
tatweel, Hebrew with niqqud, Devanagari, Persian with a zero-width non-joiner,
Han, kana (also half-width), Hangul (also as decomposed jamo) and Thai; soft
hyphens, the apostrophes ' ’ ʼ, ligatures, full-width letters, numbers in
several digit sets, decimals, and Latin runs glued to Han. The words are
written as people type them; what each query should find is decided by the
independent reference evaluator, never by a list in this file.
"""

from __future__ import annotations

import json
import random
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

LATIN = [
    "résumé",
    unicodedata.normalize("NFD", "résumé"),
    "resume",
    "Łódź",
    "Ødegaard",
    "Đoković",
    "Diyarbakır",
    "Æsop",
    "Straße",
    "strasse",
    "ﬁnance",
    "finance",
    "co\u00adoperate",
    "cooperate",
    "donʼt",
    "don’t",
    "don't",
    "apply",
    "applies",
    "applied",
    "applying",
    "application",
    "appliance",
    "banana",
    "bananas",
    "bannana",
    "banan",
    "bandana",
    "bonanza",
    "Libgen",
    "libgen",
    "ＬＩＢＧＥＮ",
    "naïve",
    unicodedata.normalize("NFD", "Zoë"),
    "Crème",
    "œuvre",
    "Þór",
    "and",
    "not",
    "xfirstword",
    "the",
    "for",
    "data",
    "model",
]
NUMBERS = [
    "7",
    "10",
    "12",
    "15",
    "20",
    "24",
    "99",
    "007",
    "2023",
    "12.5",
    "1,500",
    "٣",
    "١٢",
    "१५",
    "１８",
]
GREEK = ["Αθήνα", "αθηνα", "ΣΟΦΟΣ", "σοφός", "λόγος"]
CYRILLIC = ["Москва", "ёлка", "елка", "Привет", "данные"]
ARABIC = ["مُحَمَّد", "محمد", "كتاب", "كـتـاب", "بيانات"]
HEBREW = ["שָׁלוֹם", "שלום", "ספר", "סֵפֶר"]
DEVANAGARI = ["हिन्दी", "नमस्ते", "भारत", "डेटा"]
PERSIAN = ["می\u200cخواهم", "میخواهم", "کتاب"]
HAN = ["中文", "训练数据", "数据", "北京", "我们的数据来自Libgen", "数据Libgen"]
KANA = ["カタカナ", "ひらがな", "ガギ", "ｶﾀｶﾅ", "データ"]
HANGUL = ["한국어", "서울", unicodedata.normalize("NFD", "한국어"), "데이터"]
THAI = ["ภาษาไทย", "สวัสดี", "ข้อมูล"]
SCRIPTS = [
    LATIN,
    NUMBERS,
    GREEK,
    CYRILLIC,
    ARABIC,
    HEBREW,
    DEVANAGARI,
    PERSIAN,
    HAN,
    KANA,
    HANGUL,
    THAI,
]
PUNCT = [" ", " ", " ", " ", ", ", ". ", " - ", "! ", "? ", " (", ") ", ": "]
SPEAKERS = [
    ("u1", "Zoë Ødegaard"),
    ("u2", "Łukasz Wójcik"),
    ("u3", "محمد علي"),
    ("u4", "田中 太郎"),
    ("u5", "Dana Whitfield"),
]


def generate(out: Path, n: int, seed: int = 8) -> list[Path]:
    """Write ``n`` messages as two JSONL files (for two custodians); return their paths."""
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    files = [out / "zoe.jsonl", out / "lukasz.jsonl"]
    out.mkdir(parents=True, exist_ok=True)
    handles = [f.open("w", encoding="utf-8") for f in files]
    try:
        for i in range(n):
            main = rng.choice(SCRIPTS[2:]) if rng.random() < 0.5 else LATIN
            words = []
            for _ in range(rng.randint(2, 12)):
                pool = main if rng.random() < 0.6 else rng.choice(SCRIPTS)
                words.append(rng.choice(pool))
            body = ""
            for w in words:
                body += w + rng.choice(PUNCT)
            sid, name = rng.choice(SPEAKERS)
            row = {
                "conversation": rng.choice(["общий", "général", "全体", "legal-review"]),
                "speaker": name,
                "speaker_id": sid,
                "time": (start + timedelta(minutes=7 * i)).isoformat(),
                "text": body.strip(),
                "id": f"m{i}",
            }
            handles[i % 2].write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        for h in handles:
            h.close()
    return files
