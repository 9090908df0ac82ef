"""Command line: ``python -m ecgutils fetch|annotate|score`` (``--help`` for each); after
``pip install``, ``ecgutils annotate ...`` is the same command.

``fetch`` is the one way to download into an ``ECG_DATA_DIR`` folder (chapters download by
themselves only into the per-user cache). Errors give one ``error:`` line, no traceback.
"""
import argparse
import sys

from .data import DATABASES, data_dir, ensure_records


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ecgutils",
                                     description="ecg-book's tools: fetch data, annotate "
                                                 "records with a saved model, score annotations.")
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download what is missing, verified by SHA-256, into "
                                         "the data root (ECG_DATA_DIR, else ~/.cache/ecgutils)")
    fetch.add_argument("databases", nargs="+", choices=sorted(DATABASES))
    fetch.add_argument("--records", nargs="*", default=None, help="only these records")

    annotate = sub.add_parser(
        "annotate", help="classify every beat of WFDB, EDF/BDF or CSV recordings with the "
                         "packaged model or a saved one; beat table, annotations and a "
                         "Holter-style report",
        description="Detect the R peaks of each recording, classify each beat (N, S, V) with "
                    "the model that ships with ecgutils (or --model), and write into DIR, "
                    "per recording NAME: NAME_beats.csv (sample, time, label, probabilities, "
                    "lead, readable), "
                    "NAME.<ext> (a WFDB annotation file that wfdb.rdann reads) and "
                    "NAME_report.html / NAME_report.txt (a Holter-style summary). Any "
                    "sampling rate; no reference annotation needed. Stretches that are missing, "
                    "flat or noise are not classified (marked ~). All files are written at the "
                    "end, or none if a recording fails; existing files are never replaced "
                    "without --force.")
    annotate.add_argument("records", nargs="+", metavar="RECORDING",
                          help="a WFDB record (folder/name, no extension), an .edf/.bdf file "
                               "or a .csv/.txt/.tsv file")
    annotate.add_argument("--model", default=None,
                          help="a saved model file, e.g. results/07_new_patients.keras (chapter "
                               "07's CNN) or results/07_new_patients_forest.skops (its random "
                               "forest); default: the model that ships with ecgutils "
                               "(ecgutils/pretrained/MODEL_CARD.md)")
    annotate.add_argument("--out", required=True, metavar="DIR", help="folder for the files")
    annotate.add_argument("--ext", default="cls", help="annotator name (file extension); "
                                                       "default cls; never hea, dat or atr")
    annotate.add_argument("--force", action="store_true",
                          help="replace existing files of that name, keeping each old one as "
                               "<name>.bak")
    annotate.add_argument("--fs", type=float, default=None,
                          help="sampling rate in Hz: required for CSV/TXT files")
    annotate.add_argument("--lead", default=None,
                          help="lead to use, by name (II finds 'ECG II'); default MLII, II or "
                               "ML2, else the first lead with a warning")
    annotate.add_argument("--column", default=None,
                          help="CSV/TXT: the column to use, by header name or number from 0")
    annotate.add_argument("--units", default=None, choices=["mV", "uV", "V"],
                          help="units of the samples; default the file's own, else inferred: "
                               "a typical QRS range (median 2-s peak-to-peak) of 30 or more "
                               "means uV, 0.05 to 30 mV")
    annotate.add_argument("--no-report", action="store_true",
                          help="skip the HTML and text reports")
    annotate.add_argument("--adapt", action="store_true",
                          help="record-adaptive labels: the recording's beats, clustered by "
                               "QRS shape, share their V probability (as Holter software "
                               "labels beat families; uses the recording's own unlabelled "
                               "beats; chapter 07 reports it apart)")

    score = sub.add_parser(
        "score", help="EC57 gross statistics of one annotation file against another",
        description="Match test beats to reference beats (150 ms) and print gross Se, +P and "
                    "F1 of N, S and V (AAMI classes), pooled over the records given. As EC57 "
                    "asks, the first 5 minutes of each record are not scored "
                    "(--learning-s) and fusion beats called V are no V false positives.")
    score.add_argument("records", nargs="+", metavar="RECORD",
                       help="record path as wfdb names it: folder/name, no extension")
    score.add_argument("--ref", default="atr", help="reference annotator (default atr)")
    score.add_argument("--test", required=True, help="annotator to score (e.g. cls)")
    score.add_argument("--per-record", action="store_true", help="also print one row per record")
    score.add_argument("--learning-s", type=float, default=300.0, metavar="SECONDS",
                       help="learning period left out at the start of each record (EC57: "
                            "300, the default; 0 scores every beat)")
    args = parser.parse_args(argv)

    from .annotate import InputError

    try:
        if args.command == "fetch":
            print(f"data root: {data_dir()}")
            for db in args.databases:
                print(f"{db}: {ensure_records(db, args.records, download=True)}")
        elif args.command == "annotate":
            from .own_recording import annotate_files

            annotate_files(args.records, args.model, args.out, args.fs, args.lead, args.column,
                           args.units, args.ext, report=not args.no_report, force=args.force,
                           adapt=args.adapt)
        else:
            from .annotate import format_statistics, score_records

            stats, per_record = score_records(args.records, args.ref, args.test,
                                              learning_s=args.learning_s)
            print(format_statistics(stats))
            if args.per_record:
                print(per_record.to_string(float_format=lambda v: f"{v:.3f}"))
    except KeyboardInterrupt:
        raise
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except Exception as err:  # one clear line, no traceback
        print(f"error: {str(err).splitlines()[0] if str(err) else type(err).__name__}",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
