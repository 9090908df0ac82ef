"""A Holter-style report of a beat table: counts, heart rate, ectopic burden, runs, a strip.

What a Holter summary shows first, computed from the beat table of
:func:`ecgutils.beat_table.annotate_signal` (all vectorised over beats):

- beat counts per class and the share of the recording that was readable;
- heart rate over time (per minute: 60 over the median RR interval between readable
  beats) with its minimum and maximum;
- ectopic burden per hour: S and V beats and their share of the hour's beats;
- isolated S and V beats, couplets and runs of three or more (:func:`ecgutils.runs.beat_runs`),
  each with its time;
- the worst minute: the one with the most S and V beats (the fastest minute when there
  are none), drawn as a labelled strip.

Beats flagged unreadable are left out of the counts, the heart rate and the burden, and
break runs. :func:`write_report` writes an HTML page (figures embedded as base64 PNG,
nothing to fetch) and the same numbers as text.
"""
from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd

from .experiment import _atomic_write
from .runs import beat_runs

__all__ = ["ECTOPIC", "clock", "heart_rate_trend", "holter_summary", "hourly_burden",
           "plot_burden", "plot_heart_rate", "plot_strip", "report_html", "report_text",
           "worst_minute", "write_report"]

ECTOPIC = ("S", "V")
#: Couplets and runs listed in the text summary (the HTML page lists all).
TEXT_EVENTS = 50
_COLOURS = {"N": "#333333", "S": "#1f77b4", "V": "#d62728"}


def clock(seconds) -> str:
    """Elapsed time as ``h:mm:ss``.

    >>> clock(3725.4), clock(59.9)
    ('1:02:05', '0:00:59')
    """
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _readable(table) -> pd.DataFrame:
    return table[table["readable"].astype(bool)] if "readable" in table else table


def heart_rate_trend(table: pd.DataFrame, duration_s: float, window_s: float = 60.0
                     ) -> pd.DataFrame:
    """Heart rate per window: 60 over the median RR interval that ends in it.

    Only intervals between two consecutive readable beats count; a window without one
    has NaN.

    Returns
    -------
    pandas.DataFrame
        ``start_s``, ``hr_bpm``, ``beats`` (readable beats in the window).

    Examples
    --------
    >>> t = pd.DataFrame({"time_s": np.arange(0, 120, 0.5), "readable": True})
    >>> heart_rate_trend(t, 120).round(1).values.tolist()
    [[0.0, 120.0, 120.0], [60.0, 120.0, 120.0]]
    """
    n_windows = max(1, int(np.ceil(duration_s / window_s)))
    time = table["time_s"].to_numpy(float)
    readable = table["readable"].to_numpy(bool) if "readable" in table else np.ones(time.size,
                                                                                   bool)
    rr = np.diff(time)
    both = readable[1:] & readable[:-1]
    window = np.minimum((time[1:] // window_s).astype(int), n_windows - 1)
    median_rr = pd.Series(rr[both]).groupby(window[both]).median()
    hr = np.full(n_windows, np.nan)
    hr[median_rr.index.to_numpy()] = 60.0 / median_rr.to_numpy()
    beats = np.bincount(np.minimum((time[readable] // window_s).astype(int), n_windows - 1),
                        minlength=n_windows)
    return pd.DataFrame({"start_s": np.arange(n_windows) * window_s, "hr_bpm": hr,
                         "beats": beats})


def hourly_burden(table: pd.DataFrame, duration_s: float, classes=("N", "S", "V")
                  ) -> pd.DataFrame:
    """Readable beats per hour and class, and the S and V share of each hour's beats (%).

    Examples
    --------
    >>> t = pd.DataFrame({"time_s": [10, 20, 30, 3700], "label": list("NVSV"),
    ...                   "readable": True})
    >>> hourly_burden(t, 7200).to_dict("list")["V_pct"]
    [33.3, 100.0]
    """
    t = _readable(table)
    n_hours = max(1, int(np.ceil(duration_s / 3600)))
    hour = np.minimum((t["time_s"].to_numpy(float) // 3600).astype(int), n_hours - 1)
    counts = pd.crosstab(hour, t["label"].to_numpy(str)).reindex(
        index=range(n_hours), columns=list(classes), fill_value=0)
    out = pd.DataFrame({"hour": np.arange(n_hours), "start": [clock(3600 * h)
                                                              for h in range(n_hours)]})
    out["beats"] = np.bincount(hour, minlength=n_hours)
    for c in classes:
        out[c] = counts[c].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in ECTOPIC:
            if c in classes:
                out[f"{c}_pct"] = np.round(100.0 * out[c] / out["beats"], 1)
    return out


def worst_minute(table: pd.DataFrame, duration_s: float) -> tuple[float, str]:
    """Start (s) of the minute with the most S and V beats, and why it was chosen.

    Ties go to the earliest minute. With no S or V beat at all, the minute of the
    fastest heart rate.

    >>> t = pd.DataFrame({"time_s": [5, 70, 75, 130], "label": list("VSVN"), "readable": True})
    >>> worst_minute(t, 180)
    (60.0, 'most S and V beats (2)')
    """
    t = _readable(table)
    n = max(1, int(np.ceil(duration_s / 60)))
    minute = np.minimum((t["time_s"].to_numpy(float) // 60).astype(int), n - 1)
    ectopic = np.bincount(minute[np.isin(t["label"], ECTOPIC)], minlength=n)
    if ectopic.max() > 0:
        return 60.0 * int(np.argmax(ectopic)), f"most S and V beats ({ectopic.max()})"
    hr = heart_rate_trend(table, duration_s)["hr_bpm"].to_numpy()
    if np.all(np.isnan(hr)):
        return 0.0, "the first minute (no heart rate measured)"
    i = int(np.nanargmax(hr))
    return 60.0 * i, f"fastest heart rate ({hr[i]:.0f} bpm); no S or V beat"


def _run_table(table: pd.DataFrame, fs: float) -> pd.DataFrame:
    labels = table["label"].to_numpy(str).copy()
    if "readable" in table:
        labels[~table["readable"].to_numpy(bool)] = "?"  # an unreadable beat breaks a run
    runs = beat_runs(labels, ECTOPIC, table["sample"].to_numpy(), fs)
    runs["start_s"] = runs["start"] / fs
    runs["end_s"] = runs["end"] / fs
    return runs


def holter_summary(table: pd.DataFrame, fs: float, duration_s: float,
                   readable_share: float | None = None) -> dict:
    """The numbers of a Holter summary of one recording.

    Parameters
    ----------
    table : pandas.DataFrame
        A beat table (:func:`ecgutils.beat_table.annotate_signal`): ``sample``,
        ``time_s``, ``label``, ``readable``.
    fs : float
        Sampling rate of ``sample``.
    duration_s : float
        Length of the recording.
    readable_share : float, optional
        Share of the recording's time that was readable (from the quality mask);
        default the share of readable beats.

    Returns
    -------
    dict
        ``duration_s``, ``readable_share``, ``beats`` (all), ``readable_beats``,
        ``counts`` (per class), ``burden_pct`` (S and V share of readable beats),
        ``hr_mean``/``hr_min``/``hr_max`` (bpm, from the per-minute trend) with
        ``hr_min_at``/``hr_max_at`` (s), and per ectopic class ``runs[c]``: ``isolated``,
        ``couplets``, ``runs`` (3 or more), ``longest`` (beats), ``longest_at`` (s),
        ``fastest_bpm`` (of runs); plus ``runs_table``, ``trend``, ``burden`` and
        ``worst_minute_s``/``worst_minute_why``.

    See Also
    --------
    write_report : the summary as an HTML page and a text file.

    Examples
    --------
    >>> labels = list("NNVVNNSSSNNVN")
    >>> t = pd.DataFrame({"sample": np.arange(13) * 200, "time_s": np.arange(13) * 0.8,
    ...                   "label": labels, "readable": True})
    >>> s = holter_summary(t, fs=250, duration_s=10.4)
    >>> s["counts"], s["runs"]["V"]["couplets"], s["runs"]["V"]["isolated"], s["runs"]["S"]["runs"]
    ({'N': 7, 'S': 3, 'V': 3}, 1, 1, 1)
    """
    t = _readable(table)
    labels = t["label"].to_numpy(str)
    classes = ["N", "S", "V"] + sorted(set(labels) - {"N", "S", "V"})
    counts = {c: int(np.sum(labels == c)) for c in classes}
    n = int(len(t))
    trend = heart_rate_trend(table, duration_s)
    hr = trend["hr_bpm"].to_numpy()
    runs_table = _run_table(table, fs)
    runs = {}
    for c in ECTOPIC:
        r = runs_table[runs_table["class"] == c]
        longest = r.loc[r["length"].idxmax()] if len(r) else None
        three = r[r["length"] >= 3]
        runs[c] = {"isolated": int(np.sum(r["length"] == 1)),
                   "couplets": int(np.sum(r["length"] == 2)),
                   "runs": int(len(three)),
                   "longest": int(longest["length"]) if longest is not None else 0,
                   "longest_at": float(longest["start_s"]) if longest is not None else None,
                   "fastest_bpm": float(three["rate_bpm"].max()) if len(three) else None}
    start, why = worst_minute(table, duration_s)
    has_hr = not np.all(np.isnan(hr))
    share = (float(readable_share) if readable_share is not None
             else float(table["readable"].mean()) if "readable" in table and len(table) else 1.0)
    return {
        "duration_s": float(duration_s), "readable_share": share,
        "beats": int(len(table)), "readable_beats": n, "counts": counts,
        "burden_pct": {c: (100.0 * counts[c] / n if n else float("nan")) for c in ECTOPIC},
        "hr_mean": float(np.nanmean(hr)) if has_hr else float("nan"),
        "hr_min": float(np.nanmin(hr)) if has_hr else float("nan"),
        "hr_min_at": float(trend["start_s"].iloc[np.nanargmin(hr)]) if has_hr else None,
        "hr_max": float(np.nanmax(hr)) if has_hr else float("nan"),
        "hr_max_at": float(trend["start_s"].iloc[np.nanargmax(hr)]) if has_hr else None,
        "runs": runs, "runs_table": runs_table, "trend": trend,
        "burden": hourly_burden(table, duration_s), "worst_minute_s": start,
        "worst_minute_why": why,
    }


def plot_heart_rate(trend: pd.DataFrame, ax=None):
    """Heart rate per minute against hours from the start; returns the Figure."""
    import matplotlib.pyplot as plt

    fig, ax = (plt.subplots(figsize=(10, 2.6)) if ax is None else (ax.figure, ax))
    ax.plot(trend["start_s"] / 3600, trend["hr_bpm"], lw=0.8, color="#333333")
    ax.set(xlabel="hours from start", ylabel="heart rate (bpm)",
           title="Heart rate (per minute, median RR)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_burden(burden: pd.DataFrame, ax=None):
    """S and V beats per hour as bars; returns the Figure."""
    import matplotlib.pyplot as plt

    fig, ax = (plt.subplots(figsize=(10, 2.6)) if ax is None else (ax.figure, ax))
    width = 0.4
    for k, c in enumerate(ECTOPIC):
        ax.bar(burden["hour"] + (k - 0.5) * width, burden[c], width, label=c,
               color=_COLOURS[c])
    ax.set(xlabel="hour from start", ylabel="beats", title="Ectopic beats per hour")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def plot_strip(signal, fs: float, table: pd.DataFrame, start_s: float, seconds: float = 60.0,
               row_s: float = 10.0, ax=None):
    """A labelled strip: ``seconds`` of the lead from ``start_s``, ``row_s`` per row.

    Each beat's label is written above its R peak (S blue, V red); unreadable stretches
    are shaded. ``ax``, if given, is a sequence of row axes. Returns the Figure.
    """
    import matplotlib.pyplot as plt

    n_rows = int(np.ceil(seconds / row_s))
    if ax is None:
        fig, axes = plt.subplots(n_rows, 1, figsize=(10, 1.3 * n_rows), sharey=True)
    else:
        axes = list(ax)
        fig = axes[0].figure
    axes = np.atleast_1d(axes)
    x = np.asarray(signal, dtype=float)
    times = table["time_s"].to_numpy(float)
    for k, a in enumerate(axes):
        t0 = start_s + k * row_s
        i0, i1 = int(t0 * fs), min(x.size, int((t0 + row_s) * fs))
        seg = x[i0:i1] - np.median(x[i0:i1]) if i1 > i0 else np.zeros(0)
        a.plot(np.arange(i0, i1) / fs, seg, lw=0.6, color="#333333")
        here = (times >= t0) & (times < t0 + row_s)
        top = np.max(seg) if seg.size else 1.0
        for t, label, ok in zip(times[here], table["label"].to_numpy(str)[here],
                                table["readable"].to_numpy(bool)[here]
                                if "readable" in table else np.ones(here.sum(), bool)):
            a.text(t, top * 1.1, label if ok else "?", ha="center", va="bottom", fontsize=7,
                   color=_COLOURS.get(label, "#777777"), fontweight="bold")
        a.set_xlim(t0, t0 + row_s)
        a.set_ylim(top=top * 1.45 if top > 0 else None)
        a.set_ylabel("mV", fontsize=7)
        a.tick_params(labelsize=7)
        a.text(0.002, 0.95, clock(t0), transform=a.transAxes, fontsize=7, va="top")
    axes[-1].set_xlabel("seconds from start")
    fig.tight_layout(h_pad=0.2)
    return fig


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(x, digits=0, unit="") -> str:
    return "n/a" if x is None or x != x else f"{x:.{digits}f}{unit}"


def report_text(summary: dict, name: str = "recording", lead: str = "",
                fs: float | None = None) -> str:
    """The summary as plain text (what the HTML page shows, without figures)."""
    s = summary
    c = s["counts"]
    lines = [f"Holter-style summary of {name}" + (f" (lead {lead}" if lead else "")
             + (f", {fs:g} Hz)" if fs else ")" if lead else ""),
             f"duration {clock(s['duration_s'])}; readable {100 * s['readable_share']:.1f} % "
             f"of the time",
             f"beats: {s['readable_beats']} readable of {s['beats']}; "
             + ", ".join(f"{k} {v}" for k, v in c.items()),
             f"ectopic burden: S {_fmt(s['burden_pct']['S'], 2, ' %')}, "
             f"V {_fmt(s['burden_pct']['V'], 2, ' %')} of readable beats",
             f"heart rate (per minute): mean {_fmt(s['hr_mean'])} bpm, min {_fmt(s['hr_min'])} "
             f"at {clock(s['hr_min_at'] or 0)}, max {_fmt(s['hr_max'])} at "
             f"{clock(s['hr_max_at'] or 0)}"]
    for k in ECTOPIC:
        r = s["runs"][k]
        longest = (f", longest {r['longest']} beats at {clock(r['longest_at'])}"
                   if r["longest"] else "")
        fastest = f", fastest run {_fmt(r['fastest_bpm'])} bpm" if r["fastest_bpm"] else ""
        lines.append(f"{k}: isolated {r['isolated']}, couplets {r['couplets']}, runs (3+) "
                     f"{r['runs']}{longest}{fastest}")
    lines.append(f"worst minute: {clock(s['worst_minute_s'])} ({s['worst_minute_why']})")
    events = s["runs_table"][s["runs_table"]["length"] >= 2]
    if len(events):
        lines.append("couplets and runs (class, beats, start, end, rate):")
        lines += [f"  {e['class']} {e['length']:>3d}  {clock(e['start_s'])} - "
                  f"{clock(e['end_s'])}  {_fmt(e['rate_bpm'])} bpm"
                  for _, e in events.head(TEXT_EVENTS).iterrows()]
        if len(events) > TEXT_EVENTS:
            lines.append(f"  ... and {len(events) - TEXT_EVENTS} more (the HTML report lists "
                         f"all)")
    lines.append("Beat labels come from a research model trained on MIT-BIH records: not a "
                 "medical device, not a diagnosis.")
    return "\n".join(lines) + "\n"


def report_html(summary: dict, signal, fs: float, table: pd.DataFrame, name: str = "recording",
                lead: str = "") -> str:
    """One self-contained HTML page: the text summary, three figures, the tables."""
    s = summary
    figures = {
        "heart rate": _png(plot_heart_rate(s["trend"])),
        "ectopic beats per hour": _png(plot_burden(s["burden"])),
        f"worst minute, {clock(s['worst_minute_s'])}: {s['worst_minute_why']}":
            _png(plot_strip(signal, fs, table, s["worst_minute_s"])),
    }
    events = s["runs_table"][s["runs_table"]["length"] >= 2].copy()
    events = pd.DataFrame({"class": events["class"], "beats": events["length"],
                           "kind": events["kind"], "start": events["start_s"].map(clock),
                           "end": events["end_s"].map(clock),
                           "rate (bpm)": events["rate_bpm"].round(0)})
    burden = s["burden"].drop(columns="hour")
    text = report_text(summary, name, lead, fs)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>Holter-style report: {html.escape(name)}</title><style>"
             "body{font-family:sans-serif;max-width:62em;margin:1em auto;padding:0 1em}"
             "table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;"
             "padding:.15em .5em;text-align:right}pre{background:#f6f6f6;padding:.6em}"
             "img{max-width:100%}</style></head><body>",
             f"<h1>Holter-style report: {html.escape(name)}</h1>",
             f"<pre id='summary'>{html.escape(text)}</pre>"]
    for title, png in figures.items():
        parts.append(f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,"
                     f"{png}'><figcaption>{html.escape(title)}</figcaption></figure>")
    parts.append("<h2>Ectopic burden per hour</h2>" + burden.to_html(index=False,
                                                                      na_rep="n/a"))
    parts.append(f"<h2>Couplets and runs ({len(events)})</h2>"
                 + (events.to_html(index=False, na_rep="n/a") if len(events) else "<p>none</p>"))
    parts.append("</body></html>")
    return "\n".join(parts)


def _write_text(path: Path, text: str) -> None:
    _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_report(table: pd.DataFrame, signal, fs: float, html_path, text_path=None,
                 name: str = "recording", lead: str = "", readable_share=None) -> dict:
    """Write the HTML report (and the text summary) of one recording; returns the summary.

    Each file is written whole or not at all. See :func:`holter_summary` for the numbers.
    """
    summary = holter_summary(table, fs, len(signal) / fs, readable_share)
    _write_text(Path(html_path), report_html(summary, signal, fs, table, name, lead))
    if text_path is not None:
        _write_text(Path(text_path), report_text(summary, name, lead, fs))
    return summary
