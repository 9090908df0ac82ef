"""Command line: ``python -m ecgutils fetch mitdb qtdb cudb``."""
import argparse

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
    for db in args.databases:
        print(f"{db}: {ensure_records(db, args.records)}")


if __name__ == "__main__":
    main()
