"""Splits by subject: which recordings share a person, and every patient-wise split.

A record is not a patient. MIT-BIH Arrhythmia's 48 records come from 47 subjects:
records 201 and 202 were taken from the same man, from one analog tape (the database
directory says so, and both headers carry the same age, sex and medication). The
European ST-T Database's 90 records come from 79 subjects and its documentation does not
say which records share one; records whose headers give the same age, sex and clinical
lines (diagnoses, medication) are taken to be one subject, which errs on the side of
grouping. The QT Database's excerpts of MIT-BIH Arrhythmia and European ST-T records
belong to the subject of the record they were cut from (``Produced by xform from record
...``); its other excerpts count as one subject each.

Every patient-wise split here draws *subjects*, so two records of one person always land
in the same split, and :func:`check_disjoint` refuses a split in which they do not.
De Chazal's DS1/DS2 benchmark (:data:`ecgutils.data.DS1`, :data:`ecgutils.data.DS2`)
is the field's standard and is kept as published, although DS1 holds 201 and DS2 holds
202: the one subject the two sets share.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from . import data as _data

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import wfdb

__all__ = ["DS1_DS2_SHARED", "SAME_SUBJECT", "check_disjoint", "split_beat_random", "split_records",
           "split_records_covering", "subject_ids"]

#: Records of one database that come from one subject, by the database's documentation.
#: MIT-BIH Arrhythmia Database Directory (Moody & Mark): "Records 201 and 202 came from
#: the same male subject" (202's header: "taken from the same analog tape as record 201").
SAME_SUBJECT = {"mitdb": (("201", "202"),)}

#: The subject de Chazal's published DS1/DS2 split shares (201 in DS1, 202 in DS2): a
#: check of that protocol's splits allows it, and only it, by name.
DS1_DS2_SHARED = (("201", "202"),)

_SOURCE = re.compile(r"xform from record (\w+)")
_NOT_CLINICAL = re.compile(r"^(recorder type|produced by)", re.IGNORECASE)
_AGE_SEX = re.compile(r"age:\s*(\S+)\s+sex:\s*(\S+)", re.IGNORECASE)


def _documented(db: str, record: str) -> str:
    for group in SAME_SUBJECT.get(db, ()):
        if record in group:
            return f"{db}:{group[0]}"
    return f"{db}:{record}"


def _header_comments(db: str, record: str, root) -> list[str]:
    path = _data.database_dir(db, root) / record
    if not path.with_suffix(".hea").is_file():
        return []
    return [c.strip() for c in wfdb.rdheader(str(path)).comments]


def _edb_subject(record: str, comments: list[str]) -> str:
    """European ST-T: one subject per (age, sex, clinical lines) when age and sex are known."""
    text = " ".join(comments)
    age_sex = _AGE_SEX.search(text)
    if not age_sex or "-" in age_sex.groups():
        return f"edb:{record}"
    clinical = sorted(c for c in comments
                      if not _NOT_CLINICAL.match(c) and not _AGE_SEX.search(c))
    return "edb:" + "|".join([*age_sex.groups(), *clinical])


def subject_ids(records, db: str = "mitdb", root=None) -> np.ndarray:
    """The subject of each record: records that share a person share an id.

    Parameters
    ----------
    records : sequence of str
        Record names of ``db``.
    db : str
        ``mitdb`` (the documented 201/202 pair; no file is read), ``edb`` or ``qtdb``
        (the headers are read when the records are present: excerpts map to the subject of
        their source record, European ST-T records group by age, sex and clinical lines).
        Other databases: one subject per record.
    root : str or Path, optional
        Data root (default :func:`ecgutils.data.data_dir`).

    Returns
    -------
    numpy.ndarray of str
        One id per record, ``"<database>:<key>"``.

    See Also
    --------
    split_records : draws subjects, not records.

    Examples
    --------
    >>> subject_ids(["200", "201", "202"]).tolist()
    ['mitdb:200', 'mitdb:201', 'mitdb:201']
    """
    ids = []
    for record in (str(r) for r in records):
        if db == "mitdb":
            ids.append(_documented("mitdb", record))
            continue
        if db not in ("edb", "qtdb"):
            ids.append(f"{db}:{record}")
            continue
        comments = _header_comments(db, record, root)
        source = _SOURCE.search(" ".join(comments))
        if db == "edb" or (source and source.group(1).startswith("e0")):
            name = source.group(1) if db == "qtdb" else record
            ids.append(_edb_subject(name, comments))
        elif source and source.group(1).isdigit() and 100 <= int(source.group(1)) <= 234:
            ids.append(_documented("mitdb", source.group(1)))  # an MIT-BIH Arrhythmia excerpt
        else:
            ids.append(f"{db}:{record}")  # other sources' names are not subjects ("mqt2")
    return np.asarray(ids, dtype=str)


def _subject_of(records, db, root, subjects) -> dict[str, str]:
    records = [str(r) for r in records]
    if subjects is None:
        subjects = subject_ids(records, db, root)
    elif isinstance(subjects, dict):
        subjects = [subjects.get(r, r) for r in records]
    return dict(zip(records, (str(s) for s in subjects)))


def split_records(records, fractions=(0.7, 0.15, 0.15), seed: int = 0,
                  names=("train", "val", "test"), db: str = "mitdb", root=None,
                  subjects=None) -> dict[str, list[str]]:
    """Split records into disjoint groups by subject, seeded.

    Subjects are drawn in a seeded order and cut at the fractions of the number of
    subjects; each subject takes all its records with it. Where every record is its own
    subject, this is the plain record split.

    Parameters
    ----------
    records : sequence of str
    fractions : sequence of float
        One per split, summing to 1.
    seed : int
    names : sequence of str
        The split names.
    db, root : str, optional
        Where the records live, for :func:`subject_ids`.
    subjects : sequence or dict, optional
        The subject of each record, instead of :func:`subject_ids`.

    Returns
    -------
    dict of str -> list of str
        Sorted record names per split.

    See Also
    --------
    split_records_covering : the same, with every class in every split.
    check_disjoint : the leak check every split passes.

    Examples
    --------
    >>> s = split_records([str(r) for r in range(100, 120)], seed=1)
    >>> [len(s[k]) for k in ("train", "val", "test")]
    [14, 3, 3]
    >>> check_disjoint(s)
    >>> any({"201", "202"} <= set(part) for part in
    ...     split_records(["200", "201", "202", "203"], (0.5, 0.5), seed=0,
    ...                   names=("a", "b")).values())
    True
    """
    records = [str(r) for r in records]
    if len(fractions) != len(names) or not np.isclose(sum(fractions), 1):
        raise ValueError(f"fractions {fractions} must sum to 1, one per split {names}")
    if len(set(records)) != len(records):
        raise ValueError("records must be unique")
    subject = _subject_of(records, db, root, subjects)
    people = list(dict.fromkeys(subject[r] for r in records))  # first-appearance order
    order = np.random.default_rng(seed).permutation(len(people))
    bounds = np.round(np.cumsum(fractions)[:-1] * len(people)).astype(int)
    parts = np.split(np.asarray(people, dtype=object)[order], bounds)
    splits = {name: sorted(r for r in records if subject[r] in set(part.tolist()))
              for name, part in zip(names, parts)}
    check_disjoint(splits, subjects=subject)
    return splits


def check_disjoint(splits: dict[str, list], db: str = "mitdb", root=None,
                   subjects=None, allow_shared=()) -> None:
    """Raise if a record, or a subject, appears in two splits (a patient leak).

    ``allow_shared`` names pairs of records that may sit in two splits although they
    share a subject: :data:`DS1_DS2_SHARED` for de Chazal's published DS1/DS2 split.

    Examples
    --------
    >>> check_disjoint({"train": ["200", "201"], "test": ["203"]})
    >>> check_disjoint({"DS1": ["201"], "DS2": ["202"]}, allow_shared=DS1_DS2_SHARED)
    >>> check_disjoint({"train": ["201"], "test": ["202"]})
    Traceback (most recent call last):
    ...
    ValueError: records 201 ('train') and 202 ('test') come from one subject (mitdb:201): a subject's records must stay in one split
    """
    seen: dict[str, str] = {}
    for name, records in splits.items():
        for r in records:
            if str(r) in seen and seen[str(r)] != name:
                raise ValueError(f"record {r} is in both '{seen[str(r)]}' and '{name}': "
                                 f"patient-wise splits must not share records")
            seen[str(r)] = name
    subject = _subject_of(list(seen), db, root, subjects)
    owner: dict[str, tuple[str, str]] = {}
    for record, name in seen.items():
        s = subject[record]
        if s in owner and owner[s][1] != name:
            other, where = owner[s]
            if any({other, record} == set(pair) for pair in allow_shared):
                continue
            raise ValueError(f"records {other} ('{where}') and {record} ('{name}') come from "
                             f"one subject ({s}): a subject's records must stay in one split")
        owner.setdefault(s, (record, name))


def split_records_covering(counts: pd.DataFrame, fractions=(0.7, 0.15, 0.15), seed: int = 0,
                           min_count: int = 1, max_tries: int = 1000,
                           names=("train", "val", "test"), strict: bool = True,
                           db: str = "mitdb", root=None, subjects=None):
    """A split by subject (:func:`split_records`) in which every split holds every class.

    Tries ``seed``, ``seed + 1``, ... and keeps the first split in which each class has
    at least ``min_count`` beats in each split: a stratified group split. Only the
    labels are looked at, never a model's results, so the test split is not tuned.

    Parameters
    ----------
    counts : DataFrame
        Beats per record (index) and class (columns), e.g. ``pd.crosstab(record, label)``.
    strict : bool
        If no seed works within ``max_tries``: raise (True), or return the split with the
        fewest missing (split, class) pairs (False, e.g. for a smoke run on few records).
    db, root, subjects
        As in :func:`split_records`.

    Returns
    -------
    splits : dict of str -> list of str
    seed_used : int
    missing : dict of str -> list of str
        Classes below ``min_count`` in each split (empty when every class is covered).

    Examples
    --------
    >>> counts = pd.DataFrame({"a": [5] * 10, "b": [0] * 7 + [5] * 3},
    ...                       index=[str(r) for r in range(10)])
    >>> splits, used, missing = split_records_covering(counts, (0.4, 0.3, 0.3))
    >>> missing
    {}
    >>> sorted(len(splits[k]) for k in splits), all(
    ...     counts.loc[splits[k], "b"].sum() > 0 for k in splits)
    ([3, 3, 4], True)
    """
    records = [str(r) for r in counts.index]
    subject = _subject_of(records, db, root, subjects)
    table = counts.to_numpy()
    classes = np.asarray([str(c) for c in counts.columns])
    row = {r: i for i, r in enumerate(records)}
    best = None
    for s in range(seed, seed + max_tries):
        splits = split_records(records, fractions, seed=s, names=names, subjects=subject)
        missing = {}
        for k, recs in splits.items():
            short = table[[row[r] for r in recs]].sum(axis=0) < min_count
            if short.any():
                missing[k] = classes[short].tolist()
        n_missing = sum(len(v) for v in missing.values())
        if best is None or n_missing < best[0]:
            best = (n_missing, splits, s, missing)
        if n_missing == 0:
            break
    if best[0] and strict:
        raise ValueError(f"no seed in {seed}..{seed + max_tries - 1} gives every split at "
                         f"least {min_count} beats of every class; best (seed {best[2]}) "
                         f"misses {best[3]}. Use more records or a smaller min_count.")
    return best[1], best[2], best[3]


def split_beat_random(labels, fractions=(0.7, 0.15, 0.15), seed: int = 0,
                      names=("train", "val", "test")) -> np.ndarray:
    """A split of beats (or windows) at random, stratified by class: patients leak across
    splits (the beat-random protocol, shown on purpose in chapters 02 and 08).

    Examples
    --------
    >>> split = split_beat_random(np.repeat(["A", "B"], [60, 40]), seed=0)
    >>> {n: int((split == n).sum()) for n in ("train", "val", "test")}
    {'train': 69, 'val': 16, 'test': 15}
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    if len(fractions) != 3 or len(names) != 3 or not np.isclose(sum(fractions), 1):
        raise ValueError(f"need three fractions summing to 1 and three names, got "
                         f"{fractions} and {names}")
    idx = np.arange(labels.size)
    rest, test = train_test_split(idx, test_size=fractions[2], stratify=labels,
                                  random_state=seed)
    train, val = train_test_split(rest, test_size=fractions[1] / (1 - fractions[2]),
                                  stratify=labels[rest], random_state=seed)
    split = np.empty(labels.size, dtype=object)
    split[train], split[val], split[test] = names
    return split.astype(str)
