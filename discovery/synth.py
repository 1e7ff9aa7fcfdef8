"""Seeded synthetic Slack exports in the real Slack layout, for benchmarks and tests.

``generate_slack_export(out, 200_000, seed=7)`` writes ``users.json``,
``channels.json`` and one folder per channel NAME holding ``YYYY-MM-DD.json``
day files (grouped by UTC day), exactly as Slack does, so the corpus goes
through the real importer. Everything derives from ``random.Random(seed)``:
the same arguments give byte-identical files (and zip).

The text is English-like chat drawn from a Zipf-weighted vocabulary that keeps
the stop words (``the``, ``for``, ``not`` ...), so phrase and proximity
queries meet the same problems as on real chat. A few phrases are planted at
controlled rates (:data:`PLANTED`); their words never occur in the vocabulary,
so :attr:`SynthStats.planted` is the exact number of messages containing each,
a ground truth for search tests. Times spread over the whole year (2023 by
default, so both the US and EU daylight-saving changes fall inside),
weighted towards working hours in US time; about ``thread_rate`` of the
messages are thread replies (``thread_ts``), some filed days after their root.

Command line: ``python -m discovery.synth OUT --messages N --seed S [--zip FILE]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


def _wordlist(text: str) -> list[str]:
    return text.split()


_STOP = _wordlist(
    "the to and a i you it of that is in for we on this be have not just so but with "
    "are can do if at was me my it's what think will they all be about would get like "
    "there an or our as one from up out know no yes ok now then should could how when"
)
_CONTENT = _wordlist(
    "model data books corpus training run eval team release license licensing publisher "
    "publishers dataset download mirror archive pipeline budget meeting deadline review "
    "legal contract draft update numbers dashboard accuracy baseline results paper reader "
    "reading library catalog titles scan scans ocr text tokens gpu cluster job queue "
    "storage bucket copy copies source sources deal price offer call tomorrow today "
    "monday friday week weekend morning afternoon plan idea question answer problem fix "
    "bug test tests launch customer customers users feedback slides demo board investor "
    "investors hire hiring offer email doc docs notes summary link file files folder "
    "version new old big small fast slow good great bad fine sure thanks thank please "
    "sorry maybe later soon agree disagree check send share ask need want use using "
    "used make made take took look looks looking work works working done ready "
    "quick long short full half first last next best better worse risk risky safe "
    "policy terms rights author authors approvals agreement lawyers counsel memo "
    "schedule sync standup retro sprint ticket issue branch merge deploy rollback "
    "metrics chart graph table row rows column columns query search index vendor "
    "shadow scraped crawl crawler site sites web pages page pdf epub format formats"
)
VOCABULARY: tuple[str, ...] = tuple(dict.fromkeys(_STOP + _CONTENT))
"""The words of ordinary messages, most frequent first (weights follow Zipf's law)."""

PLANTED: dict[str, tuple[float, tuple[str, ...]]] = {
    "ask forgiveness": (
        0.0015,
        (
            "we should just ask forgiveness",
            "easier to ask forgiveness later",
            "better to ask forgiveness than permission",
            "ask forgiveness not permission",
        ),
    ),
    "for permission": (
        0.0015,
        ("we need to ask for permission", "nobody asked for permission", "for permission"),
    ),
    "pirated books": (0.001, ("those are pirated books", "the pirated books", "pirated books")),
    "libgen": (0.001, ("grab it from Libgen", "Libgen is essential", "the libgen mirror")),
    "línea": (0.0005, ("la Línea base", "Línea uno", "see Línea two")),
}
"""Planted phrase -> (share of messages, variants). The key is what to search for."""

_FIRST = _wordlist(
    "Ada Ben Cleo Dev Emi Finn Gia Hugo Iris Jon Kai Lena Milo Nora Omar Pia Quinn Rosa "
    "Sam Tara Uma Vic Wren Xan Yara Zane Alma Bruno Chloe Dario Esme Felix Greta Hana Ivan "
    "Jade Kofi Luz Mateo Nia Otto Priya Rafa Sofia Teo Ulla Vera Wim Yusuf Zoe"
)
_LAST = _wordlist(
    "Abbott Barros Chen Duarte Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Laine "
    "Moreau Nakamura Okafor Petrov Quist Rossi Silva Tanaka Ueda Varga Weber Xu Yilmaz Zhou"
)
_CHANNELS = _wordlist(
    "general random data-acquisition model-training legal engineering product marketing "
    "sales ops research design infra support hiring finance leadership partnerships "
    "security announcements"
)

# Hour-of-day weights in UTC: busiest during US working hours (13:00-23:00 UTC).
_HOUR_WEIGHTS = (2, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 8, 10, 12, 12, 12, 12, 11, 10, 9, 7, 5, 3)
_LENGTHS = tuple(range(1, 31))
_LENGTH_WEIGHTS = tuple(max(1, 14 - abs(n - 9)) for n in _LENGTHS)


@dataclass(frozen=True, slots=True)
class SynthStats:
    """What :func:`generate_slack_export` wrote.

    Attributes:
        planted: planted phrase -> number of messages containing it.
        threads: thread roots (messages with at least one reply).
        replies: thread replies.
        system: system events.
        files: day files written.
    """

    path: Path
    messages: int
    channels: int
    users: int
    files: int
    threads: int
    replies: int
    planted: dict[str, int] = field(default_factory=dict)
    system: int = 0
    """System events (joins, topic changes) among the messages."""
    zip_path: Path | None = None


def _user_id(i: int) -> str:
    return f"U{i + 1:08d}"


def _channel_id(i: int) -> str:
    return f"C{i + 1:08d}"


def _users(rng: random.Random, n: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    names = [f"{f} {last}" for last, f in itertools.product(_LAST, _FIRST)]
    rng.shuffle(names)
    for i in range(n):
        real = names[i % len(names)] + ("" if i < len(names) else f" {i // len(names) + 1}")
        handle = real.lower().replace(" ", ".")
        display = real.split()[0] if rng.random() < 0.5 else ""
        out.append(
            {
                "id": _user_id(i),
                "team_id": "T00SYNTH0",
                "name": handle,
                "deleted": False,
                "real_name": real,
                "tz": "America/New_York",
                "is_bot": False,
                "profile": {
                    "real_name": real,
                    "real_name_normalized": real,
                    "display_name": display,
                    "display_name_normalized": display,
                },
            }
        )
    return out


def _channels(rng: random.Random, n: int, n_users: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(n):
        name = _CHANNELS[i] if i < len(_CHANNELS) else f"project-{i:03d}"
        size = n_users if i == 0 else rng.randint(min(3, n_users), n_users)
        members = sorted(rng.sample(range(n_users), size))
        out.append(
            {
                "id": _channel_id(i),
                "name": name,
                "created": 1672531200,
                "creator": _user_id(members[0]),
                "is_archived": False,
                "is_general": i == 0,
                "members": [_user_id(m) for m in members],
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": f"Synthetic channel {name}", "creator": "", "last_set": 0},
            }
        )
    return out


class _Writer:
    """Writes members to the folder and, optionally, a deterministic zip."""

    def __init__(self, out_dir: Path, zip_path: Path | None) -> None:
        self.out_dir = out_dir
        self.zip: zipfile.ZipFile | None = None
        if zip_path is not None:
            zip_path.parent.mkdir(parents=True, exist_ok=True)
            self.zip = zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=6)

    def write(self, member: str, obj: object) -> None:
        data = (json.dumps(obj, indent=4, ensure_ascii=False) + "\n").encode("utf-8")
        target = self.out_dir / member
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if self.zip is not None:
            info = zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            self.zip.writestr(info, data)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def generate_slack_export(
    out_dir: Path,
    n_messages: int,
    seed: int = 0,
    *,
    n_channels: int = 8,
    n_users: int = 40,
    year: int = 2023,
    thread_rate: float = 0.08,
    mention_rate: float = 0.03,
    edit_rate: float = 0.02,
    zip_path: Path | None = None,
    vocabulary: int = 0,
    system_rate: float = 0.0,
) -> SynthStats:
    """Write a synthetic Slack export of ``n_messages`` messages to ``out_dir``.

    Args:
        out_dir: the export folder; created, and it must be empty if it exists.
        n_messages: messages to write (all ordinary messages, no system events).
        seed: the random seed; equal arguments give byte-identical output.
        n_channels: channels (the first is ``general`` with every user).
        n_users: users.
        year: the calendar year the times fall in (UTC).
        thread_rate: share of messages that are thread replies.
        mention_rate: share of messages that mention a user (``<@U...>``).
        edit_rate: share of messages edited, with their earlier text exported.
        zip_path: also write the same members into this zip.
        vocabulary: made-up words added after the built-in ones (which are only
            about 300; real chat has 10**5 to 10**6 distinct words), continuing
            the same Zipf weights. 0 keeps the built-in vocabulary, and the
            output is what it was before this option existed.
        system_rate: share of messages written as system events instead (a
            ``channel_join`` or ``channel_topic`` entry, never in a thread, no
            planted phrase). 0 (the default) writes none and leaves the output
            as it was before this option existed.

    Raises:
        ValueError: bad counts or a non-empty ``out_dir``.
    """
    if n_messages < 0 or n_channels < 1 or n_users < 1:
        raise ValueError("messages must be >= 0, channels and users >= 1")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(f"{out_dir} is not empty")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    users = _users(rng, n_users)
    channels = _channels(rng, n_channels, n_users)

    # Times: a day of the year uniformly, an hour by weight, minute/second uniformly.
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    days = (datetime(year + 1, 1, 1, tzinfo=UTC) - datetime(year, 1, 1, tzinfo=UTC)).days
    hours = rng.choices(range(24), weights=_HOUR_WEIGHTS, k=n_messages)
    times = sorted(
        start + rng.randrange(days) * 86400 + h * 3600 + rng.randrange(3600) for h in hours
    )
    chan_weights = [1.0 / (i + 1) ** 0.7 for i in range(n_channels)]
    chan_of = rng.choices(range(n_channels), weights=chan_weights, k=n_messages)
    lengths = rng.choices(_LENGTHS, weights=_LENGTH_WEIGHTS, k=n_messages)
    vocab = VOCABULARY + _made_up_words(vocabulary, seed) if vocabulary else VOCABULARY
    cum = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(vocab))))
    total_words = sum(lengths)
    words = rng.choices(vocab, cum_weights=cum, k=total_words)
    members = [[str(m) for m in c["members"]] for c in channels]  # type: ignore[attr-defined]
    planted_items = list(PLANTED.items())
    planted_counts = dict.fromkeys(PLANTED, 0)

    per_channel: list[list[dict[str, object]]] = [[] for _ in range(n_channels)]
    recent: list[list[dict[str, object]]] = [[] for _ in range(n_channels)]
    seq = [0] * n_channels
    replies = 0
    systems = 0
    roots: set[int] = set()
    w = 0
    for i in range(n_messages):
        c = chan_of[i]
        seq[c] += 1
        ts = f"{times[i]}.{seq[c] % 1_000_000:06d}"
        chunk = words[w : w + lengths[i]]
        w += lengths[i]
        if system_rate and rng.random() < system_rate:
            per_channel[c].append(_system_event(rng, rng.choice(members[c]), ts, chunk))
            systems += 1
            continue
        for key, (rate, variants) in planted_items:
            if rng.random() < rate:
                chunk.insert(rng.randint(0, len(chunk)), rng.choice(variants))
                planted_counts[key] += 1
        if rng.random() < mention_rate:
            chunk.insert(0, f"<@{rng.choice(members[c])}>")
        text = " ".join(chunk)
        text = text[:1].upper() + text[1:] + rng.choice((".", ".", "", "?", "!"))
        user = rng.choice(members[c])
        msg: dict[str, object] = {"type": "message", "text": text, "user": user, "ts": ts}
        if rng.random() < edit_rate:
            # An edit, exported with the earlier text (Slack's previous_message):
            # ordinary words only, so the planted counts stay exact.
            earlier = rng.choices(vocab, cum_weights=cum, k=rng.randint(2, 12))
            msg["edited"] = {"user": user, "ts": ts}
            msg["previous_message"] = {"text": " ".join(earlier)}
        if recent[c] and rng.random() < thread_rate:
            root = rng.choice(recent[c])
            root_ts = str(root["ts"])
            if id(root) not in roots:
                roots.add(id(root))
                root["thread_ts"] = root_ts
                root["reply_count"] = 0
                root["reply_users"] = []
            root["reply_count"] = int(root["reply_count"]) + 1  # type: ignore[call-overload]
            reply_users: list[str] = root["reply_users"]  # type: ignore[assignment]
            if user not in reply_users:
                reply_users.append(user)
            root["latest_reply"] = ts
            msg["thread_ts"] = root_ts
            msg["parent_user_id"] = root["user"]
            replies += 1
        else:
            recent[c].append(msg)
            if len(recent[c]) > 40:
                del recent[c][0]
        if rng.random() < 0.02:
            msg["reactions"] = [
                {"name": rng.choice(("+1", "eyes", "tada", "joy")), "users": [user], "count": 1}
            ]
        per_channel[c].append(msg)

    writer = _Writer(out_dir, zip_path)
    files = 0
    try:
        writer.write("channels.json", channels)
        writer.write("users.json", users)
        for c, msgs in enumerate(per_channel):
            name = str(channels[c]["name"])
            for day, group in itertools.groupby(msgs, key=lambda m: _day(str(m["ts"]))):
                writer.write(f"{name}/{day}.json", list(group))
                files += 1
    finally:
        writer.close()
    return SynthStats(
        path=out_dir,
        messages=n_messages,
        channels=n_channels,
        users=n_users,
        files=files,
        threads=len(roots),
        replies=replies,
        system=systems,
        planted=planted_counts,
        zip_path=zip_path,
    )


def _system_event(rng: random.Random, user: str, ts: str, words: list[str]) -> dict[str, object]:
    """A Slack system entry: someone joined, or set the topic (to ordinary words)."""
    if rng.random() < 0.5:
        return {"type": "message", "subtype": "channel_join", "user": user, "ts": ts,
                "text": f"<@{user}> has joined the channel"}  # fmt: skip
    topic = " ".join(words[:6])
    return {"type": "message", "subtype": "channel_topic", "user": user, "ts": ts,
            "topic": topic, "text": f"set the channel topic: {topic}"}  # fmt: skip


_SYLLABLES = _wordlist(
    "ka ri to ne mu sa lo vi de pa zu ho fe gi ta me no ru ba ko ly ve ma si da po ke lu "
    "ni wa ze go"
)


def _made_up_words(n: int, seed: int) -> tuple[str, ...]:
    """``n`` distinct pronounceable words, none of them a built-in or planted word.

    Word ``i`` spells a scrambled ``i`` in base 32 with two-letter syllables, so
    different numbers give different words.
    """
    taken = set(VOCABULARY) | {w.lower() for key in PLANTED for w in key.split()}
    k = 3
    while 32**k < 2 * n + len(taken):
        k += 1
    space = 32**k
    step = random.Random(f"vocabulary {seed}").randrange(space // 4, space // 2) | 1
    out: list[str] = []
    i = 0
    while len(out) < n:
        x = i * step % space  # an odd step is a bijection of 0 .. space-1
        i += 1
        word = "".join(_SYLLABLES[x >> (5 * j) & 31] for j in range(k))
        if word not in taken:
            out.append(word)
    return tuple(out)


def _day(ts: str) -> str:
    return datetime.fromtimestamp(int(ts.partition(".")[0]), UTC).strftime("%Y-%m-%d")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m discovery.synth OUT --messages N --seed S``."""
    ap = argparse.ArgumentParser(
        prog="python -m discovery.synth",
        description="Write a seeded synthetic Slack export (real Slack layout).",
    )
    ap.add_argument("out", type=Path, help="export folder to create (must be empty)")
    ap.add_argument("--messages", type=int, default=10_000, help="number of messages")
    ap.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--year", type=int, default=2023)
    ap.add_argument("--thread-rate", type=float, default=0.08)
    ap.add_argument("--zip", type=Path, default=None, help="also write this zip")
    ap.add_argument(
        "--vocabulary", type=int, default=0, help="made-up words added to the built-in ~300"
    )
    args = ap.parse_args(argv)
    try:
        stats = generate_slack_export(
            args.out,
            args.messages,
            args.seed,
            n_channels=args.channels,
            n_users=args.users,
            year=args.year,
            thread_rate=args.thread_rate,
            zip_path=args.zip,
            vocabulary=args.vocabulary,
        )
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    summary = {
        "path": str(stats.path),
        "zip": str(stats.zip_path) if stats.zip_path else None,
        "messages": stats.messages,
        "channels": stats.channels,
        "users": stats.users,
        "files": stats.files,
        "threads": stats.threads,
        "replies": stats.replies,
        "planted": stats.planted,
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
