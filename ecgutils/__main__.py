"""Command line: ``python -m ecgutils fetch mitdb qtdb cudb``.

This is the one way to download into an ``ECG_DATA_DIR`` folder (chapters download by
themselves only into the per-user cache). Errors give one ``error:`` line, no traceback.
"""
import argparse
import sys

from .data import DATABASES, data_dir, ensure_records


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ecgutils",
                                     description="Fetch PhysioNet databases into the data root "
                                                 "(ECG_DATA_DIR, else ~/.cache/ecgutils).")
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download what is missing, verified by SHA-256")
    fetch.add_argument("databases", nargs="+", choices=sorted(DATABASES))
    fetch.add_argument("--records", nargs="*", default=None, help="only these records")
    args = parser.parse_args(argv)
    print(f"data root: {data_dir()}")
    try:
        for db in args.databases:
            print(f"{db}: {ensure_records(db, args.records, download=True)}")
    except KeyboardInterrupt:
        raise
    except Exception as err:  # one clear line, no traceback
        print(f"error: {str(err).splitlines()[0] if str(err) else type(err).__name__}",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
