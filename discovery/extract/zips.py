"""Zip archives: every member extracted in turn, under the archive limits of an ingest.

The limits are :mod:`discovery.archive`'s: at most ``MAX_MEMBERS`` members, a
member over ``RATIO_FLOOR`` bytes may not expand more than ``MAX_RATIO``:1
(a zip bomb), containers nest at most ``MAX_DEPTH`` deep, and the whole tree
unpacks at most ``MAX_TOTAL_BYTES`` (``Options`` carries them). Members are
read in memory, never written to disk. A member with an unsafe name
(absolute, a drive letter, ``..``) is read all the same (nothing is written,
so its name cannot harm) and reported; an encrypted or damaged member is
listed with its declared size and a problem. Operating-system litter
(``__MACOSX/``, ``.DS_Store``) is skipped as the ingest skips it.
"""

from __future__ import annotations

import io
import zipfile

from discovery.archive import ZIP_ERRORS, is_junk, safe_name
from discovery.extract.core import Body, Walk, refused
from discovery.extract.model import Extraction, Problem, ProblemCode
from discovery.extract.sniff import bomb_member


def read(data: bytes, walk: Walk) -> Body:
    zf = zipfile.ZipFile(io.BytesIO(data))
    members: list[Extraction] = []
    problems: list[Problem] = []
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        limit = walk.options.max_members
        if len(infos) > limit:
            return Body(
                problems=(
                    Problem(
                        ProblemCode.OVERSIZED,
                        f"archive refused: {len(infos):,} members (limit {limit:,})",
                    ),
                )
            )
        for info in infos:
            member = safe_name(info.filename)
            if member is not None and is_junk(member):
                continue
            name = member.as_posix() if member is not None else info.filename
            if member is None:
                problems.append(
                    Problem(
                        ProblemCode.UNSAFE_NAME,
                        "unsafe member name (absolute or outside the archive); read, never written",
                        name,
                    )
                )
            item = _member(zf, info, name, walk)
            members.append(item)
    return Body((), tuple(members), tuple(problems))


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, walk: Walk) -> Extraction:
    declared = info.file_size
    if info.flag_bits & 0x1:
        return refused(
            name,
            None,
            Problem(ProblemCode.ENCRYPTED, "encrypted zip member; supply it decrypted"),
            declared,
        )
    bomb = bomb_member(info)
    if bomb:
        return refused(name, None, Problem(ProblemCode.OVERSIZED, bomb), declared)
    over = walk.over_limits(declared)
    if over is not None:
        return refused(name, None, over, declared)
    try:
        raw = zf.read(info)
    except ZIP_ERRORS as e:
        return refused(
            name,
            None,
            Problem(ProblemCode.CORRUPT, f"cannot extract ({type(e).__name__}: {e})"),
            declared,
        )
    return walk.child(name, raw)
