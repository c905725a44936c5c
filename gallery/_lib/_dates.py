"""Dates written in many human formats and languages, their ISO ``YYYY-MM-DD``
translations, and the rule-based baseline (``dateutil``) that reads them.

The dates are drawn with ``faker`` (``date_between``) from 1980-01-01 to 2029-12-31
and written in one of 24 patterns of eight families: numeric year-first, numeric
month-first (the US order, always with slashes), numeric day-first (always with dots
or dashes), and month names in English, French, German, Spanish and Italian (the
names from faker's locale providers). Each calendar day belongs to one split only, so
every test date is a day the network never saw in training. The splits and strings
depend only on fixed seeds, never on the run's seed.

Only the attention seq2seq example uses this file.
"""

import datetime
import importlib

import numpy as np
import torch
from dateutil import parser as dateparser
from faker import Faker

FIRST, LAST = datetime.date(1980, 1, 1), datetime.date(2029, 12, 31)
OUT_CHARS = "0123456789-"  # output ids 0..10; id 11 is the decoder's start token
BOS = len(OUT_CHARS)

#: family -> (language, patterns); {d} day, {dd} zero-padded, {m}/{mm} month, {yy}
#: {yyyy} year, {B} month name, {b} its first three letters, {A} weekday name
FORMATS = {
    "year first": ("en", ["{yyyy}-{mm}-{dd}", "{yyyy}.{mm}.{dd}", "{yyyy}/{m}/{d}",
                          "{yyyy}{mm}{dd}"]),
    "month first (US)": ("en", ["{mm}/{dd}/{yyyy}", "{m}/{d}/{yy}", "{m}/{d}/{yyyy}"]),
    "day first": ("en", ["{dd}.{mm}.{yyyy}", "{d}.{m}.{yy}", "{dd}-{mm}-{yyyy}"]),
    "English": ("en", ["{B} {d}, {yyyy}", "{b} {dd}, {yyyy}", "{A}, {B} {d}, {yyyy}",
                       "{d} {B} {yyyy}", "{d} {b} {yy}"]),
    "French": ("fr_FR", ["{d} {B} {yyyy}", "le {d} {B} {yyyy}", "{A} {d} {B} {yyyy}"]),
    "German": ("de_DE", ["{d}. {B} {yyyy}", "{A}, {dd}. {B} {yyyy}"]),
    "Spanish": ("es_ES", ["{d} de {B} de {yyyy}", "{A}, {d} de {B} de {yyyy}"]),
    "Italian": ("it_IT", ["{d} {B} {yyyy}", "{A} {d} {B} {yyyy}"]),
}  # fmt: skip


def _names(language):
    """Month names (January first) and weekday names (Monday first) of a language."""
    if language == "en":
        months = [datetime.date(2000, m, 1).strftime("%B") for m in range(1, 13)]
        days = [datetime.date(2001, 1, d).strftime("%A") for d in range(1, 8)]
        return months, days
    p = importlib.import_module(f"faker.providers.date_time.{language}").Provider
    months = [p.MONTH_NAMES[f"{m:02d}"].lower() for m in range(1, 13)]
    days = [p.DAY_NAMES[str(d % 7)] for d in range(1, 8)]  # faker's "0" is Sunday
    if language == "de_DE":
        months = [m.capitalize() for m in months]
    return months, days


NAMES = {lang: _names(lang) for lang, _ in FORMATS.values()}


def write(date, family, pattern):
    """``date`` written in ``pattern`` of ``family``."""
    months, days = NAMES[FORMATS[family][0]]
    month = months[date.month - 1]
    return pattern.format(
        d=date.day, dd=f"{date.day:02d}", m=date.month, mm=f"{date.month:02d}",
        yy=f"{date.year % 100:02d}", yyyy=date.year, B=month, b=month[:3],
        A=days[date.weekday()],
    )  # fmt: skip


def split_of_day():
    """A fixed split for every day from FIRST to LAST: 0 train, 1 validation, 2 test
    (70/10/20 per cent of the days)."""
    n = (LAST - FIRST).days + 1
    split = np.zeros(n, dtype=np.int64)
    order = np.random.default_rng(2015).permutation(n)
    split[order[: n // 5]] = 2
    split[order[n // 5 : n // 5 + n // 10]] = 1
    return split


def make_split(which, n, seed):
    """``n`` examples ``(text, iso, family)`` of split ``which`` (0, 1 or 2): a date
    drawn by faker (redrawn until its day belongs to the split), a family and one of
    its patterns drawn uniformly."""
    split = split_of_day()
    fake = Faker()
    fake.seed_instance(seed)
    rng = np.random.default_rng(seed)
    families = list(FORMATS)
    out = []
    while len(out) < n:
        date = fake.date_between(start_date=FIRST, end_date=LAST)
        if split[(date - FIRST).days] != which:
            continue
        family = families[rng.integers(len(families))]
        patterns = FORMATS[family][1]
        text = write(date, family, patterns[rng.integers(len(patterns))])
        out.append((text, date.isoformat(), family))
    return out


class Chars:
    """Input characters of the training strings; id 0 is padding, 1 any unseen one."""

    def __init__(self, texts):
        self.chars = ["<pad>", "\ufffd"] + sorted(set("".join(texts)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, texts):
        """Right-padded ids (N, longest text)."""
        width = max(len(t) for t in texts)
        x = torch.zeros(len(texts), width, dtype=torch.long)
        for i, t in enumerate(texts):
            x[i, : len(t)] = torch.tensor([self.index.get(c, 1) for c in t])
        return x


def encode_iso(isos):
    """ISO strings -> output ids (N, 10)."""
    return torch.tensor([[OUT_CHARS.index(c) for c in s] for s in isos])


def decode_iso(ids):
    """Output ids (N, 10) -> strings."""
    return ["".join(OUT_CHARS[i] if i < BOS else "?" for i in row) for row in ids]


class _Info(dateparser.parserinfo):
    """dateutil's parser taught every month and weekday name of the data's languages,
    their filler words, and the data's two-digit-year window (80-99 are 19xx)."""

    JUMP = dateparser.parserinfo.JUMP + ["de", "le"]
    MONTHS = [
        tuple(dict.fromkeys(list(en) + [NAMES[lang][0][m] for lang in NAMES]))
        for m, en in enumerate(dateparser.parserinfo.MONTHS)
    ]
    WEEKDAYS = [
        tuple(dict.fromkeys(list(en) + [NAMES[lang][1][d] for lang in NAMES]))
        for d, en in enumerate(dateparser.parserinfo.WEEKDAYS)
    ]

    def convertyear(self, year, century_specified=False):
        if year < 100 and not century_specified:
            year += 1900 if year >= 80 else 2000
        return year


RULES = {
    "month first": lambda text: False,
    "day first": lambda text: True,
    "day first unless slashes": lambda text: "/" not in text,
    "day first unless slashes or year first": lambda text: (
        not ("/" in text or text[:4].isdigit())
    ),
}


def dateutil_iso(texts, rule):
    """``dateutil.parser.parse`` (fuzzy, with ``_Info``) of every text, as ISO strings
    ("" where it fails); ``rule`` (a key of RULES) says when to read day first."""
    info, out = _Info(), []
    for text in texts:
        try:
            date = dateparser.parse(text, info, dayfirst=RULES[rule](text), fuzzy=True)
            out.append(date.date().isoformat())
        except (ValueError, OverflowError):
            out.append("")
    return out
